/** Parsing of the API's time and cursor parameters (pure); errors name the parameter. */
import { CollectorError } from '../errors.js'

/** "2024-05-01T10:00:00Z", epoch seconds ("1714557600", "1714557600.5") or relative ("-15m", "-2h", "-7d"). */
export function parseTime(param: string, text: string | undefined, nowUs: number): number | undefined {
  if (text === undefined || text === '') return undefined
  const rel = /^-(\d+)(s|m|h|d)$/.exec(text)
  if (rel !== null) return nowUs - Number(rel[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[rel[2] as 's' | 'm' | 'h' | 'd'] * 1_000_000
  if (/^\d{9,11}(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1_000_000)
  const ms = Date.parse(text)
  if (Number.isFinite(ms) && /^\d{4}-\d{2}-\d{2}/.test(text)) return ms * 1000
  throw new CollectorError('BAD_REQUEST', `query parameter "${param}": "${text}" is not a time (ISO 8601 like 2024-05-01T10:00:00Z, epoch seconds, or relative like -15m, -2h, -7d)`)
}

export interface TimeRange { fromUs: number; toUs: number }

export function timeRange(q: { from?: string; to?: string }, nowUs: number, defaultSpanUs?: number): TimeRange {
  const toUs = parseTime('to', q.to, nowUs) ?? (defaultSpanUs === undefined ? Number.MAX_SAFE_INTEGER : nowUs)
  const fromUs = parseTime('from', q.from, nowUs) ?? (defaultSpanUs === undefined ? 0 : toUs - defaultSpanUs)
  if (fromUs > toUs) throw new CollectorError('BAD_REQUEST', 'query parameter "from": the start is after "to"')
  return { fromUs, toUs }
}

export interface Cursor { minTsUs: number; n: number; i: number }

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.minTsUs}.${c.n}.${c.i}`).toString('base64url')
}

export function decodeCursor(text: string | undefined): Cursor | undefined {
  if (text === undefined || text === '') return undefined
  const m = /^(\d{1,16})\.(\d{1,16})\.(\d{1,9})$/.exec(Buffer.from(text, 'base64url').toString('latin1'))
  if (m === null) throw new CollectorError('BAD_REQUEST', 'query parameter "cursor": not a cursor returned by this API (pass next_cursor as is)')
  return { minTsUs: Number(m[1]), n: Number(m[2]), i: Number(m[3]) }
}
