/**
 * One JSON object per line (Zeek's JSON log style when fed connRecordToJson / weirdRecordToJson;
 * each line rendered by zeek-json.ts, byte strings as Zeek does).
 * Buffered like the TSV writer (BufferedFileSink); errors are AgentError OUTPUT_UNWRITABLE.
 */
import { BufferedFileSink } from './buffered-file-sink.js'
import { zeekJson } from './zeek-json.js'

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
    this.sink.append(zeekJson(obj) + '\n')
    this.count++
  }

  async close(): Promise<void> {
    this.sink.close()
  }
}
