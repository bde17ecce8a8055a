/**
 * Test-only reader for Zeek ASCII (TSV) logs, e.g. the btest baselines in the shared corpus.
 *
 * Skips a leading btest header line ("### BTest baseline data ..."), reads the meta lines
 * (#separator, #set_separator, #empty_field, #unset_field, #path, #open, #fields, #types,
 * #close) and returns every data row as a Record keyed by field name, with the raw (still
 * escaped) text of each column. `-` and `(empty)` are returned as they appear; use
 * `isUnset` / `splitSet` / `unescapeZeek` to interpret them.
 */
import { readFileSync } from 'node:fs'

export interface ZeekLog {
  /** #path value ('' when absent). */
  path: string
  separator: string
  setSeparator: string
  emptyField: string
  unsetField: string
  fields: string[]
  types: string[]
  /** Meta lines exactly as in the file (btest line excluded), in order. */
  headerLines: string[]
  /** Data lines exactly as in the file (no trailing newline). */
  lines: string[]
  rows: Record<string, string>[]
}

function unescapeHeader(v: string): string {
  return v.replace(/\\x([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
}

export function parseZeekLog(text: string): ZeekLog {
  const log: ZeekLog = {
    path: '', separator: '\t', setSeparator: ',', emptyField: '(empty)', unsetField: '-',
    fields: [], types: [], headerLines: [], lines: [], rows: [],
  }
  const all = text.split('\n')
  if (all.length > 0 && all[all.length - 1] === '') all.pop()
  for (const line of all) {
    if (line.startsWith('### BTest') || line.startsWith('### ')) continue
    if (line.startsWith('#')) {
      log.headerLines.push(line)
      if (line.startsWith('#separator ')) {
        log.separator = unescapeHeader(line.slice('#separator '.length))
        continue
      }
      const sep = log.separator
      const cut = line.indexOf(sep)
      const key = cut < 0 ? line.slice(1).split(' ')[0]! : line.slice(1, cut)
      const value = cut < 0 ? '' : line.slice(cut + sep.length)
      switch (key) {
        case 'set_separator': log.setSeparator = unescapeHeader(value); break
        case 'empty_field': log.emptyField = unescapeHeader(value); break
        case 'unset_field': log.unsetField = unescapeHeader(value); break
        case 'path': log.path = value; break
        case 'fields': log.fields = value.split(sep); break
        case 'types': log.types = value.split(sep); break
        default: break
      }
      continue
    }
    log.lines.push(line)
    const cols = line.split(log.separator)
    const row: Record<string, string> = {}
    log.fields.forEach((f, i) => { row[f] = cols[i] ?? '' })
    log.rows.push(row)
  }
  return log
}

export function readZeekLog(file: string): ZeekLog {
  return parseZeekLog(readFileSync(file, 'utf8'))
}

export function isUnset(v: string | undefined, log?: ZeekLog): boolean {
  return v === undefined || v === (log?.unsetField ?? '-')
}

/** Splits a set/vector column; `(empty)` → [], `-` → undefined. Elements stay escaped. */
export function splitSet(v: string, log?: ZeekLog): string[] | undefined {
  if (v === (log?.unsetField ?? '-')) return undefined
  if (v === (log?.emptyField ?? '(empty)')) return []
  return v.split(log?.setSeparator ?? ',')
}

/** Undoes Zeek's string escaping (\xNN and \\). */
export function unescapeZeek(v: string): string {
  return v.replace(/\\x([0-9a-fA-F]{2})|\\\\/g, (_m, h: string | undefined) => (h === undefined ? '\\' : String.fromCharCode(parseInt(h, 16))))
}
