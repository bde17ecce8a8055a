/**
 * One finished (or interim) flow, with Zeek conn.log semantics. This is what the flow table
 * emits, what `replay` writes to conn.log / NDJSON and what the shipper encodes.
 *
 * Directions are orig/resp as in Zeek. Fields Zeek leaves unset are `undefined` here and
 * written as `-`.
 */
export interface ConnRecord {
  /** Time of the first packet, seconds since the epoch (µs resolution, as Zeek). */
  ts: number
  /** Zeek-style unique id ("C" + base62), stable within one run. */
  uid: string
  origH: string
  origP: number
  respH: string
  respP: number
  /** 'tcp' | 'udp' | 'icmp' (ICMPv6 is 'icmp' with ipProto 58, as Zeek). */
  proto: 'tcp' | 'udp' | 'icmp' | 'unknown_transport'
  /** Comma-joined services found by protocol detection; '' when none. */
  service: string
  /** Seconds; undefined when only one packet was seen (Zeek writes '-'). */
  duration: number | undefined
  origBytes: number | undefined
  respBytes: number | undefined
  connState: ConnState
  localOrig: boolean | undefined
  localResp: boolean | undefined
  missedBytes: number
  history: string
  origPkts: number
  origIpBytes: number
  respPkts: number
  respIpBytes: number
  /** uids of the enclosing tunnel connections (Zeek's tunnel_parents set). */
  tunnelParents: string[]
  /** IP protocol number (6, 17, 1, 58, …). */
  ipProto: number

  // ---- beyond Zeek's 22 columns ----
  /** Community ID v1 (base64, with the "1:" prefix); '' when the flow table was told nobody reads it. */
  communityId: string
  /** Outer and inner 802.1Q ids when present (Zeek's vlan-logging policy columns). */
  vlan: number | undefined
  innerVlan: number | undefined
  /** MAC addresses of the first frame seen from each side, 'aa:bb:…' or undefined. */
  origL2Addr: string | undefined
  respL2Addr: string | undefined
  /** Interface the flow was captured on ('' when unknown, e.g. classic pcap). */
  iface: string
  /** Time of the last packet, seconds. */
  lastTs: number
  /** True for an interim record of a still-active flow (active timeout); false when final. */
  interim: boolean
  /** Why the flow record was emitted. */
  reason: 'end' | 'inactive' | 'active_timeout' | 'evicted' | 'flush'
}

export type ConnState =
  | 'S0' | 'S1' | 'SF' | 'REJ' | 'S2' | 'S3' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'RSTRH' | 'SH' | 'SHR' | 'OTH'

export const CONN_STATES: readonly ConnState[] = ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH']

/** A named anomaly ("weird"), as Zeek's weird.log. Aggregated counts live in the counters. */
export interface WeirdRecord {
  ts: number
  uid: string | undefined
  origH: string | undefined
  origP: number | undefined
  respH: string | undefined
  respP: number | undefined
  name: string
  addl: string
  notice: boolean
  peer: string
  source: string
}
