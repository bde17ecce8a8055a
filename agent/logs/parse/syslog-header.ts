import { parseBsdTime, parseIsoTime, type TimeOptions } from './syslog-time.js'
import { nextSpace, parseUint } from './text-scan.js'

/**
 * Syslog headers: RFC 3164 (`Mmm dd hh:mm:ss host tag[pid]: msg`, also with an RFC 3339
 * timestamp as rsyslog writes it, without host, or with `[prog]` tags) and RFC 5424
 * (`<pri>1 ts host app procid msgid [sd] msg`), both with or without `<pri>`.
 * Pure: returns null when the line is not syslog; never throws.
 */
export interface SyslogHeader {
  timestampMs: number
  host: string | undefined
  program: string | undefined
  pid: number | undefined
  msg: string
  priority: number | undefined
  version: number | undefined
  msgid: string | undefined
  structuredData: string | undefined
}

function readPriority(line: string): { pri: number; end: number } | null {
  if (line.charCodeAt(0) !== 60) return null
  const close = line.indexOf('>', 1)
  if (close < 2 || close > 4) return null
  const pri = parseUint(line, 1, close)
  if (pri < 0 || pri > 191) return null
  return { pri, end: close + 1 }
}

export function parseSyslogHeader(line: string, opts: TimeOptions): SyslogHeader | null {
  let at = 0
  let priority: number | undefined
  const p = readPriority(line)
  if (p) { priority = p.pri; at = p.end }
  // RFC 5424: VERSION right after PRI.
  if (p && line.charCodeAt(at) >= 49 && line.charCodeAt(at) <= 57 && line.charCodeAt(at + 1) === 32) {
    return parse5424(line, at, priority ?? 0, opts)
  }
  return parse3164(line, at, priority, opts)
}

function parse3164(line: string, at: number, priority: number | undefined, opts: TimeOptions): SyslogHeader | null {
  const c = line.charCodeAt(at)
  const t = c >= 48 && c <= 57 ? parseIsoTime(line, at, opts) : parseBsdTime(line, at, opts)
  if (!t || line.charCodeAt(t.end) !== 32) return null
  let i = t.end + 1
  while (line.charCodeAt(i) === 32) i++
  let host: string | undefined
  const firstEnd = nextSpace(line, i)
  const first = line.slice(i, firstEnd)
  // "sshd[123]:", "sshd:", "[sshd]:", "[sshd]" → no host field in this line.
  if (!(first.endsWith(':') || first.charCodeAt(0) === 91)) {
    host = first
    i = firstEnd + 1
  }
  let program: string | undefined
  let pid: number | undefined
  let msgStart = i
  const tagEnd = nextSpace(line, i)
  if (tagEnd > i) {
    let tag = line.slice(i, tagEnd)
    const colon = tag.endsWith(':')
    if (colon) tag = tag.slice(0, -1)
    if (tag.charCodeAt(0) === 91 && tag.endsWith(']')) {
      // "[sshd]" style
      program = tag.slice(1, -1)
      msgStart = tagEnd + 1
    } else {
      const br = tag.indexOf('[')
      if (br > 0 && tag.endsWith(']')) {
        const n = parseUint(tag, br + 1, tag.length - 1)
        if (n >= 0) { program = tag.slice(0, br); pid = n; msgStart = tagEnd + 1 }
      } else if (colon && br === -1 && tag.length > 0) {
        program = tag
        msgStart = tagEnd + 1
      }
    }
  }
  while (line.charCodeAt(msgStart) === 32) msgStart++
  return {
    timestampMs: t.ms, host, program, pid, msg: msgStart >= line.length ? '' : line.slice(msgStart),
    priority, version: undefined, msgid: undefined, structuredData: undefined,
  }
}

function nilOr(s: string): string | undefined {
  return s === '-' ? undefined : s
}

function parse5424(line: string, at: number, priority: number, opts: TimeOptions): SyslogHeader | null {
  const version = line.charCodeAt(at) - 48
  let i = at + 2
  let ms = Number.NaN
  if (line.charCodeAt(i) === 45) {
    i++
  } else {
    const t = parseIsoTime(line, i, opts)
    if (!t) return null
    ms = t.ms
    i = t.end
  }
  if (line.charCodeAt(i) !== 32) return null
  const fields: string[] = []
  for (let k = 0; k < 4; k++) {
    const s = i + 1
    const e = nextSpace(line, s)
    if (e === s) return null
    fields.push(line.slice(s, e))
    i = e
  }
  if (line.charCodeAt(i) !== 32) return null
  i++
  let sd: string | undefined
  if (line.charCodeAt(i) === 45) {
    i++
  } else if (line.charCodeAt(i) === 91) {
    const sdStart = i
    // one or more [id param="value" …]; values escape \" \] \\
    while (line.charCodeAt(i) === 91) {
      i++
      let inQuote = false
      for (; i < line.length; i++) {
        const ch = line.charCodeAt(i)
        if (ch === 92 && inQuote) { i++; continue }
        if (ch === 34) inQuote = !inQuote
        else if (ch === 93 && !inQuote) break
      }
      if (i >= line.length) return null
      i++
    }
    sd = line.slice(sdStart, i)
  } else {
    return null
  }
  let msg = ''
  if (i < line.length) {
    if (line.charCodeAt(i) !== 32) return null
    msg = line.slice(i + 1)
    if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1)
  }
  const pidText = nilOr(fields[2]!)
  const pidNum = pidText === undefined ? -1 : parseUint(pidText)
  return {
    timestampMs: ms, host: nilOr(fields[0]!), program: nilOr(fields[1]!), pid: pidNum >= 0 ? pidNum : undefined,
    msg, priority, version, msgid: nilOr(fields[3]!), structuredData: sd,
  }
}
