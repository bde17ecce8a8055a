/**
 * Timestamps found in log lines → epoch milliseconds. Year-less RFC 3164 dates get their
 * year inferred: the current year, unless that puts the date more than 31 days in the
 * future (a December line read in January), then the previous year. `year` overrides.
 */
export interface TimeOptions {
  /** "now" for year inference (epoch ms). */
  nowMs: number
  /** Force the year of year-less dates (tests, replaying old files). */
  year?: number
  /** Interpret zone-less times as UTC instead of the agent's local zone. */
  utc?: boolean
}

const FUTURE_SLACK_MS = 31 * 24 * 3600 * 1000
const MONTHS = 'JanFebMarAprMayJunJulAugSepOctNovDec'

/** 'Jan' → 0 … 'Dec' → 11 (case-sensitive first letter, as syslog writes them), -1 otherwise. */
export function monthIndex(s: string, at: number): number {
  if (at + 3 > s.length) return -1
  const a = s.charCodeAt(at)
  if (a < 65 || a > 90) return -1
  for (let m = 0; m < 12; m++) {
    if (MONTHS.charCodeAt(m * 3) === a && MONTHS.charCodeAt(m * 3 + 1) === s.charCodeAt(at + 1) &&
        MONTHS.charCodeAt(m * 3 + 2) === s.charCodeAt(at + 2)) return m
  }
  return -1
}

function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48
  const b = s.charCodeAt(i + 1) - 48
  if (a < 0 || a > 9 || b < 0 || b > 9) return -1
  return a * 10 + b
}

export interface ParsedTime { ms: number; end: number }

function compose(year: number, month: number, day: number, h: number, mi: number, sec: number, ms: number, utc: boolean): number {
  return utc ? Date.UTC(year, month, day, h, mi, sec, ms) : new Date(year, month, day, h, mi, sec, ms).getTime()
}

/**
 * `Mmm dd hh:mm:ss` / `Mmm  d hh:mm:ss` / `Mmm d hh:mm:ss` (optional `.fff`) at `at`.
 * Returns end index (just past the time) or null.
 */
export function parseBsdTime(s: string, at: number, opts: TimeOptions): ParsedTime | null {
  const month = monthIndex(s, at)
  if (month < 0 || s.charCodeAt(at + 3) !== 32) return null
  let i = at + 4
  if (s.charCodeAt(i) === 32) i++
  let day = s.charCodeAt(i) - 48
  if (day < 0 || day > 9) return null
  i++
  const c = s.charCodeAt(i) - 48
  if (c >= 0 && c <= 9) { day = day * 10 + c; i++ }
  if (day < 1 || day > 31 || s.charCodeAt(i) !== 32) return null
  i++
  const h = d2(s, i)
  const mi = d2(s, i + 3)
  const sec = d2(s, i + 6)
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || s.charCodeAt(i + 2) !== 58 || s.charCodeAt(i + 5) !== 58) return null
  i += 8
  let frac = 0
  if (s.charCodeAt(i) === 46) {
    i++
    let digits = 0
    while (i < s.length) {
      const x = s.charCodeAt(i) - 48
      if (x < 0 || x > 9) break
      if (digits < 3) frac = frac * 10 + x
      digits++
      i++
    }
    while (digits < 3 && digits > 0) { frac *= 10; digits++ }
  }
  const utc = opts.utc ?? false
  let year = opts.year ?? new Date(opts.nowMs).getFullYear()
  let ms = compose(year, month, day, h, mi, sec, frac, utc)
  if (opts.year === undefined && ms > opts.nowMs + FUTURE_SLACK_MS) {
    year--
    ms = compose(year, month, day, h, mi, sec, frac, utc)
  }
  return { ms, end: i }
}

/**
 * RFC 3339 / ISO 8601 `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM|±HHMM)` at `at`; a missing zone
 * means local time (or UTC with opts.utc).
 */
export function parseIsoTime(s: string, at: number, opts: { utc?: boolean }): ParsedTime | null {
  if (at + 19 > s.length) return null
  const y1 = d2(s, at), y2 = d2(s, at + 2)
  if (y1 < 0 || y2 < 0 || s.charCodeAt(at + 4) !== 45 || s.charCodeAt(at + 7) !== 45) return null
  const sep = s.charCodeAt(at + 10)
  if (sep !== 84 && sep !== 32) return null
  const year = y1 * 100 + y2
  const month = d2(s, at + 5)
  const day = d2(s, at + 8)
  const h = d2(s, at + 11)
  const mi = d2(s, at + 14)
  const sec = d2(s, at + 17)
  if (month < 1 || month > 12 || day < 1 || day > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return null
  if (s.charCodeAt(at + 13) !== 58 || s.charCodeAt(at + 16) !== 58) return null
  let i = at + 19
  let frac = 0
  if (s.charCodeAt(i) === 46 || s.charCodeAt(i) === 44) {
    i++
    let digits = 0
    while (i < s.length) {
      const x = s.charCodeAt(i) - 48
      if (x < 0 || x > 9) break
      if (digits < 3) frac = frac * 10 + x
      digits++
      i++
    }
    if (digits === 0) return null
    while (digits < 3) { frac *= 10; digits++ }
  }
  const z = s.charCodeAt(i)
  let offsetMin: number | null = null
  if (z === 90) { offsetMin = 0; i++ } else if (z === 43 || z === 45) {
    const oh = d2(s, i + 1)
    let om: number
    let len: number
    if (s.charCodeAt(i + 3) === 58) { om = d2(s, i + 4); len = 6 } else { om = d2(s, i + 3); len = 5 }
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return null
    offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om)
    i += len
  }
  let ms: number
  if (offsetMin === null) ms = compose(year, month - 1, day, h, mi, sec, frac, opts.utc ?? false)
  else ms = Date.UTC(year, month - 1, day, h, mi, sec, frac) - offsetMin * 60000
  return Number.isFinite(ms) ? { ms, end: i } : null
}

/** Apache/nginx `dd/Mon/yyyy:HH:MM:SS ±zzzz` (the text inside the brackets). */
export function parseClfTime(s: string, at: number): ParsedTime | null {
  if (at + 26 > s.length) return null
  const day = d2(s, at)
  const month = monthIndex(s, at + 3)
  const y1 = d2(s, at + 7), y2 = d2(s, at + 9)
  const h = d2(s, at + 12), mi = d2(s, at + 15), sec = d2(s, at + 18)
  if (day < 1 || day > 31 || month < 0 || y1 < 0 || y2 < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return null
  if (s.charCodeAt(at + 2) !== 47 || s.charCodeAt(at + 6) !== 47 || s.charCodeAt(at + 11) !== 58) return null
  const sign = s.charCodeAt(at + 21)
  const oh = d2(s, at + 22), om = d2(s, at + 24)
  if ((sign !== 43 && sign !== 45) || oh < 0 || om < 0) return null
  const off = (sign === 45 ? -1 : 1) * (oh * 60 + om)
  const ms = Date.UTC(y1 * 100 + y2, month, day, h, mi, sec) - off * 60000
  return { ms, end: at + 26 }
}

export function toIso(ms: number): string | undefined {
  if (!Number.isFinite(ms) || ms < -62135596800000 || ms > 253402300799999) return undefined
  return new Date(ms).toISOString()
}
