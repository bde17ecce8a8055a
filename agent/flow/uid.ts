import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/**
 * Zeek-style connection uids: "C" + base62 of 96 random bits (Zeek's Conn uids have the
 * same shape). Random bytes are drawn in blocks so a uid costs no syscall.
 */
export class UidGenerator {
  private pool = Buffer.alloc(0)
  private pos = 0

  constructor(private readonly prefix = 'C') {}

  next(): string {
    if (this.pos + 12 > this.pool.length) {
      this.pool = randomBytes(12 * 1024)
      this.pos = 0
    }
    let out = this.prefix
    // Three 32-bit words, each written as up to 6 base62 digits (62^6 > 2^32 would need 6).
    for (let w = 0; w < 3; w++) {
      let v = this.pool.readUInt32BE(this.pos + w * 4)
      for (let i = 0; i < 6 && (v > 0 || i === 0); i++) {
        out += ALPHABET[v % 62]
        v = Math.floor(v / 62)
      }
    }
    this.pos += 12
    return out
  }
}
