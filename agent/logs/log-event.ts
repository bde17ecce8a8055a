/**
 * The one normalised log event every parser produces, in the spirit of ECS.
 *
 * Representation: a flat object whose keys are the ECS dotted names (`'source.ip'`), not a
 * nested tree. Flat keys are cheap to build on the hot path (one object, no intermediate
 * objects), map one-to-one onto the protobuf `LogEvent` fields and onto NDJSON output, and
 * a consumer that wants the nested form can expand the dots itself.
 *
 * Numbers are numbers (`source.port`, `process.pid`, `http.response.status_code`); IPs are
 * in canonical text form (IPv4-mapped IPv6 `::ffff:a.b.c.d` becomes `a.b.c.d`).
 * Fields outside ECS live under `telltale.*`.
 */
export type EventOutcome = 'success' | 'failure' | 'unknown'

export interface LogEvent {
  /** ISO 8601 in UTC with milliseconds; absent when the line carries no usable time. */
  '@timestamp'?: string
  /** Dedup key: `<source fingerprint>:<byte offset>` for files, `journal:<cursor>` for journald. */
  'event.id'?: string
  /** Which parser understood the line: syslog, sshd, sudo, su, systemd-logind, netfilter,
   *  pfsense.filterlog, access, zeek.<path>, suricata.<event_type>, json, raw. */
  'event.dataset': string
  'event.category'?: string[]
  'event.action'?: string
  'event.outcome'?: EventOutcome
  'source.ip'?: string
  /** The peer as written in the log: an IP or a host name (sshd with UseDNS). */
  'source.address'?: string
  'source.port'?: number
  'source.mac'?: string
  'destination.ip'?: string
  'destination.port'?: number
  'destination.mac'?: string
  /** Lower case: tcp, udp, icmp, ipv6-icmp, … */
  'network.transport'?: string
  'user.name'?: string
  'process.name'?: string
  'process.pid'?: number
  'host.name'?: string
  'http.request.method'?: string
  'http.request.referrer'?: string
  'http.version'?: string
  'http.response.status_code'?: number
  'http.response.body.bytes'?: number
  'url.original'?: string
  /** Virtual host of vhost-combined access logs (`host[:port] client …`). */
  'url.domain'?: string
  'user_agent.original'?: string
  'observer.ingress.interface.name'?: string
  'observer.egress.interface.name'?: string
  /** Firewall log prefix / chain, IDS signature. */
  'rule.name'?: string
  'rule.id'?: string
  'log.syslog.priority'?: number
  'log.syslog.version'?: number
  'log.syslog.msgid'?: string
  /** RFC 5424 STRUCTURED-DATA exactly as written (`[meta sequenceId="1"]`). */
  'log.syslog.structured_data'?: string
  /** The free-text part: syslog MSG, or the whole line for formats without a header. */
  'message': string
  'log.file.path'?: string
  'log.offset'?: number
  /** sshd authentication method (password, publickey, keyboard-interactive/pam, …). */
  'telltale.auth_method'?: string
  /** TCP flags named in a firewall line (SYN, ACK, FIN, RST, PSH, URG, ECE, CWR). */
  'telltale.tcp_flags'?: string[]
  /** No parser understood the line: shipped raw, never dropped. */
  'telltale.parse_failure'?: boolean
  /** The line was longer than the configured limit and was cut. */
  'telltale.truncated'?: boolean
  /** The line held bytes that are not valid UTF-8 (replaced by U+FFFD). */
  'telltale.invalid_utf8'?: boolean
}

/** Every field of LogEvent, in a fixed order (NDJSON, protobuf mapping, docs). */
export const LOG_EVENT_FIELDS = [
  '@timestamp', 'event.id', 'event.dataset', 'event.category', 'event.action', 'event.outcome',
  'source.ip', 'source.address', 'source.port', 'source.mac', 'destination.ip', 'destination.port',
  'destination.mac', 'network.transport', 'user.name', 'process.name', 'process.pid', 'host.name',
  'http.request.method', 'http.request.referrer', 'http.version', 'http.response.status_code',
  'http.response.body.bytes', 'url.original', 'url.domain', 'user_agent.original',
  'observer.ingress.interface.name', 'observer.egress.interface.name', 'rule.name', 'rule.id',
  'log.syslog.priority', 'log.syslog.version', 'log.syslog.msgid', 'log.syslog.structured_data',
  'message', 'log.file.path', 'log.offset', 'telltale.auth_method', 'telltale.tcp_flags',
  'telltale.parse_failure', 'telltale.truncated', 'telltale.invalid_utf8',
] as const satisfies readonly (keyof LogEvent)[]

/** A line nobody understood: kept whole, marked, counted by the caller. */
export function rawEvent(line: string): LogEvent {
  return { 'event.dataset': 'raw', 'message': line, 'telltale.parse_failure': true }
}

/** True when the event says "a host failed to authenticate" (the fail2ban notion). */
export function isHostAuthFailure(ev: LogEvent): boolean {
  return ev['event.outcome'] === 'failure' && ev['source.address'] !== undefined &&
    (ev['event.category']?.includes('authentication') ?? false)
}
