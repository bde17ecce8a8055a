/**
 * Append-only text file with a bounded in-memory buffer, shared by the log writers.
 *
 * Writes are encoded into a reused buffer until `flushBytes` (default 256 KiB) is reached,
 * then written with one synchronous fs.writeSync. Sync writes in big chunks keep the writer simple
 * (no backpressure state, errors surface at the call that caused them) and fast: one syscall
 * per ~256 KiB, i.e. a few per second at 1M rows/minute. The buffer never exceeds flushBytes
 * plus one line. Any I/O error becomes AgentError OUTPUT_UNWRITABLE naming the path.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { AgentError, AgentErrorCode } from '../util/errors.js'

export const DEFAULT_FLUSH_BYTES = 256 * 1024
/** Room beyond flushBytes for the text that crosses it. */
const MARGIN_BYTES = 64 * 1024

export class BufferedFileSink {
  private fd: number | undefined
  /**
   * Text is encoded into this buffer as it is appended, and the buffer written once it holds
   * `flushBytes`. Queuing the strings until a flush (as before) kept every row string alive
   * across many young-generation collections, each of which copied them again (and joining
   * them made a large old-space string per flush). Room: flushBytes plus a margin for the
   * text that crosses it; a text too big for the margin is written on its own.
   */
  private out: Buffer | undefined = undefined
  private used = 0
  private closed = false

  constructor(readonly filePath: string, private readonly flushBytes = DEFAULT_FLUSH_BYTES) {
    try {
      this.fd = openSync(filePath, 'w', 0o644)
    } catch (err) {
      throw unwritable(filePath, err)
    }
  }

  /** Appends text (UTF-8); written to the file once `flushBytes` bytes are pending. */
  append(text: string): void {
    if (this.closed) throw new AgentError(AgentErrorCode.OUTPUT_UNWRITABLE, `write to ${this.filePath} after close (a bug in the caller)`)
    const out = (this.out ??= Buffer.allocUnsafe(this.flushBytes + MARGIN_BYTES))
    try {
      // A UTF-16 unit is at most 3 bytes of UTF-8.
      if (this.used + text.length * 3 > out.length) {
        this.flush()
        if (text.length * 3 > out.length) {
          const b = Buffer.from(text, 'utf8')
          this.writeAll(b, b.length)
          return
        }
      }
      this.used += out.write(text, this.used, 'utf8')
    } catch (err) {
      throw err instanceof AgentError ? err : unwritable(this.filePath, err)
    }
    if (this.used >= this.flushBytes) this.flush()
  }

  flush(): void {
    if (this.used === 0 || this.fd === undefined || this.out === undefined) return
    const n = this.used
    this.used = 0
    try {
      this.writeAll(this.out, n)
    } catch (err) {
      throw unwritable(this.filePath, err)
    }
  }

  private writeAll(buf: Buffer, len: number): void {
    let off = 0
    while (off < len) off += writeSync(this.fd!, buf, off, len - off)
  }

  /** Flushes and closes; the first error (flush or close) is thrown after the fd is released. */
  close(): void {
    if (this.closed) return
    let error: unknown
    try {
      this.flush()
    } catch (err) {
      error = err
    }
    this.closed = true
    const fd = this.fd
    this.fd = undefined
    if (fd !== undefined) {
      try {
        closeSync(fd)
      } catch (err) {
        error ??= unwritable(this.filePath, err)
      }
    }
    if (error !== undefined) throw error
  }
}

function unwritable(path: string, err: unknown): AgentError {
  const why = err instanceof Error ? err.message : String(err)
  return new AgentError(AgentErrorCode.OUTPUT_UNWRITABLE, `cannot write ${path}: ${why}; check the directory exists, is writable and has free space`, { cause: err })
}
