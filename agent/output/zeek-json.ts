/**
 * One log row as one Zeek JSON object (Zeek's LogAscii::use_json=T): the text `replay --json`
 * writes per line and the `zeek_json` of an AppRecord shipped to the collector. One module
 * so both stay byte-identical. Unset (undefined) fields are left out, as JSON.stringify does.
 *
 * Byte strings (names, TXT records… that are not valid UTF-8) are written as text with the
 * invalid bytes as \xNN, as Zeek's JSON writer does; valid UTF-8 is kept as is.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true })

export function zeekJsonReplacer(_key: string, value: unknown): unknown {
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

/**
 * True when some value needs the replacer: a byte string, or any object other than an array
 * of primitives (checked conservatively, one level deep). Most rows hold only strings,
 * numbers, booleans and arrays of them, and JSON.stringify without a replacer is ~1.5× faster.
 */
function needsReplacer(row: Record<string, unknown>): boolean {
  for (const k in row) {
    const v = row[k]
    if (typeof v !== 'object' || v === null) continue
    if (!Array.isArray(v)) return true
    for (let i = 0; i < v.length; i++) { const x: unknown = v[i]; if (typeof x === 'object' && x !== null) return true }
  }
  return false
}

/** The row as one line of Zeek JSON (no newline). Throws only where JSON.stringify does (a BigInt, a cycle). */
export function zeekJson(row: Record<string, unknown>): string {
  return needsReplacer(row) ? JSON.stringify(row, zeekJsonReplacer) : JSON.stringify(row)
}
