import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'

/**
 * A file's identity that survives renames and catches inode reuse:
 * `<dev hex>-<ino hex>-<checksum of the first line, at most N bytes>`.
 * The first line of an append-only log never changes once written, so the fingerprint is
 * stable while the file grows; a truncated-and-rewritten or a new file on a reused inode
 * gets a new one. Returns null while the file has no complete first line and fewer than N
 * bytes (the caller waits, or forces it after the partial-line timeout).
 */
export async function fingerprintFile(fh: FileHandle, dev: number | bigint, ino: number | bigint, headBytes: number, force = false): Promise<string | null> {
  const buf = Buffer.alloc(headBytes)
  const { bytesRead } = await fh.read(buf, 0, headBytes, 0)
  if (bytesRead === 0) return null
  const nl = buf.subarray(0, bytesRead).indexOf(10)
  let len: number
  if (nl !== -1) len = nl + 1
  else if (bytesRead === headBytes || force) len = bytesRead
  else return null
  const sum = createHash('sha256').update(buf.subarray(0, len)).digest('hex').slice(0, 16)
  return `${dev.toString(16)}-${ino.toString(16)}-${sum}`
}
