/**
 * Splits a byte stream into CRLF/LF-terminated lines (latin1 text); keeps at most `max` bytes
 * of a partial line (the rest is counted in `overflow`). Lines are searched in the bytes and
 * only complete lines become strings: a peer sending megabytes without a newline costs a
 * byte scan, not a growing string per segment.
 */
export class LineBuffer {
  private partial = ''
  overflow = 0

  constructor(private readonly max = 4096) {}

  /** No partial line is pending. */
  get empty(): boolean {
    return this.partial.length === 0
  }

  /** Drops a pending partial line. */
  clear(): void {
    this.partial = ''
  }

  push(data: Buffer, onLine: (line: string) => void): void {
    let off = 0
    for (;;) {
      const nl = data.indexOf(0x0a, off)
      if (nl < 0) break
      let line = this.partial.length === 0 ? data.toString('latin1', off, nl) : this.partial + data.toString('latin1', off, nl)
      this.partial = ''
      if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1)
      off = nl + 1
      onLine(line)
    }
    const rest = data.length - off
    if (rest === 0) return
    const take = Math.min(rest, Math.max(0, this.max - this.partial.length))
    if (take > 0) this.partial += data.toString('latin1', off, off + take)
    this.overflow += rest - take
  }
}
