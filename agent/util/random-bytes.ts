/**
 * Random bytes for uids, without loading node:crypto (~20 ms of start-up for every replay):
 * read from the kernel's generator, /dev/urandom (what crypto.randomBytes draws from too);
 * node:crypto where that device cannot be read.
 */
import { closeSync, openSync, readSync } from 'node:fs'

let fd: number | undefined

/** Fills `buf[off, off + len)` with random bytes. */
export function fillRandom(buf: Uint8Array, off = 0, len = buf.length - off): void {
  try {
    fd ??= openSync('/dev/urandom', 'r')
    let got = 0
    while (got < len) {
      const n = readSync(fd, buf, off + got, len - got, null)
      if (n <= 0) throw new Error('short read from /dev/urandom')
      got += n
    }
  } catch {
    if (fd !== undefined) { try { closeSync(fd) } catch { /* already unusable */ } }
    fd = undefined
    const c = process.getBuiltinModule('node:crypto') as typeof import('node:crypto')
    c.randomFillSync(buf, off, len)
  }
}
