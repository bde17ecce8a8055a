/**
 * One JSON object per line (Zeek's JSON log style when fed connRecordToJson / weirdRecordToJson).
 * Buffered like the TSV writer (BufferedFileSink); errors are AgentError OUTPUT_UNWRITABLE.
 */
import { BufferedFileSink } from './buffered-file-sink.js'

export class NdjsonWriter {
  private readonly sink: BufferedFileSink
  private count = 0

  constructor(readonly filePath: string, opts?: { flushBytes?: number }) {
    this.sink = new BufferedFileSink(filePath, opts?.flushBytes)
  }

  get rows(): number {
    return this.count
  }

  write(obj: Record<string, unknown>): void {
    this.sink.append(JSON.stringify(obj) + '\n')
    this.count++
  }

  async close(): Promise<void> {
    this.sink.close()
  }
}
