/**
 * `intel_match`: a flow endpoint, a DNS/TLS/HTTP name, a log event's address, domain or URL
 * found in a threat-intel feed. One incident per (indicator, local host). The lookup is
 * an interface so the detector stays pure (collector/intel implements it).
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionEvent, DetectionFlow, DetectionObservation, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { parseV4 } from './net-match.js'

export interface IntelMatchResult { feed: string; kind: string; indicator: string; label: string }

export interface IntelLookup {
  readonly empty: boolean
  matchIpV4(n: number, text: string): IntelMatchResult | undefined
  matchIp(ip: string): IntelMatchResult | undefined
  matchDomain(name: string): IntelMatchResult | undefined
  matchUrl(url: string): IntelMatchResult | undefined
}

export class IntelMatchDetector implements Detector {
  readonly name = 'intel_match'
  /** Names already looked up with no match (names repeat a lot; bounded). */
  private readonly misses: BoundedMap<string, true>

  constructor(private readonly intel: IntelLookup, maxKeys: number) {
    this.misses = new BoundedMap(maxKeys)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (this.intel.empty) return
    const r = f.respV4 >= 0 ? this.intel.matchIpV4(f.respV4, f.respH) : this.intel.matchIp(f.respH)
    if (r !== undefined) { this.emit(r, f.origH, f.respH, f.respP, f.tsUs, f.agentId, emit, [f.uid]); return }
    const o = f.origV4 >= 0 ? this.intel.matchIpV4(f.origV4, f.origH) : this.intel.matchIp(f.origH)
    if (o !== undefined) this.emit(o, f.respH, f.origH, f.respP, f.tsUs, f.agentId, emit, [f.uid])
  }

  onObservation(o: DetectionObservation, emit: Emit): void {
    if (this.intel.empty || o.name === '' || o.nameSource === 'dhcp' || o.nameSource === 'netbios') return
    if (this.misses.get(o.name) !== undefined) return
    const r = this.intel.matchDomain(o.name)
    if (r === undefined) { this.misses.set(o.name, true); return }
    // The observation's address is the named host (the server): the local side is unknown here.
    this.emit(r, '', o.ip || o.name, 0, o.tsUs, o.agentId, emit, [], `${o.nameSource} name ${o.name}`)
  }

  onEvent(e: DetectionEvent, emit: Emit): void {
    if (this.intel.empty) return
    for (const ip of [e.sourceIp, e.destinationIp]) {
      if (ip === '') continue
      const n = parseV4(ip)
      const r = n >= 0 ? this.intel.matchIpV4(n, ip) : this.intel.matchIp(ip)
      if (r) { this.emit(r, ip === e.sourceIp ? e.destinationIp : e.sourceIp, ip, e.destinationPort, e.tsUs, e.agentId, emit, [], undefined, e.eventId); return }
    }
    const r = (e.urlOriginal !== '' ? this.intel.matchUrl(e.urlOriginal) : undefined) ?? (e.urlDomain !== '' ? this.intel.matchDomain(e.urlDomain) : undefined)
    if (r) this.emit(r, e.sourceIp, e.urlDomain || e.urlOriginal, e.destinationPort, e.tsUs, e.agentId, emit, [], undefined, e.eventId)
  }

  private emit(r: IntelMatchResult, local: string, remote: string, port: number, ts: number, agent: string, emit: Emit, uids: string[], via?: string, eventId?: string): void {
    emit({
      type: 'intel_match', key: `${r.indicator}|${local}`, severity: 'high', score: 80, confidence: r.kind === 'cidr' ? 0.7 : 0.9, mitre: MITRE.intel_match,
      src: local, dst: remote, port, firstSeenUs: ts, lastSeenUs: ts, count: 1,
      summary: `${local || 'a host'} ↔ ${remote} matches ${r.kind} indicator ${r.indicator} from feed ${r.feed}${r.label ? ` (${r.label})` : ''}${via ? ` via ${via}` : ''}`,
      evidence: { ...(uids.length > 0 ? { flowUids: uids } : {}), ...(eventId ? { eventIds: [eventId] } : {}), intelSource: r.feed, indicator: r.indicator }, agents: [agent],
    })
  }

  stateSize(): number { return this.misses.size }
  evictions(): number { return this.misses.evicted }
}
