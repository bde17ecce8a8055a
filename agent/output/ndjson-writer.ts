/**
 * One JSON object per line (Zeek's JSON log style when fed connRecordToJson / weirdRecordToJson).
 * Buffered like the TSV writer (BufferedFileSink); errors are AgentError OUTPUT_UNWRITABLE.
 */
import { BufferedFileSink } from './buffered-file-sink.js'

/**
 * Byte strings (names, TXT records… that are not valid UTF-8) are written as text with the
 * invalid bytes as \xNN, as Zeek's JSON writer does; valid UTF-8 is kept as is.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true })

function replacer(_key: string, value: unknown): unknown {
  // Buffer#toJSON runs before the replacer: turn its {type, data} form back into bytes.
  if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    value = Uint8Array.from((value as { data: number[] }).data)
  }
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value)
    } catch {
      // not valid UTF-8: escape byte by byte below
    }
    let out = ''
    const text = Buffer.from(value.buffer, value.byteOffset, value.length).toString('latin1')
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      out += c >= 0x20 && c < 0x7f ? text[i] : `\\x${c.toString(16).padStart(2, '0')}`
    }
    return out
  }
  return value
}

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
    this.sink.append(JSON.stringify(obj, replacer) + '\n')
    this.count++
  }

  async close(): Promise<void> {
    this.sink.close()
  }
}
