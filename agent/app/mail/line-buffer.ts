/** Splits a byte stream into CRLF/LF-terminated lines; keeps at most `max` bytes of a partial line. */
export class LineBuffer {
  private partial = ''
  overflow = 0

  constructor(private readonly max = 4096) {}

  push(data: Buffer, onLine: (line: string) => void): void {
    let text = this.partial + data.toString('latin1')
    let nl = text.indexOf('\n')
    while (nl >= 0) {
      const line = text.charCodeAt(nl - 1) === 13 ? text.slice(0, nl - 1) : text.slice(0, nl)
      onLine(line)
      text = text.slice(nl + 1)
      nl = text.indexOf('\n')
    }
    if (text.length > this.max) {
      this.overflow += text.length - this.max
      text = text.slice(0, this.max)
    }
    this.partial = text
  }
}
