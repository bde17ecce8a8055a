import { createHash } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'

/** A file's identity and the head bytes it was computed from (see fingerprintFile). */
export interface Fingerprint {
  /** `<dev hex>-<ino hex>-<checksum of the head>`: the checkpoint key and event.id prefix. */
  id: string
  /** How many bytes from offset 0 the checksum covers. */
  headLen: number
  sum: string
}

const headSum = (head: Buffer): string => createHash('sha256').update(head).digest('hex').slice(0, 16)

/**
 * A file's identity that survives renames and catches inode reuse:
 * `<dev hex>-<ino hex>-<checksum of the first line, at most N bytes>`.
 * The first line of an append-only log never changes once written, so the fingerprint is
 * stable while the file grows; a truncated-and-rewritten or a new file on a reused inode
 * gets a new one. Returns null while the file has no complete first line and fewer than N
 * bytes (the caller waits, or forces it after the partial-line timeout).
 */
export async function fingerprintFile(fh: FileHandle, dev: number | bigint, ino: number | bigint, headBytes: number, force = false): Promise<Fingerprint | null> {
  const buf = Buffer.alloc(headBytes)
  const { bytesRead } = await fh.read(buf, 0, headBytes, 0)
  if (bytesRead === 0) return null
  const nl = buf.subarray(0, bytesRead).indexOf(10)
  let len: number
  if (nl !== -1) len = nl + 1
  else if (bytesRead === headBytes || force) len = bytesRead
  else return null
  const sum = headSum(buf.subarray(0, len))
  return { id: `${dev.toString(16)}-${ino.toString(16)}-${sum}`, headLen: len, sum }
}

/**
 * Whether the file still starts with the bytes its fingerprint was computed from. False after
 * a truncation that was written past the old read position before the tailer looked again
 * (copytruncate followed by a burst of writes): the size alone does not show that one.
 */
export async function headUnchanged(fh: FileHandle, fp: Fingerprint): Promise<boolean> {
  const buf = Buffer.alloc(fp.headLen)
  const { bytesRead } = await fh.read(buf, 0, fp.headLen, 0)
  return bytesRead === fp.headLen && headSum(buf) === fp.sum
}
