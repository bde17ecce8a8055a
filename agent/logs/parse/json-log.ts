import type { LogEvent } from '../log-event.js'
import { toIso } from './syslog-time.js'
import { isIp, unmapIPv4 } from './text-scan.js'

/**
 * JSON lines: Zeek JSON logs (`_path`, `ts`, `id.orig_h` …), Suricata EVE (`event_type`,
 * `src_ip` …) and any other JSON object. The whole line stays in `message` (passed
 * through); key fields are mapped. JSON.parse is the only parser here and is caught.
 */
type Obj = Record<string, unknown>

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}
function port(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535 ? v : undefined
}
function ip(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const a = unmapIPv4(v)
  return isIp(a) ? a : undefined
}
function time(v: unknown): string | undefined {
  if (typeof v === 'number') return toIso(v * 1000)
  if (typeof v === 'string') {
    // Suricata writes +0000 (no colon); Date.parse needs +00:00.
    const fixed = /[+-]\d{4}$/.test(v) ? `${v.slice(0, -2)}:${v.slice(-2)}` : v
    const ms = Date.parse(fixed)
    return Number.isFinite(ms) ? toIso(ms) : undefined
  }
  return undefined
}
function set<K extends keyof LogEvent>(ev: LogEvent, k: K, v: LogEvent[K] | undefined): void {
  if (v !== undefined) ev[k] = v
}

export function parseJsonLine(line: string, ev: LogEvent): boolean {
  let o: unknown
  try { o = JSON.parse(line) } catch { return false }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false
  const j = o as Obj
  ev['message'] = line
  if (typeof j['_path'] === 'string' || (j['id.orig_h'] !== undefined && j['ts'] !== undefined)) return zeek(j, ev)
  if (typeof j['event_type'] === 'string') return suricata(j, ev)
  ev['event.dataset'] = 'json'
  set(ev, '@timestamp', time(j['@timestamp'] ?? j['timestamp'] ?? j['time'] ?? j['ts']))
  const msg = str(j['message']) ?? str(j['msg']) ?? str(j['MESSAGE'])
  if (msg !== undefined) ev['message'] = msg
  set(ev, 'host.name', str(j['host']) ?? str(j['hostname']) ?? str(j['_HOSTNAME']))
  return true
}

function zeek(j: Obj, ev: LogEvent): boolean {
  const path = str(j['_path']) ?? 'unknown'
  ev['event.dataset'] = `zeek.${path}`
  set(ev, '@timestamp', time(j['ts']))
  set(ev, 'source.ip', ip(j['id.orig_h']))
  set(ev, 'source.address', ip(j['id.orig_h']))
  set(ev, 'source.port', port(j['id.orig_p']))
  set(ev, 'destination.ip', ip(j['id.resp_h']))
  set(ev, 'destination.port', port(j['id.resp_p']))
  set(ev, 'network.transport', str(j['proto']))
  set(ev, 'rule.id', str(j['uid']))
  ev['event.category'] = ['network']
  if (path === 'ssh') {
    ev['event.category'] = ['network', 'authentication']
    if (j['auth_success'] === true) ev['event.outcome'] = 'success'
    else if (j['auth_success'] === false) ev['event.outcome'] = 'failure'
  } else if (path === 'http') {
    ev['event.category'] = ['network', 'web']
    set(ev, 'http.request.method', str(j['method']))
    set(ev, 'url.original', str(j['uri']))
    set(ev, 'url.domain', str(j['host']))
    set(ev, 'http.response.status_code', typeof j['status_code'] === 'number' ? j['status_code'] : undefined)
    set(ev, 'user_agent.original', str(j['user_agent']))
    set(ev, 'user.name', str(j['username']))
  }
  ev['event.action'] = path
  return true
}

function suricata(j: Obj, ev: LogEvent): boolean {
  const type = str(j['event_type']) ?? 'unknown'
  ev['event.dataset'] = `suricata.${type}`
  set(ev, '@timestamp', time(j['timestamp']))
  set(ev, 'source.ip', ip(j['src_ip']))
  set(ev, 'source.address', ip(j['src_ip']))
  set(ev, 'source.port', port(j['src_port']))
  set(ev, 'destination.ip', ip(j['dest_ip']))
  set(ev, 'destination.port', port(j['dest_port']))
  const proto = str(j['proto'])
  if (proto) ev['network.transport'] = proto.toLowerCase() === 'ipv6-icmp' ? 'ipv6-icmp' : proto.toLowerCase()
  set(ev, 'observer.ingress.interface.name', str(j['in_iface']))
  ev['event.category'] = type === 'alert' ? ['intrusion_detection', 'network'] : ['network']
  ev['event.action'] = type
  const alert = j['alert']
  if (alert && typeof alert === 'object') {
    const a = alert as Obj
    set(ev, 'rule.name', str(a['signature']))
    if (typeof a['signature_id'] === 'number') ev['rule.id'] = String(a['signature_id'])
    const act = str(a['action'])
    if (act) ev['event.outcome'] = act === 'blocked' ? 'failure' : 'success'
  }
  const http = j['http']
  if (http && typeof http === 'object') {
    const h = http as Obj
    set(ev, 'http.request.method', str(h['http_method']))
    set(ev, 'url.original', str(h['url']))
    set(ev, 'url.domain', str(h['hostname']))
    set(ev, 'user_agent.original', str(h['http_user_agent']))
    if (typeof h['status'] === 'number') ev['http.response.status_code'] = h['status']
  }
  set(ev, 'host.name', str(j['host']))
  return true
}
