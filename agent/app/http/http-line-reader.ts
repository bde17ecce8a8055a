/**
 * Splits one direction of an HTTP byte stream into lines, or hands over raw byte runs in
 * "plain delivery" mode (message bodies of known length, bodies read until close), as
 * Zeek's ContentLine_Analyzer does for HTTP: CR, LF and CRLF each end a line; a CR that
 * ended a line swallows an LF right after it, even across chunks and before plain data.
 *
 * Bound: a line longer than `maxLine` bytes is cut there: the first `maxLine` bytes are
 * handed over with `truncated = true` and the rest up to the end of line is skipped and
 * counted in `skippedBytes`.
 */
export interface LineSink {
  /** A complete line without its terminator. `line` may be a view: copy what you keep. */
  line(line: Buffer, truncated: boolean): void
  /** Raw bytes delivered in plain mode (a view). */
  plain(data: Buffer): void
}

const NO_PARTS: Buffer[] = Object.freeze([]) as unknown as Buffer[]
const EMPTY_LINE = Buffer.alloc(0)

export class HttpLineReader {
  /** Bytes still to deliver raw before returning to line mode; Infinity = until the end. */
  plainRemaining = 0
  /** Delivery is stopped (content gap outside a body, or analysis over). */
  stopped = false
  skippedBytes = 0
  longLines = 0
  /** Pieces of a line split across chunks (a shared empty list until the first one). */
  private parts: Buffer[] = NO_PARTS
  private partLen = 0
  private skipLF = false
  private discarding = false

  constructor(private readonly maxLine: number) {}

  /** Bytes of a line being assembled (not yet terminated). */
  get pendingLength(): number { return this.partLen }

  /** flush() would deliver nothing. */
  get idle(): boolean { return this.stopped || (this.partLen === 0 && !this.discarding) }

  feed(data: Buffer, sink: LineSink): void {
    let off = 0
    const n = data.length
    while (off < n && !this.stopped) {
      if (this.skipLF) {
        this.skipLF = false
        if (data[off] === 0x0a) { off++; continue }
      }
      if (this.plainRemaining > 0) {
        const take = Math.min(this.plainRemaining, n - off)
        this.plainRemaining -= take
        // A body segment taken whole (the usual case) is handed on as it is: no view per segment.
        const chunk = off === 0 && take === n ? data : data.subarray(off, off + take)
        off += take
        sink.plain(chunk)
        continue
      }
      let i = off
      while (i < n && data[i] !== 0x0a && data[i] !== 0x0d) i++
      if (i === n) {
        this.append(data.subarray(off, n))
        return
      }
      const eol = data[i]
      if (this.partLen === 0 && !this.discarding && i - off <= this.maxLine) {
        // Whole line inside this chunk: hand over a view, no copy (the blank line that ends
        // every header block: one shared empty buffer, not a view of nothing).
        const line = i === off ? EMPTY_LINE : data.subarray(off, i)
        if (eol === 0x0d) this.skipLF = true
        off = i + 1
        sink.line(line, false)
        continue
      }
      this.append(data.subarray(off, i))
      if (eol === 0x0d) this.skipLF = true
      off = i + 1
      this.emit(sink)
    }
  }

  /** End of stream: a pending unterminated line is delivered as a line (Zeek's EndpointEOF). */
  flush(sink: LineSink): void {
    if (this.stopped) return
    if (this.partLen > 0 || this.discarding) this.emit(sink)
  }

  /** Forget a partial line (after a gap). */
  reset(): void {
    this.parts = NO_PARTS
    this.partLen = 0
    this.discarding = false
    this.skipLF = false
  }

  private append(b: Buffer): void {
    if (b.length === 0) return
    if (this.discarding) { this.skippedBytes += b.length; return }
    const room = this.maxLine - this.partLen
    if (b.length > room) {
      if (room > 0) { this.part(Buffer.from(b.subarray(0, room))); this.partLen += room }
      this.skippedBytes += b.length - room
      this.discarding = true
      return
    }
    this.part(Buffer.from(b))
    this.partLen += b.length
  }

  private part(b: Buffer): void {
    if (this.parts === NO_PARTS) this.parts = [b]
    else this.parts.push(b)
  }

  private emit(sink: LineSink): void {
    const truncated = this.discarding
    if (truncated) this.longLines++
    const line = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partLen)
    this.parts = NO_PARTS
    this.partLen = 0
    this.discarding = false
    sink.line(line, truncated)
  }
}
