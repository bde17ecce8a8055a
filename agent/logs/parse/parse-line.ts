import { rawEvent, type LogEvent } from '../log-event.js'
import { parseAccessLog } from './access-log.js'
import { parseLogindMessage, parseSudoMessage, parseSuMessage } from './auth-messages.js'
import { parseJsonLine } from './json-log.js'
import { parseFilterlog, parseNetfilterMessage, parseProxmoxFirewall } from './netfilter.js'
import { parseSshdMessage } from './sshd-message.js'
import { parseSyslogHeader, type SyslogHeader } from './syslog-header.js'
import { toIso, type TimeOptions } from './syslog-time.js'

/**
 * One line of text → one normalised event. `type` forces a format; `auto` detects it from
 * the first bytes (`{` JSON, `<`/month/ISO date syslog, Proxmox firewall, access log, bare
 * netfilter). A line nothing understands comes back as a raw event with
 * `telltale.parse_failure` — never null, never a throw.
 */
export const LOG_TYPES = ['auto', 'syslog', 'sshd', 'netfilter', 'access', 'json'] as const
export type LogType = (typeof LOG_TYPES)[number]

export type ParseOptions = TimeOptions

type MessageParser = (msg: string, ev: LogEvent) => boolean
const PROGRAM_PARSERS: ReadonlyMap<string, readonly [string, MessageParser]> = new Map([
  ['sshd', ['sshd', parseSshdMessage]],
  ['sshd-session', ['sshd', parseSshdMessage]],
  ['sudo', ['sudo', parseSudoMessage]],
  ['su', ['su', parseSuMessage]],
  ['systemd-logind', ['systemd-logind', parseLogindMessage]],
  ['kernel', ['netfilter', parseNetfilterMessage]],
  ['filterlog', ['pfsense.filterlog', parseFilterlog]],
])

/**
 * Applies the message parser of `program` (journald SYSLOG_IDENTIFIER, syslog tag) to
 * `msg`, filling `ev`; returns the dataset it set, or undefined when none applies.
 */
export function parseProgramMessage(program: string, msg: string, ev: LogEvent): string | undefined {
  const p = PROGRAM_PARSERS.get(program)
  if (!p || !p[1](msg, ev)) return undefined
  if (ev['event.dataset'] === 'syslog' || ev['event.dataset'] === 'journald') ev['event.dataset'] = p[0]
  return ev['event.dataset']
}

function fromHeader(h: SyslogHeader): LogEvent {
  const ev: LogEvent = { 'event.dataset': 'syslog', 'message': h.msg }
  const ts = toIso(h.timestampMs)
  if (ts !== undefined) ev['@timestamp'] = ts
  if (h.host !== undefined) ev['host.name'] = h.host
  if (h.program !== undefined) ev['process.name'] = h.program
  if (h.pid !== undefined) ev['process.pid'] = h.pid
  if (h.priority !== undefined) ev['log.syslog.priority'] = h.priority
  if (h.version !== undefined) ev['log.syslog.version'] = h.version
  if (h.msgid !== undefined) ev['log.syslog.msgid'] = h.msgid
  if (h.structuredData !== undefined) ev['log.syslog.structured_data'] = h.structuredData
  return ev
}

/** Syslog header + the program's message parser when there is one. */
function parseSyslog(line: string, opts: ParseOptions, only?: string): LogEvent | null {
  const h = parseSyslogHeader(line, opts)
  if (!h) return null
  const ev = fromHeader(h)
  const p = h.program === undefined ? undefined : PROGRAM_PARSERS.get(h.program)
  if (p && (only === undefined || only === p[0])) {
    if (p[1](h.msg, ev)) {
      if (ev['event.dataset'] === 'syslog') ev['event.dataset'] = p[0]
      return ev
    }
  }
  if (only !== undefined) return null
  return ev
}

function startsLikeSyslog(c: number): boolean {
  return c === 60 || (c >= 65 && c <= 90) || (c >= 48 && c <= 57)
}

export function parseLogLine(line: string, type: LogType, opts: ParseOptions): LogEvent {
  let ev: LogEvent | null = null
  const c = line.charCodeAt(0)
  switch (type) {
    case 'auto':
      if (c === 123) {
        ev = { 'event.dataset': 'json', 'message': line }
        if (!parseJsonLine(line, ev)) ev = null
        break
      }
      if (startsLikeSyslog(c)) ev = parseSyslog(line, opts)
      if (ev === null && c >= 48 && c <= 57) ev = tryWith(line, parseProxmoxFirewall)
      if (ev === null) ev = tryWith(line, parseAccessLog)
      if (ev === null) ev = tryWith(line, bareNetfilter)
      break
    case 'syslog': ev = parseSyslog(line, opts); break
    case 'sshd': ev = parseSyslog(line, opts, 'sshd'); break
    case 'netfilter':
      ev = parseSyslog(line, opts, 'netfilter') ?? parseSyslog(line, opts, 'pfsense.filterlog') ??
        tryWith(line, parseProxmoxFirewall) ?? tryWith(line, bareNetfilter)
      break
    case 'access': ev = tryWith(line, parseAccessLog); break
    case 'json': ev = tryWith(line, parseJsonLine); break
  }
  return ev ?? rawEvent(line)
}

function tryWith(line: string, p: MessageParser): LogEvent | null {
  const ev: LogEvent = { 'event.dataset': 'raw', 'message': line }
  return p(line, ev) ? ev : null
}

/** A netfilter line without a syslog header (dmesg, `journalctl -k -o cat`). */
function bareNetfilter(line: string, ev: LogEvent): boolean {
  if (!parseNetfilterMessage(line, ev)) return false
  ev['message'] = line
  return true
}
