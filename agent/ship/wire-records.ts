/**
 * Agent records → telltale.v1 plain objects for the batch encoder: log events (agent/logs
 * LogEvent, flat ECS keys) and host observations (agent/app HostObservation). Flows have
 * their own module (flow-encoding.ts). Pure; a value the wire cannot carry is left out.
 */
import ipaddr from 'ipaddr.js'
import { NameSource, SoftwareRole, Transport } from '../../protocol/index.js'
import type { HostObservationProperties, LogEventProperties } from '../../protocol/index.js'
import type { HostObservation as AppObservation } from '../app/app-analyzer.js'
import type { LogEvent as AgentLogEvent } from '../logs/log-event.js'
import { LOG_EVENT_FIELDS } from '../logs/log-event.js'

/** 'http.response.body.bytes' → 'httpResponseBodyBytes', 'user_agent.original' → 'userAgentOriginal'. */
function camel(key: string): string {
  return key.split(/[._]/).map((p, i) => (i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1))).join('')
}

const EVENT_KEYS: ReadonlyArray<readonly [keyof AgentLogEvent, string]> = LOG_EVENT_FIELDS
  .filter((k) => k !== '@timestamp')
  .map((k) => [k, camel(k)] as const)

/** LogEvent → LogEvent message. `@timestamp` becomes epoch milliseconds. */
export function logEventToWire(ev: AgentLogEvent): LogEventProperties {
  const out: Record<string, unknown> = {}
  const ts = ev['@timestamp']
  if (ts !== undefined) {
    const ms = Date.parse(ts)
    if (Number.isFinite(ms)) out.timestampMs = ms
  }
  for (const [k, w] of EVENT_KEYS) {
    const v = ev[k]
    if (v !== undefined) out[w] = v
  }
  return out as unknown as LogEventProperties
}

/** Event time in µs (for gap time ranges); 0 when the event carries no time. */
export function logEventTimeUs(ev: AgentLogEvent): number {
  const ts = ev['@timestamp']
  if (ts === undefined) return 0
  const ms = Date.parse(ts)
  return Number.isFinite(ms) ? ms * 1000 : 0
}

const NAME_SOURCE: Record<NonNullable<AppObservation['nameSource']>, number> = {
  dhcp: NameSource.NAME_SOURCE_DHCP,
  dns_ptr: NameSource.NAME_SOURCE_DNS_PTR,
  dns_a: NameSource.NAME_SOURCE_DNS_A,
  mdns: NameSource.NAME_SOURCE_MDNS,
  netbios: NameSource.NAME_SOURCE_NETBIOS,
  ssl_sni: NameSource.NAME_SOURCE_SSL_SNI,
  http_host: NameSource.NAME_SOURCE_HTTP_HOST,
}

const EMPTY = new Uint8Array(0)

function ipBytes(ip: string | undefined): Uint8Array {
  if (ip === undefined || !ipaddr.isValid(ip)) return EMPTY
  return Uint8Array.from(ipaddr.parse(ip).toByteArray())
}

function macBytes(mac: string | undefined): Uint8Array {
  if (mac === undefined || !/^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/.test(mac)) return EMPTY
  return Uint8Array.from(mac.split(':').map((h) => Number.parseInt(h, 16)))
}

/** Application-layer host observation → HostObservation message. */
export function observationToWire(o: AppObservation, iface = ''): HostObservationProperties {
  const out: HostObservationProperties = {
    tsUs: Math.round(o.ts * 1e6),
    ip: ipBytes(o.ip),
    mac: macBytes(o.mac),
    name: o.name ?? '',
    nameSource: o.nameSource ? NAME_SOURCE[o.nameSource] : NameSource.NAME_SOURCE_UNSPECIFIED,
    software: o.software ?? '',
    softwareRole: o.softwareRole === 'server' ? SoftwareRole.SOFTWARE_ROLE_SERVER
      : o.softwareRole === 'client' ? SoftwareRole.SOFTWARE_ROLE_CLIENT : SoftwareRole.SOFTWARE_ROLE_UNSPECIFIED,
    osHint: o.osHint ?? '',
    dhcpVendorClass: o.dhcpVendorClass ?? '',
    dhcpParamList: o.dhcpParamList ?? '',
    iface,
  }
  if (o.service) {
    out.service = { port: o.service.port, proto: o.service.proto === 'udp' ? Transport.TRANSPORT_UDP : Transport.TRANSPORT_TCP, name: o.service.name }
  }
  return out
}
