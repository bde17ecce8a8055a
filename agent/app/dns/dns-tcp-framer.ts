/**
 * DNS over TCP: each message is preceded by a 2-byte length (RFC 1035 4.2.2). Mirrors Zeek's
 * Contents_DNS state machine, including its corner cases: a zero length yields an empty
 * message when the next bytes arrive, content gaps are not resynchronised (the bytes after
 * a gap are read as if contiguous), and a partial message is handed over on `flush()`.
 * Memory: one buffer of at most 65,535 bytes per direction.
 */
const LEN_HI = 0
const LEN_LO = 1
const BODY = 2

export class DnsTcpFramer {
  private state = LEN_HI
  private size = 0
  private buf: Buffer | undefined
  private have = 0

  constructor(private readonly onMessage: (msg: Buffer, partial: boolean) => void) {}

  push(data: Uint8Array): void {
    let off = 0
    while (off < data.length) {
      if (this.state === LEN_HI) {
        this.size = data[off++]! << 8
        this.state = LEN_LO
        if (off === data.length) return
      }
      if (this.state === LEN_LO) {
        this.size += data[off++]!
        this.state = BODY
        this.have = 0
        if (!this.buf || this.buf.length < this.size) this.buf = Buffer.allocUnsafe(Math.max(this.size, 512))
        if (off === data.length) return
      }
      const n = Math.min(this.size - this.have, data.length - off)
      if (n > 0) {
        this.buf!.set(data.subarray(off, off + n), this.have)
        this.have += n
        off += n
      }
      if (this.have < this.size) return
      this.onMessage(this.buf!.subarray(0, this.size), false)
      this.have = 0
      this.state = LEN_HI
    }
  }

  /** Zeek's Contents_DNS::Flush at connection close: a partially received message is parsed. */
  flush(): void {
    if (this.state === BODY && this.have > 0) {
      const part = this.buf!.subarray(0, this.have)
      this.have = 0
      this.size = 0
      this.onMessage(part, true)
    }
  }

  /** Bytes currently buffered. */
  get buffered(): number {
    return this.state === BODY ? this.have : 0
  }
}
