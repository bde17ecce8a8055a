/**
 * `intel_match`: a flow endpoint, a DNS/TLS/HTTP name, a JA3/JA4 or certificate fingerprint,
 * a log event's address, domain or URL found in a threat-intel feed. One incident per
 * (indicator, local host). The lookup is an interface so the detector stays pure
 * (collector/intel implements it).
 *
 * Names come from the agent's app rows (dns query and answers, ssl server_name, http host
 * and URL — with the client that asked) and from host observations (the same names without
 * the client). An agent that ships rows of a log has its observations of that kind skipped,
 * so one sighting is one alert, keyed by the client.
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionAppRecord, DetectionEvent, DetectionFlow, DetectionObservation, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { parseV4 } from './net-match.js'

export interface IntelMatchResult { feed: string; kind: string; indicator: string; label: string }

export interface IntelLookup {
  readonly empty: boolean
  /** `text` omitted: the indicator of an exact match is the dotted text of `n` (no text per flow). */
  matchIpV4(n: number, text?: string): IntelMatchResult | undefined
  matchIp(ip: string): IntelMatchResult | undefined
  matchDomain(name: string): IntelMatchResult | undefined
  matchUrl(url: string): IntelMatchResult | undefined
  matchHash(kind: 'ja3' | 'ja4' | 'cert_hash', value: string): IntelMatchResult | undefined
}

/** Observation name sources the agent's rows of a log also carry (with the client). */
const ROW_LOG_OF_SOURCE: Readonly<Record<string, string>> = { dns_a: 'dns', ssl_sni: 'ssl', http_host: 'http' }

export class IntelMatchDetector implements Detector {
  readonly name = 'intel_match'
  /** Names already looked up with no match (names repeat a lot; bounded). */
  private readonly misses: BoundedMap<string, true>
  /** "agent|log" of the app logs each agent ships rows of (bounded like every key set). */
  private readonly rowLogs: BoundedMap<string, true>

  constructor(private readonly intel: IntelLookup, maxKeys: number) {
    this.misses = new BoundedMap(maxKeys)
    this.rowLogs = new BoundedMap(maxKeys)
  }

  appLogsOf(agentId: string, logs: ReadonlySet<string>): void {
    for (const l of logs) if (l === 'dns' || l === 'ssl' || l === 'http') this.rowLogs.set(`${agentId}|${l}`, true)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (this.intel.empty) return
    // IPv4 by number: the address text is built only on a match.
    const r = f.respV4 >= 0 ? this.intel.matchIpV4(f.respV4) : this.intel.matchIp(f.respH)
    if (r !== undefined) { this.emit(r, f.origH, f.respH, f.respP, f.tsUs, f.agentId, emit, [f.uid]); return }
    const o = f.origV4 >= 0 ? this.intel.matchIpV4(f.origV4) : this.intel.matchIp(f.origH)
    if (o !== undefined) this.emit(o, f.respH, f.origH, f.respP, f.tsUs, f.agentId, emit, [f.uid])
  }

  onObservation(o: DetectionObservation, emit: Emit): void {
    if (this.intel.empty || o.name === '' || o.nameSource === 'dhcp' || o.nameSource === 'netbios') return
    const rowLog = ROW_LOG_OF_SOURCE[o.nameSource]
    if (rowLog !== undefined && this.rowLogs.get(`${o.agentId}|${rowLog}`) !== undefined) return
    if (this.misses.get(o.name) !== undefined) return
    const r = this.intel.matchDomain(o.name)
    if (r === undefined) { this.misses.set(o.name, true); return }
    // The observation's address is the named host (the server): the local side is unknown here.
    this.emit(r, '', o.ip || o.name, 0, o.tsUs, o.agentId, emit, [], `${o.nameSource} name ${o.name}`)
  }

  onAppRecord(r: DetectionAppRecord, emit: Emit): void {
    if (this.intel.empty) return
    const via = (what: string, v: string): string => `${r.log} ${what} ${v.length > 200 ? `${v.slice(0, 200)}…` : v}`
    const hit = (m: IntelMatchResult | undefined, remote: string, what: string, v: string): boolean => {
      if (m === undefined) return false
      this.emit(m, r.origH, remote || r.respH, r.respP, r.tsUs, r.agentId, emit, r.uid !== '' ? [r.uid] : [], via(what, v))
      return true
    }
    if (r.log === 'dns') {
      const q = r.str('query')
      if (q !== '' && hit(this.lookupName(q), q, 'query', q)) return
      // CNAME targets and other names among the answers (addresses are the flows' business).
      for (const a of r.strs('answers')) if (a.includes('.') && !/^[\d.]+$|:/.test(a) && hit(this.lookupName(a), a, 'answer', a)) return
    } else if (r.log === 'ssl') {
      const sni = r.str('server_name')
      if (sni !== '' && hit(this.lookupName(sni), sni, 'server_name', sni)) return
      for (const k of ['ja3', 'ja4'] as const) {
        const v = r.str(k)
        if (v !== '' && hit(this.intel.matchHash(k, v), '', k, v)) return
      }
      for (const fp of r.strs('cert_chain_fps')) if (hit(this.intel.matchHash('cert_hash', fp), '', 'certificate', fp)) return
    } else if (r.log === 'http') {
      const host = r.str('host')
      const uri = r.str('uri')
      if (host !== '' && uri !== '') {
        const url = `http://${host}${uri.startsWith('/') ? '' : '/'}${uri}`
        if (hit(this.intel.matchUrl(url), host, 'url', url)) return
      }
      if (host !== '') hit(this.lookupName(host.replace(/:\d+$/, '')), host, 'host', host)
    }
  }

  /** A domain lookup with the misses cache (names repeat a lot). */
  private lookupName(n: string): IntelMatchResult | undefined {
    if (this.misses.get(n) !== undefined) return undefined
    const m = this.intel.matchDomain(n)
    if (m === undefined) this.misses.set(n, true)
    return m
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

  stateSize(): number { return this.misses.size + this.rowLogs.size }
  evictions(): number { return this.misses.evicted + this.rowLogs.evicted }
}
