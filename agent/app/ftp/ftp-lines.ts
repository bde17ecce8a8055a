/**
 * Line splitting for one direction of an FTP control connection (Zeek's NVT analyzer with
 * LF_as_EOL: CRLF or a bare LF ends a line, the terminator is not part of it). Telnet option
 * negotiation (IAC sequences), which Zeek's NVT strips, is passed through unchanged.
 * Bounded: a line longer than `maxLine` is cut there (the rest up to the next LF is dropped and
 * counted in `truncated`).
 */
export class LineSplitter {
  truncated = 0
  private pending: Buffer = Buffer.alloc(0)
  private skipping = false

  constructor(private readonly maxLine: number) {}

  push(data: Buffer, onLine: (line: string) => void): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, data]) : data
    let off = 0
    for (;;) {
      const lf = buf.indexOf(0x0a, off)
      if (lf < 0) break
      if (this.skipping) {
        this.skipping = false
      } else {
        const end = lf > off && buf[lf - 1] === 0x0d ? lf - 1 : lf
        onLine(buf.toString('latin1', off, end))
      }
      off = lf + 1
    }
    buf = buf.subarray(off)
    if (this.skipping) buf = Buffer.alloc(0)
    else if (buf.length > this.maxLine) {
      onLine(buf.toString('latin1', 0, this.maxLine))
      this.truncated++
      this.skipping = true
      buf = Buffer.alloc(0)
    }
    this.pending = buf.length > 0 ? Buffer.from(buf) : Buffer.alloc(0)
  }

  get buffered(): number { return this.pending.length }
}
