import { fillRandom } from '../util/random-bytes.js'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ALPHABET_CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0))

/**
 * Zeek-style connection uids: "C" + base62 of 96 random bits (Zeek's Conn uids have the
 * same shape). Random bytes are drawn in blocks so a uid costs no syscall.
 */
export class UidGenerator {
  private pool = Buffer.alloc(0)
  private pos = 0

  /** prefix (ASCII) + 3 × 6 base62 digits. */
  private readonly scratch: Buffer

  constructor(private readonly prefix = 'C') {
    this.scratch = Buffer.alloc(prefix.length + 18)
  }

  next(): string {
    if (this.pos + 12 > this.pool.length) {
      if (this.pool.length === 0) this.pool = Buffer.allocUnsafe(12 * 1024)
      fillRandom(this.pool)
      this.pos = 0
    }
    // The characters go into a scratch buffer and become one flat string (concatenating them
    // built a chain of 19 strings per uid).
    const b = this.scratch
    let n = 0
    for (let i = 0; i < this.prefix.length; i++) b[n++] = this.prefix.charCodeAt(i) & 0xff
    // Three 32-bit words, each written as up to 6 base62 digits (62^6 > 2^32 would need 6).
    const pool = this.pool
    for (let w = 0; w < 3; w++) {
      const o = this.pos + w * 4
      let v = pool[o]! * 0x1000000 + ((pool[o + 1]! << 16) | (pool[o + 2]! << 8) | pool[o + 3]!)
      for (let i = 0; i < 6 && (v > 0 || i === 0); i++) {
        b[n++] = ALPHABET_CODES[v % 62]!
        v = Math.floor(v / 62)
      }
    }
    this.pos += 12
    return b.toString('latin1', 0, n)
  }
}
