/**
 * Append-only text file with a bounded in-memory buffer, shared by the log writers.
 *
 * Writes are encoded into one reused byte buffer until `flushBytes` (default 256 KiB) is
 * reached, then written with one synchronous fs.writeSync. Sync writes in big chunks keep the writer simple
 * (no backpressure state, errors surface at the call that caused them) and fast: one syscall
 * per ~256 KiB, i.e. a few per second at 1M rows/minute. The buffer never exceeds flushBytes
 * plus one line. Any I/O error becomes AgentError OUTPUT_UNWRITABLE naming the path.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { AgentError, AgentErrorCode } from '../util/errors.js'

export const DEFAULT_FLUSH_BYTES = 256 * 1024

export class BufferedFileSink {
  private fd: number | undefined
  /** Encoded bytes not yet written: out[0, used). Allocated on the first append. */
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

  private buffer(): Buffer {
    // flushBytes of text is at most 3 × flushBytes of UTF-8; a little more holds the line that crosses it.
    return (this.out ??= Buffer.allocUnsafe(Math.max(64 * 1024, this.flushBytes * 3 + 4096)))
  }

  /**
   * Queues text, encoded into the byte buffer at once: no array of strings, and no string of
   * flushBytes characters (V8 puts such a string in old space, where it stays as garbage
   * until the next full GC: ~14 MB per 120k conn.log rows, measured).
   */
  append(text: string): void {
    this.checkOpen()
    const out = this.buffer()
    const max = text.length * 3
    if (this.used + max > out.length) {
      this.flush()
      if (max > out.length) {
        const b = Buffer.from(text, 'utf8')
        this.writeAll(b, b.length)
        return
      }
    }
    this.used += out.write(text, this.used, 'utf8')
    if (this.used >= this.flushBytes) this.flush()
  }

  /**
   * For writers that render rows straight into bytes: a buffer with room for `maxBytes` at
   * `offset`, or undefined when no buffer is that large (append a string instead). Finish
   * with commit(end).
   */
  reserve(maxBytes: number): Buffer | undefined {
    this.checkOpen()
    const out = this.buffer()
    if (this.used + maxBytes > out.length) this.flush()
    return maxBytes <= out.length ? out : undefined
  }

  /** Where the bytes of a reserve() go. */
  get offset(): number {
    return this.used
  }

  /** The bytes up to `end` of the reserved buffer are written. */
  commit(end: number): void {
    this.used = end
    if (end >= this.flushBytes) this.flush()
  }

  flush(): void {
    if (this.used === 0 || this.fd === undefined) return
    const n = this.used
    this.used = 0
    this.writeAll(this.out!, n)
  }

  private checkOpen(): void {
    if (this.closed) throw new AgentError(AgentErrorCode.OUTPUT_UNWRITABLE, `write to ${this.filePath} after close (a bug in the caller)`)
  }

  private writeAll(buf: Buffer, len: number): void {
    let off = 0
    try {
      while (off < len) off += writeSync(this.fd!, buf, off, len - off)
    } catch (err) {
      throw unwritable(this.filePath, err)
    }
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
