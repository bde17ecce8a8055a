/**
 * Wire messages (telltale.v1 Flow / LogEvent / HostObservation) → the plain records
 * detectors read. One object per record, addresses rendered once; Community IDs only when
 * a detector asks (evidence), because they cost a SHA-1.
 */
import { flowCommunityId, type AppRecord, type HostObservation, type LogEvent } from '../../protocol/index.js'
import type { FlowRecord } from '../ingest/flow-decode.js'
import type { DetectionAppRecord, DetectionEvent, DetectionFlow, DetectionObservation } from './detection-types.js'
import { addrText, addrV4, macNumber, macText } from './net-match.js'

const CONN_STATES = ['', 'S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH']
const PROTOS = ['', 'tcp', 'udp', 'icmp']
const NAME_SOURCES = ['', 'dhcp', 'dns_ptr', 'dns_a', 'mdns', 'netbios', 'ssl_sni', 'http_host']

/**
 * The flow view: numbers copied at construction, text (addresses, MACs, Community ID) built
 * on first use and cached — most flows pass through every detector without any of them
 * needing the text form.
 */
class LazyFlowView implements DetectionFlow {
  readonly tsUs: number
  readonly endUs: number
  readonly origP: number
  readonly respP: number
  readonly origV4: number
  readonly respV4: number
  readonly proto: string
  readonly connState: string
  readonly history: string
  readonly durationUs: number
  readonly origBytes: number
  readonly respBytes: number
  readonly origPkts: number
  readonly respPkts: number
  readonly service: string
  readonly uid: string
  readonly origMacN: number
  readonly respMacN: number
  readonly localOrig: boolean | undefined
  readonly localResp: boolean | undefined
  readonly vlan: number | undefined
  readonly missedBytes: number
  readonly interim: boolean
  private oh: string | undefined
  private rh: string | undefined
  private om: string | undefined
  private rm: string | undefined
  private cid: string | undefined

  constructor(readonly agentId: string, private readonly f: FlowRecord) {
    const dur = f.durationUs ?? 0
    this.tsUs = f.tsUs
    this.endUs = f.tsUs + dur
    this.origP = f.origP
    this.respP = f.respP
    this.origV4 = addrV4(f.origH)
    this.respV4 = addrV4(f.respH)
    this.proto = PROTOS[f.proto] ?? ''
    this.connState = CONN_STATES[f.connState] ?? ''
    this.history = f.history
    this.durationUs = dur
    this.origBytes = f.origBytes ?? 0
    this.respBytes = f.respBytes ?? 0
    this.origPkts = f.origPkts
    this.respPkts = f.respPkts
    this.service = f.service
    this.uid = f.uid
    this.origMacN = macNumber(f.origL2Addr)
    this.respMacN = macNumber(f.respL2Addr)
    this.localOrig = f.localOrig ?? undefined
    this.localResp = f.localResp ?? undefined
    this.vlan = f.vlan ?? undefined
    this.missedBytes = f.missedBytes
    this.interim = f.interim
  }

  get origAddr(): Uint8Array { return this.f.origH }
  get respAddr(): Uint8Array { return this.f.respH }
  get origH(): string { return (this.oh ??= addrText(this.f.origH)) }
  get respH(): string { return (this.rh ??= addrText(this.f.respH)) }
  get origMac(): string { return (this.om ??= macText(this.f.origL2Addr)) }
  get respMac(): string { return (this.rm ??= macText(this.f.respL2Addr)) }
  communityId(): string { return (this.cid ??= flowCommunityId(this.f)) }
}

export function flowView(agentId: string, f: FlowRecord): DetectionFlow {
  return new LazyFlowView(agentId, f)
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

/** Largest row text parsed for detection; a longer one (an agent's cap is 64 KiB) reads as empty. */
const MAX_ROW_JSON = 256 * 1024
const NO_ROW: Readonly<Record<string, unknown>> = Object.freeze({})

/** The app-record view: index keys copied, the Zeek JSON row parsed on the first column read. */
class LazyAppRecordView implements DetectionAppRecord {
  readonly log: string
  readonly tsUs: number
  readonly uid: string
  readonly respP: number
  private oh: string | undefined
  private rh: string | undefined
  private row: Readonly<Record<string, unknown>> | undefined

  constructor(readonly agentId: string, private readonly r: AppRecord) {
    this.log = r.log
    this.tsUs = r.tsUs
    this.uid = r.uid
    this.respP = r.respP
  }

  get origH(): string { return (this.oh ??= addrText(this.r.origH)) }
  get respH(): string { return (this.rh ??= addrText(this.r.respH)) }

  private fields(): Readonly<Record<string, unknown>> {
    if (this.row !== undefined) return this.row
    let row = NO_ROW
    const text = this.r.zeekJson
    if (text.length <= MAX_ROW_JSON) {
      try {
        const v: unknown = JSON.parse(text)
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) row = v as Record<string, unknown>
      } catch {
        // not JSON (a hostile or broken sender): no columns
      }
    }
    return (this.row = row)
  }

  str(field: string): string {
    const v = this.fields()[field]
    return typeof v === 'string' ? v : ''
  }

  strs(field: string): readonly string[] {
    const v = this.fields()[field]
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  }
}

export function appRecordView(agentId: string, r: AppRecord): DetectionAppRecord {
  return new LazyAppRecordView(agentId, r)
}
