import { open, rename } from 'node:fs/promises'
import { makeDirSync } from '../../util/make-dir.js'
import { dirname } from 'node:path'

/**
 * Replaces `path` atomically and durably: write `path.tmp`, fsync it, rename over `path`,
 * fsync the directory. After a crash the file is either the old or the new content.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const dir = dirname(path)
  makeDirSync(dir)
  const tmp = `${path}.tmp`
  const fh = await open(tmp, 'w', 0o600)
  try {
    await fh.writeFile(data)
    await fh.sync()
  } finally {
    await fh.close()
  }
  await rename(tmp, path)
  const dh = await open(dir, 'r')
  try {
    await dh.sync()
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  } finally {
    await dh.close()
  }
}
