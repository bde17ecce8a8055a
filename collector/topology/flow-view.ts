/** Protocol messages → the views the merge works on (pure). */
import { hash } from 'node:crypto'
import { communityIdV1Input, type Flow, type HostObservation, type Gap } from '../../protocol/index.js'
import type { FlowRecord } from '../ingest/flow-decode.js'
import { ipText, macText } from './addresses.js'
import type { FlowView, L4, LossPeriod, ObservationView } from './types.js'

const L4_OF: Record<number, L4> = { 1: 'tcp', 2: 'udp', 3: 'icmp' }
export const l4Of = (transport: number): L4 => L4_OF[transport] ?? 'other'
export const TRANSPORT_OF: Record<L4, number> = { other: 0, tcp: 1, udp: 2, icmp: 3 }

/** conn_state values (flow.proto ConnState) of an established TCP connection. */
const ESTABLISHED = new Set([2, 3, 5, 6, 7, 8]) // S1 SF S2 S3 RSTO RSTR

const NAME_SOURCE = ['', 'dhcp', 'dns_ptr', 'dns_a', 'mdns', 'netbios', 'ssl_sni', 'http_host']
const GAP_REASON = ['unspecified', 'spool_full', 'queue_full', 'rejected', 'spool_error', 'shutdown']

export interface FlowParts { view: FlowView; established: boolean; origBytes: number; respBytes: number }

const scratch = Buffer.allocUnsafe(40)

/**
 * The de-duplication key of a flow: equal for two records exactly when their Community IDs
 * are equal, without hashing. A derived Community ID (seed 0, left off the wire) is keyed by
 * its hash input; a digest on the wire is keyed by the same input when it is the seed-0
 * digest of the flow's own fields (checked, so an agent that sends it matches one that
 * leaves it out), else by its text. "" when the flow has none.
 */
export function flowDedupKey(f: Pick<Flow, 'communityId' | 'communityIdDerived' | 'ipProto' | 'origH' | 'respH' | 'origP' | 'respP'>): string {
  const d = f.communityId
  if (!f.communityIdDerived && d.length === 0) return ''
  const n = communityIdV1Input(f.ipProto, f.origH, f.respH, f.origP, f.respP, 0, scratch)
  if (f.communityIdDerived) return n === 0 ? '' : scratch.toString('latin1', 0, n)
  const digest = Buffer.from(d.buffer, d.byteOffset, d.length)
  if (n > 0 && digest.equals(hash('sha1', scratch.subarray(0, n), 'buffer'))) return scratch.toString('latin1', 0, n)
  return `1:${digest.toString('base64')}`
}

/** Parts to fill (flowView); the merge keeps one and refills it for every flow. */
export function newFlowParts(): FlowParts {
  return {
    view: { agentId: '', tsUs: 0, endUs: 0, orig: '', resp: '', vlan: undefined, proto: 'other', respPort: 0, service: '', bytes: 0, packets: 0, missedBytes: 0, dedupKey: '', interim: false, site: '' },
    established: false, origBytes: 0, respBytes: 0,
  }
}

/**
 * Fills `out` with the merge's view of a flow; false (out untouched) when the flow lacks an
 * address. `out` is overwritten by the next call: nothing may keep it (the model keeps
 * values, never the view — no two objects per flow to allocate).
 */
export function flowView(agentId: string, f: FlowRecord, out: FlowParts): boolean {
  const orig = ipText(f.origH)
  const resp = ipText(f.respH)
  if (orig === '' || resp === '') return false
  const proto = l4Of(f.proto)
  const tsUs = f.tsUs
  const origBytes = f.origIpBytes
  const respBytes = f.respIpBytes
  const v = out.view
  v.agentId = agentId; v.tsUs = tsUs; v.endUs = tsUs + (f.lastDeltaUs ?? f.durationUs ?? 0); v.orig = orig; v.resp = resp
  v.vlan = f.vlan ?? undefined; v.proto = proto; v.respPort = f.respP; v.service = f.service
  v.bytes = origBytes + respBytes; v.packets = f.origPkts + f.respPkts; v.missedBytes = f.missedBytes
  v.dedupKey = flowDedupKey(f); v.interim = f.interim
  out.established = proto === 'tcp' ? ESTABLISHED.has(f.connState) : f.respPkts > 0
  out.origBytes = origBytes
  out.respBytes = respBytes
  return true
}

export function observationView(agentId: string, o: HostObservation, notAfterUs = Number.MAX_SAFE_INTEGER, site = ''): ObservationView {
  const s = o.service
  return {
    // A time outside 0..2^53-1 µs (a broken or hostile agent) would pin the host's first or
    // last seen where expiry and queries never reach: held to that range, and to `notAfterUs`
    // (the batch's receive time plus a tolerance: an agent clock running ahead).
    agentId, site, tsUs: Math.min(notAfterUs, Number.MAX_SAFE_INTEGER, Math.max(0, o.tsUs)), ip: ipText(o.ip), mac: macText(o.mac), name: o.name, nameSource: NAME_SOURCE[o.nameSource] ?? 'other',
    software: o.software, service: s ? { port: s.port ?? 0, proto: l4Of(s.proto ?? 0), name: s.name ?? '' } : undefined, osHint: o.osHint,
    dhcpVendorClass: o.dhcpVendorClass,
  }
}

/** A flow gap the agent reported (records it could not ship) as a loss period; undefined for other kinds. */
export function gapLoss(agentId: string, g: Gap, fallbackUs: number): LossPeriod | undefined {
  if (g.kind !== 1) return undefined
  const from = g.firstTsUs > 0 ? g.firstTsUs : fallbackUs
  const to = g.lastTsUs > 0 ? g.lastTsUs : from
  return { agentId, fromUs: from, toUs: Math.max(from, to), reason: `gap_${GAP_REASON[g.reason] ?? 'unspecified'}`, records: g.count }
}
