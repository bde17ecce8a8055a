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
    const buf = Buffer.from(this.parts.length === 1 ? this.parts[0]! : this.parts.join(''), 'utf8')
    this.parts = []
    this.pending = 0
    try {
      let off = 0
      while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off)
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
