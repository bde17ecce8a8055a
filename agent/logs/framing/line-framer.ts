import { isUtf8 } from 'node:buffer'

/**
 * Framing: where a record ends, independent of what it means. Newline-delimited bytes →
 * frames with their byte offsets. CRLF loses its CR; a line longer than `maxLineBytes` is
 * cut there (the rest up to the newline is skipped) and marked; bytes that are not UTF-8
 * are decoded with U+FFFD and marked; a partial last line is held until its newline or
 * until the owner calls `flushPartial()` (the partial-line timeout lives in the owner).
 * Memory held per framer ≤ maxLineBytes.
 */
export interface Frame {
  text: string
  /** Byte offset of the first byte of the line. */
  offset: number
  /** Byte offset just past the line terminator: where reading resumes after this frame. */
  nextOffset: number
  truncated: boolean
  invalidUtf8: boolean
}

export class LineFramer {
  private readonly maxLineBytes: number
  private held: Buffer[] = []
  private heldBytes = 0
  private lineStart: number
  /** Bytes past the limit being skipped until the next newline. */
  private skipping = false
  private position: number

  constructor(opts: { maxLineBytes: number; startOffset?: number }) {
    this.maxLineBytes = Math.max(1, opts.maxLineBytes)
    this.position = opts.startOffset ?? 0
    this.lineStart = this.position
  }

  /** Offset of the next byte expected by push(). */
  get offset(): number {
    return this.position
  }

  /** Bytes of an unfinished line currently held (or skipped). */
  get pendingBytes(): number {
    return this.position - this.lineStart
  }

  /** Drops any partial state and continues at `offset` (after truncation/rotation). */
  reset(offset: number): void {
    this.held = []
    this.heldBytes = 0
    this.skipping = false
    this.position = offset
    this.lineStart = offset
  }

  push(chunk: Buffer, out: (f: Frame) => void): void {
    let pos = 0
    const base = this.position
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos)
      if (nl === -1) {
        this.hold(chunk.subarray(pos))
        break
      }
      if (this.heldBytes === 0 && !this.skipping && nl - pos <= this.maxLineBytes) {
        // Fast path: the whole line is inside this chunk, decode it in place.
        this.emitSlice(chunk.subarray(pos, nl), base + nl + 1, out)
      } else {
        this.hold(chunk.subarray(pos, nl))
        this.emit(base + nl + 1, out, true)
      }
      pos = nl + 1
    }
    this.position = base + chunk.length
  }

  /** Emits the held partial line as a frame (partial-line timeout, end of a finished file). */
  flushPartial(out: (f: Frame) => void): void {
    if (this.position > this.lineStart) this.emit(this.position, out, false)
  }

  private hold(part: Buffer): void {
    if (part.length === 0) return
    if (this.skipping) return
    const room = this.maxLineBytes - this.heldBytes
    if (part.length > room) {
      if (room > 0) { this.held.push(Buffer.from(part.subarray(0, room))); this.heldBytes += room }
      this.skipping = true
      return
    }
    // Copy: the caller's buffer is reused for the next read.
    this.held.push(Buffer.from(part))
    this.heldBytes += part.length
  }

  private emitSlice(line: Buffer, nextOffset: number, out: (f: Frame) => void): void {
    const buf = line.length > 0 && line[line.length - 1] === 13 ? line.subarray(0, line.length - 1) : line
    const frame: Frame = { text: buf.toString('utf8'), offset: this.lineStart, nextOffset, truncated: false, invalidUtf8: !isUtf8(buf) }
    this.lineStart = nextOffset
    out(frame)
  }

  private emit(nextOffset: number, out: (f: Frame) => void, hadNewline: boolean): void {
    let buf = this.held.length === 1 ? this.held[0]! : Buffer.concat(this.held, this.heldBytes)
    if (hadNewline && !this.skipping && buf.length > 0 && buf[buf.length - 1] === 13) buf = buf.subarray(0, buf.length - 1)
    const valid = isUtf8(buf)
    const frame: Frame = {
      text: buf.toString('utf8'),
      offset: this.lineStart,
      nextOffset,
      truncated: this.skipping,
      invalidUtf8: !valid,
    }
    this.held = []
    this.heldBytes = 0
    this.skipping = false
    this.lineStart = nextOffset
    out(frame)
  }
}

/** Frames a whole in-memory buffer (parse-log, tests). The last line needs no newline. */
export function frameBuffer(buf: Buffer, maxLineBytes: number, out: (f: Frame) => void): void {
  const f = new LineFramer({ maxLineBytes })
  f.push(buf, out)
  f.flushPartial(out)
}
