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

export class RecordReader {
  private carry: Buffer | undefined

  /**
   * Feeds bytes; calls `onRecord` for each complete record. `classify` looks at the first
   * header bytes of each record (Zeek's determine_ssl_record_layer); 'bad' stops reading.
   * Returns false once a record was classified 'bad' or `onRecord` returned false.
   */
  push(data: Buffer, classify: (h: Buffer) => RecordVerdict, onRecord: (r: TlsRecord) => boolean): boolean {
    let buf = data
    if (this.carry) {
      buf = Buffer.concat([this.carry, data])
      this.carry = undefined
    }
    let p = 0
    while (buf.length - p >= 5) {
      const head = buf.subarray(p, p + 5)
      const kind = classify(head)
      if (kind === 'bad') return false
      let total: number
      let rec: TlsRecord
      if (kind === 'v2') {
        total = 2 + (((head[0]! & 0x7f) << 8) | head[1]!)
        if (total < 3) return false
        if (buf.length - p < total) break
        rec = { contentType: 300 + head[2]!, version: 0, body: buf.subarray(p + 3, p + total) }
      } else {
        total = 5 + head.readUInt16BE(3)
        if (buf.length - p < total) break
        rec = { contentType: head[0]!, version: head.readUInt16BE(1), body: buf.subarray(p + 5, p + total) }
      }
      p += total
      if (!onRecord(rec)) return false
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

  /** Feeds the payload of one handshake record; calls `onMessage(type, body)` per complete message. */
  push(data: Buffer, onMessage: (type: number, body: Buffer) => boolean): boolean {
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
      if (!onMessage(type, body)) return false
    }
    if (p < buf.length) this.carry = Buffer.from(buf.subarray(p))
    return true
  }

  get buffered(): number {
    return this.carry?.length ?? 0
  }
}
