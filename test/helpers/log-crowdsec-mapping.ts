import type { LogEvent } from '../../agent/logs/log-event.js'

/**
 * How a CrowdSec parser field maps onto our normalised event (documented in docs/logs.md).
 * Each entry returns our value as the string CrowdSec would print, or a comparator.
 * Fields not listed here are not compared (CrowdSec-internal enrichment, charon IKE fields…).
 */
type Getter = (ev: LogEvent, expected: string) => boolean

const str = (v: unknown): string | undefined => (v === undefined ? undefined : String(v))
const eq = (get: (ev: LogEvent) => unknown): Getter => (ev, x) => str(get(ev)) === x
const eqi = (get: (ev: LogEvent) => unknown): Getter => (ev, x) => str(get(ev))?.toLowerCase() === x.toLowerCase()
const peer = (ev: LogEvent): string | undefined => ev['source.ip'] ?? ev['source.address']
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

/** "Feb 12 14:10:21" / "Jun  8 14:34:33" against our @timestamp (parsed as UTC in the test). */
function bsdTimeMatches(ev: LogEvent, x: string): boolean {
  const ts = ev['@timestamp']
  if (!ts) return false
  const [mon, day, time] = x.split(/ +/)
  const d = new Date(ts)
  const hms = d.toISOString().slice(11, 19)
  return MONTHS[d.getUTCMonth()] === mon && d.getUTCDate() === Number(day) && hms === time
}

function timeMatches(ev: LogEvent, x: string): boolean {
  const ts = ev['@timestamp']
  if (!ts) return false
  const clf = /^(\d\d)\/(\w{3})\/(\d{4}):(\d\d:\d\d:\d\d) ([+-]\d{4})$/.exec(x)
  if (clf) {
    const iso = `${clf[3]}-${String(MONTHS.indexOf(clf[2]!) + 1).padStart(2, '0')}-${clf[1]}T${clf[4]}${clf[5]!.slice(0, 3)}:${clf[5]!.slice(3)}`
    return Date.parse(iso) === Date.parse(ts)
  }
  if (/^\d{4}-\d\d-\d\dT/.test(x)) {
    // "2022-07-10T23:50:05.533101" (Suricata, zone stripped by CrowdSec) or with offset.
    const ms = Date.parse(/[Z+-]\d\d:?\d\d$|Z$/.test(x) ? x : `${x}Z`)
    return Math.abs(ms - Date.parse(ts)) < 1
  }
  return bsdTimeMatches(ev, x)
}

function logType(ev: LogEvent): string | undefined {
  const ds = ev['event.dataset']
  if (ds === 'sshd') {
    const a = ev['event.action']
    if (a === 'negotiation_failed') return 'ssh_bad_keyexchange'
    if (a === 'auth_timeout') return 'ssh_auth_timeout'
    if (a === 'dispatch_fatal') return 'ssh_dispatch_fatal'
    if (a === 'refused_connect') return 'ssh_refused_conn'
    if (ev['event.outcome'] === 'failure') return 'ssh_failed-auth'
  }
  if (ds === 'access') return 'http_access-log'
  if (ds === 'netfilter' && ['drop', 'reject', 'block', 'deny'].includes(ev['event.action'] ?? '')) return 'iptables_drop'
  if (ds === 'suricata.alert') return 'suricata_alert'
  return undefined
}

function service(ev: LogEvent): string | undefined {
  const ds = ev['event.dataset']
  if (ds === 'sshd') return 'ssh'
  if (ds === 'access') return 'http'
  if (ds === 'netfilter') return ev['network.transport']
  if (ds.startsWith('suricata.')) return 'suricata'
  return undefined
}

export const CROWDSEC_MAPPING: Record<string, Getter> = {
  'Parsed.program': eq((e) => e['process.name']),
  'Parsed.pid': eq((e) => e['process.pid']),
  'Parsed.message': eq((e) => e['message']),
  'Meta.machine': eq((e) => e['host.name']),
  'Parsed.timestamp': timeMatches,
  'Parsed.timestamp8601': timeMatches,
  'Parsed.time_local': timeMatches,
  'Parsed.logdate': timeMatches,
  'Parsed.time': timeMatches,
  'Parsed.syslog_priority': eq((e) => e['log.syslog.priority']),
  'Parsed.syslog_version': eq((e) => e['log.syslog.version']),
  'Meta.source_ip': eq(peer),
  'Parsed.sshd_client_ip': eq(peer),
  'Parsed.src_ip': eq(peer),
  'Parsed.remote_addr': eq(peer),
  'Parsed.clientip': eq(peer),
  'Parsed.sshd_invalid_user': eq((e) => e['user.name']),
  'Meta.target_user': eq((e) => e['user.name']),
  'Parsed.sshd_port': eq((e) => e['source.port']),
  'Parsed.src_port': eq((e) => e['source.port']),
  'Parsed.dst_ip': eq((e) => e['destination.ip']),
  'Parsed.dest_ip': eq((e) => e['destination.ip']),
  'Parsed.dst_port': eq((e) => e['destination.port']),
  'Parsed.dest_port': eq((e) => e['destination.port']),
  'Parsed.proto': eqi((e) => e['network.transport']),
  'Parsed.iface': eq((e) => e['observer.ingress.interface.name']),
  'Parsed.oface': eq((e) => e['observer.egress.interface.name']),
  'Parsed.dst_mac': eq((e) => e['destination.mac']),
  'Parsed.action': eqi((e) => e['event.action']),
  'Parsed.verb': eq((e) => e['http.request.method']),
  'Meta.http_verb': eq((e) => e['http.request.method']),
  'Parsed.request': eq((e) => e['url.original']),
  'Meta.http_path': eq((e) => e['url.original']),
  'Parsed.http_version': eq((e) => e['http.version']),
  'Parsed.httpversion': eq((e) => e['http.version']),
  'Parsed.status': eq((e) => e['http.response.status_code']),
  'Parsed.response': eq((e) => e['http.response.status_code']),
  'Meta.http_status': eq((e) => e['http.response.status_code']),
  'Parsed.body_bytes_sent': eq((e) => e['http.response.body.bytes']),
  'Parsed.bytes': eq((e) => e['http.response.body.bytes']),
  'Parsed.http_user_agent': eq((e) => e['user_agent.original']),
  'Meta.http_user_agent': eq((e) => e['user_agent.original']),
  'Parsed.http_referer': eq((e) => e['http.request.referrer']),
  'Parsed.referrer': eq((e) => e['http.request.referrer']),
  'Parsed.remote_user': eq((e) => e['user.name'] ?? '-'),
  'Parsed.auth': eq((e) => e['user.name'] ?? '-'),
  'Meta.target_fqdn': eq((e) => e['url.domain']),
  'Parsed.target_fqdn': eq((e) => e['url.domain']),
  'Parsed.suricata_alert_signature': eq((e) => e['rule.name']),
  'Meta.suricata_alert_signature_id': eq((e) => e['rule.id']),
  'Meta.log_type': eq(logType),
  'Meta.service': eqi(service),
}
