/**
 * A Zeek ASCII (TSV) log file, byte-compatible with Zeek's default writer
 * (src/logging/writers/ascii/Ascii.cc): the meta header, one TAB-separated row per write()
 * rendered by zeek-value-format.ts, and a #close line. A row that would start with "#" gets
 * its first byte escaped (\x23), as Zeek does. #open/#close dates are local time formatted
 * %Y-%m-%d-%H-%M-%S, as Zeek's Ascii::Timestamp().
 *
 * Output is buffered (see BufferedFileSink); errors are AgentError OUTPUT_UNWRITABLE.
 */
import { BufferedFileSink } from './buffered-file-sink.js'
import { ZeekRowEncoder } from './zeek-row-bytes.js'
import { formatZeekValue, ZEEK_EMPTY_FIELD, ZEEK_SEPARATOR, ZEEK_SET_SEPARATOR, ZEEK_UNSET_FIELD, type ZeekType } from './zeek-value-format.js'

export type { ZeekType } from './zeek-value-format.js'

export interface ZeekField {
  name: string
  type: ZeekType
}

export interface ZeekAsciiWriterOptions {
  /** Time written in #open (default: now). */
  openTime?: Date
  /** Clock for the #close time (default: wall clock). */
  now?: () => Date
  /** Flush threshold of the in-memory buffer, in characters (default 256 KiB). */
  flushBytes?: number
}

/** Zeek's Ascii::Timestamp format: local time, %Y-%m-%d-%H-%M-%S. */
export function formatZeekLogDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`
}

/** The header lines Zeek writes before the first row (each ends with "\n"). */
export function zeekLogHeader(logPath: string, fields: readonly ZeekField[], openTime: Date): string {
  const meta = (key: string, value: string): string => `#${key}${ZEEK_SEPARATOR}${value}\n`
  return '#separator \\x09\n' +
    meta('set_separator', ZEEK_SET_SEPARATOR) +
    meta('empty_field', ZEEK_EMPTY_FIELD) +
    meta('unset_field', ZEEK_UNSET_FIELD) +
    meta('path', escapeHeaderValue(logPath)) +
    meta('open', formatZeekLogDate(openTime)) +
    meta('fields', fields.map((f) => f.name).join(ZEEK_SEPARATOR)) +
    meta('types', fields.map((f) => f.type).join(ZEEK_SEPARATOR))
}

/** Zeek's get_escaped_string(s, false): whitespace and non-printable bytes as \xNN. */
function escapeHeaderValue(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    out += b > 0x20 && b < 0x7f ? String.fromCharCode(b) : '\\x' + b.toString(16).padStart(2, '0')
  }
  return out
}

/** Column texts of the row being rendered (one join makes one flat string, not two cons strings per column). */
const columns: string[] = []

/** Renders one row (without the newline) as Zeek would. */
export function formatZeekRow(fields: readonly ZeekField[], values: readonly unknown[]): string {
  const n = fields.length
  columns.length = n
  for (let i = 0; i < n; i++) columns[i] = formatZeekValue(fields[i]!.type, values[i])
  let line = columns.join(ZEEK_SEPARATOR)
  if (line.charCodeAt(0) === 0x23) line = '\\x23' + line.slice(1)
  return line
}

export class ZeekAsciiWriter {
  private readonly sink: BufferedFileSink
  private readonly now: () => Date
  private count = 0
  /** Renders writeRecord's rows into bytes (made on the first one). */
  private encoder: ZeekRowEncoder | undefined

  constructor(readonly filePath: string, readonly logPath: string, readonly fields: readonly ZeekField[], opts?: ZeekAsciiWriterOptions) {
    this.now = opts?.now ?? ((): Date => new Date())
    this.sink = new BufferedFileSink(filePath, opts?.flushBytes)
    this.sink.append(zeekLogHeader(logPath, fields, opts?.openTime ?? this.now()))
  }

  /** Rows written so far. */
  get rows(): number {
    return this.count
  }

  /** values[i] belongs to fields[i]; undefined/null is written as "-". */
  write(values: readonly unknown[]): void {
    this.sink.append(formatZeekRow(this.fields, values) + '\n')
    this.count++
  }

  /**
   * A row given as a record keyed by field name (missing = unset): the same line as
   * write(fields.map((f) => row[f.name])), rendered straight into the sink's bytes by a
   * ZeekRowEncoder (no text per column, no row string; zeek-row-bytes.ts).
   */
  writeRecord(row: Readonly<Record<string, unknown>>): void {
    const enc = (this.encoder ??= new ZeekRowEncoder(this.fields))
    // +3: a leading "#" is written as "\x23".
    const max = enc.maxBytes(row) + 3
    const out = this.sink.reserve(max)
    if (out === undefined) { this.write(this.fields.map((f) => row[f.name])); return }
    const start = this.sink.offset
    let end = enc.encode(out, start)
    if (out[start] === 0x23) {
      out.copyWithin(start + 4, start + 1, end)
      out[start] = 0x5c; out[start + 1] = 0x78; out[start + 2] = 0x32; out[start + 3] = 0x33
      end += 3
    }
    this.sink.commit(end)
    this.count++
  }

  /** A row already rendered by a column-specific formatter (without the newline). */
  writeLine(line: string): void {
    this.sink.append((line.charCodeAt(0) === 0x23 ? '\\x23' + line.slice(1) : line) + '\n')
    this.count++
  }

  /**
   * For rows rendered straight into bytes (conn-log-bytes.ts): a buffer with room for
   * `maxBytes` at rowOffset, or undefined (then use writeLine). The row must not start with
   * "#" (first columns are times or counts) and must end with its newline; finish with commitRow.
   */
  reserveRow(maxBytes: number): Buffer | undefined {
    return this.sink.reserve(maxBytes)
  }

  get rowOffset(): number {
    return this.sink.offset
  }

  commitRow(end: number): void {
    this.sink.commit(end)
    this.count++
  }

  /** `rows` complete rows already rendered as bytes, each ending with its newline (the WebAssembly flow core's). */
  writeRows(bytes: Uint8Array, rows: number): void {
    const out = this.sink.reserve(bytes.length)
    if (out === undefined) this.sink.append(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'))
    else {
      out.set(bytes, this.sink.offset)
      this.sink.commit(this.sink.offset + bytes.length)
    }
    this.count += rows
  }

  /** Writes #close, flushes and closes the file. */
  async close(): Promise<void> {
    this.sink.append(`#close${ZEEK_SEPARATOR}${formatZeekLogDate(this.now())}\n`)
    this.sink.close()
  }
}
