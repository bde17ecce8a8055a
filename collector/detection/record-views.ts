/**
 * Wire messages (telltale.v1 Flow / LogEvent / HostObservation) → the plain records
 * detectors read. One object per record, addresses rendered once; Community IDs only when
 * a detector asks (evidence), because they cost a SHA-1.
 */
import { flowCommunityId, type Flow, type HostObservation, type LogEvent } from '../../protocol/index.js'
import type { DetectionEvent, DetectionFlow, DetectionObservation } from './detection-types.js'
import { addrText, addrV4, macNumber, macText } from './net-match.js'

const CONN_STATES = ['', 'S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH']
const PROTOS = ['', 'tcp', 'udp', 'icmp']
const NAME_SOURCES = ['', 'dhcp', 'dns_ptr', 'dns_a', 'mdns', 'netbios', 'ssl_sni', 'http_host']

export function flowView(agentId: string, f: Flow): DetectionFlow {
  const dur = f.durationUs ?? 0
  let cid: string | undefined
  return {
    agentId,
    tsUs: f.tsUs,
    endUs: f.tsUs + dur,
    origH: addrText(f.origH),
    origP: f.origP,
    respH: addrText(f.respH),
    respP: f.respP,
    origV4: addrV4(f.origH),
    respV4: addrV4(f.respH),
    proto: PROTOS[f.proto] ?? '',
    connState: CONN_STATES[f.connState] ?? '',
    history: f.history,
    durationUs: dur,
    origBytes: f.origBytes ?? 0,
    respBytes: f.respBytes ?? 0,
    origPkts: f.origPkts,
    respPkts: f.respPkts,
    service: f.service,
    uid: f.uid,
    communityId: () => (cid ??= flowCommunityId(f)),
    origMac: macText(f.origL2Addr),
    respMac: macText(f.respL2Addr),
    origMacN: macNumber(f.origL2Addr),
    respMacN: macNumber(f.respL2Addr),
    localOrig: f.localOrig ?? undefined,
    localResp: f.localResp ?? undefined,
    vlan: f.vlan ?? undefined,
    missedBytes: f.missedBytes,
    interim: f.interim,
  }
}

export function eventView(agentId: string, e: LogEvent, fallbackId: string): DetectionEvent {
  return {
    agentId,
    tsUs: (e.timestampMs ?? 0) * 1000,
    eventId: e.eventId ?? fallbackId,
    dataset: e.eventDataset,
    category: e.eventCategory,
    action: e.eventAction ?? '',
    outcome: e.eventOutcome ?? '',
    sourceIp: e.sourceIp ?? '',
    destinationIp: e.destinationIp ?? '',
    destinationPort: e.destinationPort ?? 0,
    userName: e.userName ?? '',
    hostName: e.hostName ?? '',
    urlOriginal: e.urlOriginal ?? '',
    urlDomain: e.urlDomain ?? '',
  }
}

export function observationView(agentId: string, o: HostObservation): DetectionObservation {
  return {
    agentId,
    tsUs: o.tsUs,
    ip: addrText(o.ip),
    mac: macText(o.mac),
    name: o.name,
    nameSource: NAME_SOURCES[o.nameSource] ?? '',
    iface: o.iface,
  }
}
