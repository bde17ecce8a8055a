/**
 * `dns_tunnel`, three rules:
 *   * volume (flows): one host sending a resolver many DNS queries whose mean size is far
 *     above normal (tunnels pack data into long names) and a large client payload in the
 *     window — keyed by (client, resolver);
 *   * names: many unique subdomains, or many distinct long high-entropy labels, under one
 *     registered domain — keyed by that domain. Names come from the agent's dns rows (every
 *     query, answered or not) and from host observations (answers with A/AAAA/PTR data); a
 *     name seen both ways counts once;
 *   * TXT/NULL (dns rows): one client asking for many distinct TXT or NULL names under one
 *     registered domain, the record types tunnels (iodine, dnscat2, DNSExfiltrator) carry
 *     their downstream in — keyed by (client, domain).
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionAppRecord, DetectionFlow, DetectionObservation, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { HashKeys } from './hash-keys.js'
import { entropy, registeredDomain } from './dns-names.js'

export interface DnsTunnelConfig {
  windowS: number
  minQueries: number
  minQueryBytes: number
  minVolumeBytes: number
  uniqueSubdomains: number
  longLabel: number
  entropy: number
  encodedLabels: number
  txtQueries: number
}

/** ko, kr, kp: HashKeyed (the IPv4 pair of a state keyed by its hash, kp 0; -1 when keyed by text). */
interface VolState { windowStart: number; queries: number; bytes: number; pkts: number; fired: boolean; first: number; last: number; uids: string[]; agent: string; ko: number; kr: number; kp: number }

const pairText = (f: DetectionFlow): string => `${f.origH}|${f.respH}`
interface NameState { windowStart: number; names: Set<string>; encoded: number; fired: boolean; first: number; last: number; agent: string; sample: string }
/** TXT/NULL queries of one client under one domain: distinct names (bounded by txtQueries), the first uids. */
interface TxtState { windowStart: number; names: Set<string>; fired: boolean; first: number; last: number; agent: string; uids: string[]; client: string; resolver: string; domain: string }

/** Query types tunnels use for their downstream (Zeek's qtype_name). */
const TUNNEL_QTYPES = new Set(['TXT', 'NULL'])

export class DnsTunnelDetector implements Detector {
  readonly name = 'dns_tunnel'
  /** By (client, resolver): "orig|resp" text, or for IPv4 a number (hash-keys.ts). */
  private readonly vol: BoundedMap<number | string, VolState>
  private readonly volKeys: HashKeys<VolState>
  private readonly names: BoundedMap<string, NameState>
  private readonly txt: BoundedMap<string, TxtState>

  /** `hashOf`: of the volume state keys (hash-keys.ts; tests pass one that collides). */
  constructor(private readonly c: DnsTunnelConfig, maxKeys: number, hashOf?: (o: number, r: number, p: number) => number) {
    this.vol = new BoundedMap(maxKeys)
    this.volKeys = new HashKeys(this.vol, hashOf)
    this.names = new BoundedMap(maxKeys)
    this.txt = new BoundedMap(maxKeys)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (f.respP !== 53 && !f.service.includes('dns')) return
    if (f.proto !== 'udp' && f.proto !== 'tcp') return
    const key = this.volKeys.key(f.origV4, f.respV4, 0, f, pairText)
    let st = this.volKeys.found
    const w = this.c.windowS * 1e6
    if (st === undefined || (!st.fired && f.tsUs - st.windowStart >= w)) {
      const hashed = typeof key === 'number'
      st = {
        windowStart: f.tsUs, queries: 0, bytes: 0, pkts: 0, fired: st?.fired ?? false, first: st?.first ?? f.tsUs, last: 0, uids: [], agent: f.agentId,
        ko: hashed ? f.origV4 : -1, kr: hashed ? f.respV4 : -1, kp: hashed ? 0 : -1,
      }
      this.vol.set(key, st)
    }
    st.queries++
    st.bytes += f.origBytes
    st.pkts += f.origPkts
    if (f.tsUs > st.last) st.last = f.tsUs
    if (st.uids.length < 10) st.uids.push(f.uid)
    if (st.fired) {
      emit(this.volFinding(f, key, st, 1, [f.uid]))
      return
    }
    if (st.queries >= this.c.minQueries && st.bytes >= this.c.minVolumeBytes && st.pkts > 0 && st.bytes / st.pkts >= this.c.minQueryBytes) {
      st.fired = true
      emit(this.volFinding(f, key, st, st.queries, st.uids.slice()))
    }
  }

  private volFinding(f: DetectionFlow, stateKey: number | string, st: VolState, count: number, uids: string[]) {
    const key = typeof stateKey === 'string' ? stateKey : pairText(f)
    return {
      type: 'dns_tunnel' as const, key: `vol:${key}`, severity: 'high' as const, score: Math.min(100, Math.round(50 + (st.bytes / st.pkts) / 4)),
      confidence: 0.7, mitre: MITRE.dns_tunnel, src: f.origH, dst: f.respH, port: f.respP, firstSeenUs: st.first, lastSeenUs: st.last, count,
      summary: `${f.origH} sent ${st.queries} DNS queries (${st.bytes} bytes, ${(st.bytes / st.pkts).toFixed(0)} bytes per query) to ${f.respH}`,
      evidence: { flowUids: uids }, agents: [st.agent],
    }
  }

  /** A DNS name seen (observation from a DNS answer, or a query record). */
  onName(name: string, tsUs: number, agentId: string, emit: Emit): void {
    if (name === '' || !name.includes('.')) return
    const dom = registeredDomain(name)
    const sub = name.length > dom.length ? name.slice(0, name.length - dom.length - 1).toLowerCase() : ''
    if (sub === '') return
    let st = this.names.touch(dom)
    const w = this.c.windowS * 1e6
    if (st === undefined || (!st.fired && tsUs - st.windowStart >= w)) {
      st = { windowStart: tsUs, names: new Set(), encoded: 0, fired: st?.fired ?? false, first: st?.first ?? tsUs, last: tsUs, agent: agentId, sample: '' }
      this.names.set(dom, st)
    }
    if (tsUs > st.last) st.last = tsUs
    // A name already counted (the answer's observation and the query's row, a retry) adds nothing.
    if (st.names.has(sub)) return
    if (st.names.size < this.c.uniqueSubdomains) st.names.add(sub)
    let encoded = false
    for (const label of sub.split('.')) {
      if (label.length >= this.c.longLabel && entropy(label) >= this.c.entropy) { encoded = true; break }
    }
    if (encoded) { st.encoded++; if (st.sample === '') st.sample = name }
    if (st.fired) {
      emit(this.nameFinding(dom, st, 1))
      return
    }
    if (st.names.size >= this.c.uniqueSubdomains || st.encoded >= this.c.encodedLabels) {
      st.fired = true
      emit(this.nameFinding(dom, st, Math.max(st.names.size, st.encoded)))
    }
  }

  private nameFinding(dom: string, st: NameState, count: number) {
    return {
      type: 'dns_tunnel' as const, key: `name:${dom}`, severity: 'high' as const, score: Math.min(100, 50 + st.encoded),
      confidence: 0.75, mitre: MITRE.dns_tunnel, src: '', dst: dom, port: 53, firstSeenUs: st.first, lastSeenUs: st.last, count,
      summary: `${st.names.size} distinct names and ${st.encoded} encoded-looking labels under ${dom}${st.sample ? ` (e.g. ${st.sample.slice(0, 120)})` : ''}`,
      evidence: {}, agents: [st.agent],
    }
  }

  /** dns rows: the query name feeds the names rule; TXT/NULL queries the TXT rule. */
  onAppRecord(r: DetectionAppRecord, emit: Emit): void {
    if (r.log !== 'dns') return
    const query = r.str('query')
    if (query === '') return
    // Reverse lookups and link-local multicast names are many and unique by nature.
    const lower = query.toLowerCase()
    if (lower.endsWith('.arpa') || lower.endsWith('.local')) return
    this.onName(query, r.tsUs, r.agentId, emit)
    if (!TUNNEL_QTYPES.has(r.str('qtype_name'))) return
    const name = lower
    const dom = registeredDomain(name)
    if (dom === name || r.origH === '') return
    const key = `${r.origH}|${dom}`
    let st = this.txt.touch(key)
    const w = this.c.windowS * 1e6
    if (st === undefined || (!st.fired && r.tsUs - st.windowStart >= w)) {
      st = { windowStart: r.tsUs, names: new Set(), fired: st?.fired ?? false, first: st?.first ?? r.tsUs, last: r.tsUs, agent: r.agentId, uids: [], client: r.origH, resolver: r.respH, domain: dom }
      this.txt.set(key, st)
    }
    if (r.tsUs > st.last) st.last = r.tsUs
    if (st.names.has(name)) return
    if (st.names.size < this.c.txtQueries) st.names.add(name)
    if (st.uids.length < 10 && r.uid !== '') st.uids.push(r.uid)
    if (st.fired) {
      emit(this.txtFinding(key, st, 1, r.uid === '' ? [] : [r.uid]))
      return
    }
    if (st.names.size >= this.c.txtQueries) {
      st.fired = true
      emit(this.txtFinding(key, st, st.names.size, st.uids.slice()))
    }
  }

  private txtFinding(key: string, st: TxtState, count: number, uids: string[]) {
    return {
      type: 'dns_tunnel' as const, key: `txt:${key}`, severity: 'high' as const, score: 80,
      confidence: 0.8, mitre: MITRE.dns_tunnel, src: st.client, dst: st.resolver || st.domain, port: 53, firstSeenUs: st.first, lastSeenUs: st.last, count,
      summary: `${st.client} asked for ${st.names.size}${st.names.size >= this.c.txtQueries ? '+' : ''} distinct TXT/NULL names under ${st.domain}${st.resolver ? ` (resolver ${st.resolver})` : ''}`,
      evidence: uids.length > 0 ? { flowUids: uids } : {}, agents: [st.agent],
    }
  }

  onObservation(o: DetectionObservation, emit: Emit): void {
    if (o.nameSource === 'dns_a' || o.nameSource === 'dns_ptr') this.onName(o.name, o.tsUs, o.agentId, emit)
  }

  tick(nowUs: number): void {
    const cut = nowUs - 2 * this.c.windowS * 1e6
    this.vol.expireWhile((s) => s.last < cut)
    this.names.expireWhile((s) => s.last < cut)
    this.txt.expireWhile((s) => s.last < cut)
  }

  stateSize(): number { return this.vol.size + this.names.size + this.txt.size }
  evictions(): number { return this.vol.evicted + this.names.evicted + this.txt.evicted }
}
