/**
 * Append-only text file with a bounded in-memory buffer, shared by the log writers.
 *
 * Writes are collected as strings until `flushBytes` (default 256 KiB) is reached, then
 * written with one synchronous fs.writeSync. Sync writes in big chunks keep the writer simple
 * (no backpressure state, errors surface at the call that caused them) and fast: one syscall
 * per ~256 KiB, i.e. a few per second at 1M rows/minute. The buffer never exceeds flushBytes
 * plus one line. Any I/O error becomes AgentError OUTPUT_UNWRITABLE naming the path.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { AgentError, AgentErrorCode } from '../util/errors.js'

export const DEFAULT_FLUSH_BYTES = 256 * 1024

export class BufferedFileSink {
  private fd: number | undefined
  private parts: string[] = []
  private pending = 0
  private closed = false

  constructor(readonly filePath: string, private readonly flushBytes = DEFAULT_FLUSH_BYTES) {
    try {
      this.fd = openSync(filePath, 'w', 0o644)
    } catch (err) {
      throw unwritable(filePath, err)
    }
  }

  /** Queues text (lengths are counted in UTF-16 units, close enough to bytes for the bound). */
  append(text: string): void {
    if (this.closed) throw new AgentError(AgentErrorCode.OUTPUT_UNWRITABLE, `write to ${this.filePath} after close (a bug in the caller)`)
    this.parts.push(text)
    this.pending += text.length
    if (this.pending >= this.flushBytes) this.flush()
  }

  flush(): void {
    if (this.parts.length === 0 || this.fd === undefined) return
    const parts = this.parts
    this.parts = []
    this.pending = 0
    // Encode the parts one by one into a reused buffer: joining them first made a string of
    // flushBytes characters per flush, which V8 allocates in old space (large object), where
    // it stayed as garbage until the next full GC (~14 MB per 120k conn.log rows).
    const out = (this.out ??= Buffer.allocUnsafe(Math.max(64 * 1024, this.flushBytes * 3)))
    let used = 0
    try {
      for (const part of parts) {
        if (part.length * 3 > out.length - used) {
          this.writeAll(out, used)
          used = 0
          if (part.length * 3 > out.length) { const b = Buffer.from(part, 'utf8'); this.writeAll(b, b.length); continue }
        }
        used += out.write(part, used, 'utf8')
      }
      this.writeAll(out, used)
    } catch (err) {
      throw unwritable(this.filePath, err)
    }
  }

  private out: Buffer | undefined = undefined

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
