/**
 * TLS record framing for one direction of a TCP stream, and handshake-message reassembly
 * across records. Chunks may split records anywhere; one record may hold several handshake
 * messages and one message may span several records.
 *
 * Bounds: a record is at most 5 + 65535 bytes (its length field), so the carried-over buffer
 * never exceeds that plus one chunk; a handshake message larger than `maxMessage` is skipped
 * and counted (`oversized`), never buffered.
 */

export interface TlsRecord {
  /** TLS content type (20..24…) or, for SSLv2 records, 300 + the SSLv2 message type. */
  contentType: number
  /** Record-layer version (0 for SSLv2 records). */
  version: number
  /** Record payload (for SSLv2: the bytes after the message type). A view: copy what you keep. */
  body: Buffer
}

export type RecordVerdict = 'v3' | 'v2' | 'bad'

/**
 * Where a reader's records go (the TLS session): methods, not closures made per chunk.
 * `classifyRecord` looks at the 5 header bytes at `b[p]`; `onRecord` gets the record's
 * content type (300 + message type for SSLv2) and its body (a view: copy what you keep).
 */
export interface RecordTarget {
  classifyRecord(b: Buffer, p: number, isOrig: boolean): RecordVerdict
  onRecord(isOrig: boolean, contentType: number, body: Buffer): boolean
}

/** Where a handshake reader's messages go. */
export interface HandshakeTarget {
  onHandshake(isOrig: boolean, type: number, body: Buffer): boolean
}

export class RecordReader {
  private carry: Buffer | undefined

  /**
   * Feeds bytes; calls `to.onRecord` for each complete record. `to.classifyRecord` looks at
   * the first header bytes of each record (Zeek's determine_ssl_record_layer); 'bad' stops
   * reading. Returns false once a record was classified 'bad' or `onRecord` returned false.
   */
  push(data: Buffer, isOrig: boolean, to: RecordTarget): boolean {
    let buf = data
    if (this.carry) {
      buf = Buffer.concat([this.carry, data])
      this.carry = undefined
    }
    let p = 0
    while (buf.length - p >= 5) {
      const kind = to.classifyRecord(buf, p, isOrig)
      if (kind === 'bad') return false
      let total: number
      let contentType: number
      let bodyOff: number
      if (kind === 'v2') {
        total = 2 + (((buf[p]! & 0x7f) << 8) | buf[p + 1]!)
        if (total < 3) return false
        if (buf.length - p < total) break
        contentType = 300 + buf[p + 2]!
        bodyOff = 3
      } else {
        total = 5 + ((buf[p + 3]! << 8) | buf[p + 4]!)
        if (buf.length - p < total) break
        contentType = buf[p]!
        bodyOff = 5
      }
      const body = buf.subarray(p + bodyOff, p + total)
      p += total
      if (!to.onRecord(isOrig, contentType, body)) return false
    }
    if (p < buf.length) this.carry = Buffer.from(buf.subarray(p))
    return true
  }

  get buffered(): number {
    return this.carry?.length ?? 0
  }
}

export class HandshakeReader {
  private carry: Buffer | undefined
  private skip = 0
  oversized = 0

  constructor(private readonly maxMessage: number) {}

  /** Feeds the payload of one handshake record; calls `to.onHandshake(isOrig, type, body)` per complete message. */
  push(data: Buffer, isOrig: boolean, to: HandshakeTarget): boolean {
    let buf = data
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length)
      this.skip -= n
      buf = buf.subarray(n)
    }
    if (this.carry) {
      buf = Buffer.concat([this.carry, buf])
      this.carry = undefined
    }
    let p = 0
    while (buf.length - p >= 4) {
      const type = buf[p]!
      const len = buf.readUIntBE(p + 1, 3)
      if (len > this.maxMessage) {
        this.oversized++
        const avail = buf.length - p - 4
        if (avail >= len) { p += 4 + len; continue }
        this.skip = len - avail
        return true
      }
      if (buf.length - p - 4 < len) break
      const body = buf.subarray(p + 4, p + 4 + len)
      p += 4 + len
      if (!to.onHandshake(isOrig, type, body)) return false
    }
    if (p < buf.length) this.carry = Buffer.from(buf.subarray(p))
    return true
  }

  get buffered(): number {
    return this.carry?.length ?? 0
  }
}
