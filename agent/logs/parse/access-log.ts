import type { LogEvent } from '../log-event.js'
import { parseClfTime } from './syslog-time.js'
import { isHostToken, isIp, parseUint, unmapIPv4 } from './text-scan.js'

/**
 * Web access logs: Apache/nginx common, combined and vhost-combined
 * (`[vhost[:port] ]client ident user [time] "request" status bytes ["referer" "agent"]`),
 * tolerant of a missing ident field, `-` fields and `\"` escapes inside quoted fields.
 */
const WEB = ['web']

/** Reads a "…" field starting at the quote; returns [value, indexAfterClosingQuote] or null. */
function readQuoted(s: string, at: number): [string, number] | null {
  if (s.charCodeAt(at) !== 34) return null
  let i = at + 1
  let hasEscape = false
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 92) { hasEscape = true; i++; continue }
    if (c === 34) break
  }
  if (i >= s.length) return null
  let v = s.slice(at + 1, i)
  if (hasEscape) v = v.replace(/\\(["\\])/g, '$1')
  return [v, i + 1]
}

export function parseAccessLog(line: string, ev: LogEvent): boolean {
  const br = line.indexOf(' [')
  if (br <= 0 || br > 600) return false
  const head = line.slice(0, br).split(' ')
  if (head.length < 2 || head.length > 4) return false
  let vhost: string | undefined
  let client: string
  let user: string
  if (head.length === 4) { vhost = head[0]; client = head[1]!; user = head[3]! } else if (head.length === 3) {
    if (!isIp(unmapIPv4(head[0]!)) && isIp(unmapIPv4(head[1]!))) { vhost = head[0]; client = head[1]!; user = head[2]! } else { client = head[0]!; user = head[2]! }
  } else { client = head[0]!; user = head[1]! }
  if (!isHostToken(client)) return false
  const t = parseClfTime(line, br + 2)
  if (!t || line.charCodeAt(t.end) !== 93 || line.charCodeAt(t.end + 1) !== 32) return false
  const req = readQuoted(line, t.end + 2)
  if (!req) return false
  let i = req[1]
  if (line.charCodeAt(i) !== 32) return false
  i++
  let e = line.indexOf(' ', i)
  if (e === -1) e = line.length
  const status = parseUint(line, i, e)
  if (status < 0 && line.slice(i, e) !== '-') return false
  i = e + 1
  e = line.indexOf(' ', i)
  if (e === -1) e = line.length
  const bytes = i < line.length ? parseUint(line, i, e) : -1
  // request line: METHOD URL PROTOCOL (URL may hold spaces when badly encoded)
  const r = req[0]
  const sp1 = r.indexOf(' ')
  if (sp1 > 0) {
    const sp2 = r.lastIndexOf(' ')
    ev['http.request.method'] = r.slice(0, sp1)
    if (sp2 > sp1 && r.startsWith('HTTP/', sp2 + 1)) {
      ev['url.original'] = r.slice(sp1 + 1, sp2)
      ev['http.version'] = r.slice(sp2 + 6)
    } else {
      ev['url.original'] = r.slice(sp1 + 1)
    }
  }
  const c = unmapIPv4(client)
  ev['source.address'] = c
  if (isIp(c)) ev['source.ip'] = c
  if (user !== '-' && user !== '') ev['user.name'] = user
  if (vhost) {
    const colon = vhost.lastIndexOf(':')
    const port = colon > 0 ? parseUint(vhost, colon + 1) : -1
    if (port >= 0 && port <= 65535) { ev['url.domain'] = vhost.slice(0, colon); ev['destination.port'] = port } else ev['url.domain'] = vhost
  }
  if (status >= 0) ev['http.response.status_code'] = status
  if (bytes >= 0) ev['http.response.body.bytes'] = bytes
  i = e + 1
  const ref = readQuoted(line, i)
  if (ref) {
    ev['http.request.referrer'] = ref[0]
    const ua = readQuoted(line, ref[1] + 1)
    if (ua) ev['user_agent.original'] = ua[0]
  }
  ev['@timestamp'] = new Date(t.ms).toISOString()
  ev['event.dataset'] = 'access'
  ev['event.category'] = WEB
  ev['event.action'] = 'http_request'
  if (status >= 100) ev['event.outcome'] = status >= 400 ? 'failure' : 'success'
  ev['message'] = line
  return true
}
