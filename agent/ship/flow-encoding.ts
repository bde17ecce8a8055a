/**
 * ConnRecord ⇄ telltale.v1.Flow. The shipper encodes with `connRecordToFlow`; the reverse
 * exists for tests and tools (the collector has its own view of a decoded Flow).
 *
 * Compact on the wire: addresses as 4/16 raw bytes, MACs as 6 bytes, the Community ID as
 * its 20-byte digest, times as integer microseconds (Zeek's resolution; a time that is not
 * a whole number of µs is rounded to the nearest one). `lastTs` is only sent when it is
 * not ts + duration, and the Community ID only when the reader could not recompute it from
 * the 5-tuple (a non-zero seed): that alone is 20 incompressible bytes per flow.
 *
 * Pure: text the flow table never produces (a malformed address, MAC or Community ID) is
 * sent as empty bytes and counted, never thrown.
 */
import ipaddr from 'ipaddr.js'
import { communityIdV1, ConnState as PbConnState, flowCommunityId, FlowReason as PbReason, Transport as PbTransport } from '../../protocol/index.js'
import type { Flow, FlowProperties } from '../../protocol/index.js'
import { CONN_STATES } from '../flow/conn-record.js'
import type { ConnRecord, ConnState } from '../flow/conn-record.js'
import type { Counters } from '../util/counters.js'

export type FlowEncodingAnomaly = 'flow_encoding_bad_address' | 'flow_encoding_bad_mac' | 'flow_encoding_bad_community_id'

const PROTO_TO_PB: Record<ConnRecord['proto'], number> = {
  tcp: PbTransport.TRANSPORT_TCP,
  udp: PbTransport.TRANSPORT_UDP,
  icmp: PbTransport.TRANSPORT_ICMP,
  unknown_transport: PbTransport.TRANSPORT_UNKNOWN,
}
const PB_TO_PROTO: ConnRecord['proto'][] = ['unknown_transport', 'tcp', 'udp', 'icmp']

/** CONN_STATE_S0 = 1 … CONN_STATE_OTH = 13, in CONN_STATES order. */
const STATE_TO_PB = new Map<ConnState, number>(CONN_STATES.map((s, i) => [s, i + 1]))

const REASON_TO_PB: Record<ConnRecord['reason'], number> = {
  end: PbReason.FLOW_REASON_END,
  inactive: PbReason.FLOW_REASON_INACTIVE,
  active_timeout: PbReason.FLOW_REASON_ACTIVE_TIMEOUT,
  evicted: PbReason.FLOW_REASON_EVICTED,
  flush: PbReason.FLOW_REASON_FLUSH,
}
const PB_TO_REASON: (ConnRecord['reason'] | undefined)[] = [undefined, 'end', 'inactive', 'active_timeout', 'evicted', 'flush']

const EMPTY = new Uint8Array(0)
const COMMUNITY_ID_PREFIX = '1:'
const COMMUNITY_ID_DIGEST_BYTES = 20

/** Seconds (µs resolution) → integer microseconds. */
function toMicros(seconds: number): number {
  return Math.round(seconds * 1e6)
}

/** Dotted IPv4 → 4 bytes, without allocating strings; undefined when not a plain dotted quad. */
function parseIPv4(s: string): Uint8Array | undefined {
  const out = new Uint8Array(4)
  let part = 0
  let value = 0
  let digits = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x2e) {
      if (digits === 0 || part === 3) return undefined
      out[part++] = value
      value = 0
      digits = 0
    } else if (c >= 0x30 && c <= 0x39 && digits < 3) {
      value = value * 10 + (c - 0x30)
      digits++
      if (value > 255) return undefined
    } else {
      return undefined
    }
  }
  if (part !== 3 || digits === 0) return undefined
  out[3] = value
  return out
}

/** Address text → its 4 (IPv4) or 16 (IPv6) bytes; undefined when it is neither (app-record-wire.ts uses it too). */
export function addressBytes(s: string): Uint8Array | undefined {
  if (s.includes(':')) return ipaddr.IPv6.isValid(s) ? Uint8Array.from(ipaddr.IPv6.parse(s).toByteArray()) : undefined
  return parseIPv4(s)
}

function addressToBytes(s: string, anomalies: Counters<FlowEncodingAnomaly> | undefined): Uint8Array {
  const b = addressBytes(s)
  if (b !== undefined) return b
  anomalies?.inc('flow_encoding_bad_address')
  return EMPTY
}

function bytesToAddress(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`
  if (b.length === 16) return ipaddr.fromByteArray(Array.from(b)).toString()
  return ''
}

const MAC_RE = /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$/

function macToBytes(mac: string | undefined, anomalies: Counters<FlowEncodingAnomaly> | undefined): Uint8Array {
  if (mac === undefined) return EMPTY
  if (!MAC_RE.test(mac)) {
    anomalies?.inc('flow_encoding_bad_mac')
    return EMPTY
  }
  const out = new Uint8Array(6)
  for (let i = 0; i < 6; i++) out[i] = Number.parseInt(mac.slice(i * 3, i * 3 + 2), 16)
  return out
}

function bytesToMac(b: Uint8Array): string | undefined {
  if (b.length !== 6) return undefined
  let s = ''
  for (let i = 0; i < 6; i++) s += (i === 0 ? '' : ':') + b[i].toString(16).padStart(2, '0')
  return s
}

function communityIdToBytes(id: string, anomalies: Counters<FlowEncodingAnomaly> | undefined): Uint8Array {
  if (id === '') return EMPTY
  if (id.startsWith(COMMUNITY_ID_PREFIX)) {
    const digest = Buffer.from(id.slice(COMMUNITY_ID_PREFIX.length), 'base64')
    // Re-encoding must give the same text, so nothing non-canonical is silently changed.
    if (digest.length === COMMUNITY_ID_DIGEST_BYTES && digest.toString('base64') === id.slice(COMMUNITY_ID_PREFIX.length)) {
      return new Uint8Array(digest.buffer, digest.byteOffset, digest.length)
    }
  }
  anomalies?.inc('flow_encoding_bad_community_id')
  return EMPTY
}

/** ConnRecord → the plain object `Flow.encode` takes. */
export function connRecordToFlow(rec: ConnRecord, anomalies?: Counters<FlowEncodingAnomaly>): FlowProperties {
  const tsUs = toMicros(rec.ts)
  const durationUs = rec.duration === undefined ? undefined : toMicros(rec.duration)
  const lastDeltaUs = toMicros(rec.lastTs) - tsUs
  const origH = addressToBytes(rec.origH, anomalies)
  const respH = addressToBytes(rec.respH, anomalies)
  // Left out when the reader recomputes the same text from the 5-tuple (seed 0).
  const communityIdDerived = rec.communityId !== '' && communityIdV1(rec.ipProto, origH, respH, rec.origP, rec.respP) === rec.communityId
  const communityId = communityIdDerived ? EMPTY : communityIdToBytes(rec.communityId, anomalies)
  const flow: FlowProperties = {
    tsUs,
    origH,
    origP: rec.origP,
    respH,
    respP: rec.respP,
    proto: PROTO_TO_PB[rec.proto],
    connState: STATE_TO_PB.get(rec.connState) ?? PbConnState.CONN_STATE_UNSPECIFIED,
    history: rec.history,
    origPkts: rec.origPkts,
    origIpBytes: rec.origIpBytes,
    respPkts: rec.respPkts,
    respIpBytes: rec.respIpBytes,
    uid: rec.uid,
    communityId,
    communityIdDerived,
    ipProto: rec.ipProto,
    service: rec.service,
    missedBytes: rec.missedBytes,
    tunnelParents: rec.tunnelParents,
    origL2Addr: macToBytes(rec.origL2Addr, anomalies),
    respL2Addr: macToBytes(rec.respL2Addr, anomalies),
    iface: rec.iface,
    interim: rec.interim,
    reason: REASON_TO_PB[rec.reason],
  }
  // proto3 `optional`: only present keys are sent, so unset stays distinguishable from 0.
  if (durationUs !== undefined) flow.durationUs = durationUs
  if (rec.origBytes !== undefined) flow.origBytes = rec.origBytes
  if (rec.respBytes !== undefined) flow.respBytes = rec.respBytes
  if (rec.localOrig !== undefined) flow.localOrig = rec.localOrig
  if (rec.localResp !== undefined) flow.localResp = rec.localResp
  if (rec.vlan !== undefined) flow.vlan = rec.vlan
  if (rec.innerVlan !== undefined) flow.innerVlan = rec.innerVlan
  if (lastDeltaUs !== (durationUs ?? 0)) flow.lastDeltaUs = lastDeltaUs
  return flow
}

/** A decoded Flow → ConnRecord (µs times back to seconds). Unknown enum values become OTH / flush / unknown_transport. */
export function flowToConnRecord(flow: Flow): ConnRecord {
  const tsUs = flow.tsUs
  const durationUs = flow.durationUs ?? undefined
  const lastUs = tsUs + (flow.lastDeltaUs ?? durationUs ?? 0)
  return {
    ts: tsUs / 1e6,
    uid: flow.uid,
    origH: bytesToAddress(flow.origH),
    origP: flow.origP,
    respH: bytesToAddress(flow.respH),
    respP: flow.respP,
    proto: PB_TO_PROTO[flow.proto] ?? 'unknown_transport',
    service: flow.service,
    duration: durationUs === undefined ? undefined : durationUs / 1e6,
    origBytes: flow.origBytes ?? undefined,
    respBytes: flow.respBytes ?? undefined,
    connState: CONN_STATES[flow.connState - 1] ?? 'OTH',
    localOrig: flow.localOrig ?? undefined,
    localResp: flow.localResp ?? undefined,
    missedBytes: flow.missedBytes,
    history: flow.history,
    origPkts: flow.origPkts,
    origIpBytes: flow.origIpBytes,
    respPkts: flow.respPkts,
    respIpBytes: flow.respIpBytes,
    tunnelParents: [...flow.tunnelParents],
    ipProto: flow.ipProto,
    communityId: flowCommunityId(flow),
    vlan: flow.vlan ?? undefined,
    innerVlan: flow.innerVlan ?? undefined,
    origL2Addr: bytesToMac(flow.origL2Addr),
    respL2Addr: bytesToMac(flow.respL2Addr),
    iface: flow.iface,
    lastTs: lastUs / 1e6,
    interim: flow.interim,
    reason: PB_TO_REASON[flow.reason] ?? 'flush',
  }
}
