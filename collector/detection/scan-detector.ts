/**
 * `port_scan` (one source, many failed ports on one target) and `address_scan` (one source,
 * one port, many failed targets), counted as Zeek's scan policy counts them: only failed or
 * unanswered attempts, distinct ports / hosts within a window (default 15 / 25 in 5 min),
 * plus the same thresholds over a slow window (hours) for slow scans.
 *
 * State per key: the distinct items with their last time, at most `cap` of them (oldest
 * dropped); keys in a BoundedMap.
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionFlow, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { isFailedAttempt } from './failed-attempt.js'
import { HashKeys } from './hash-keys.js'

export interface ScanThresholds {
  count: number
  windowS: number
  slowCount: number
  slowWindowS: number
}

interface ScanState {
  items: Map<string | number, number>
  fired: boolean
  lastUs: number
  uids: string[]
  /** Distinct items ever added (items itself is capped). */
  distinct: number
  /** HashKeyed (hash-keys.ts): the IPv4 numbers of a state keyed by their hash; -1 when keyed by text. */
  ko: number
  kr: number
  kp: number
}

/** Transport names of flow views as numbers (address_scan's hash key); other names are keyed by text. */
const PROTO_NUMBER: Record<string, number> = { '': 0, tcp: 1, udp: 2, icmp: 3 }

abstract class ScanDetectorBase implements Detector {
  abstract readonly name: string
  /** By the detector's key text, or for IPv4 a number (hash-keys.ts): no text per flow. */
  protected readonly keys: BoundedMap<number | string, ScanState>
  protected readonly hashKeys: HashKeys<ScanState>
  private readonly cap: number

  /** `hashOf`: of the state keys (hash-keys.ts; tests pass one that collides). */
  constructor(protected readonly t: ScanThresholds, maxKeys: number, hashOf?: (o: number, r: number, p: number) => number) {
    this.keys = new BoundedMap(maxKeys)
    this.hashKeys = new HashKeys(this.keys, hashOf)
    this.cap = Math.max(t.count, t.slowCount) * 2
  }

  /** The key text of a flow's state. */
  protected abstract keyOf(f: DetectionFlow): string
  /** The state key of a flow (this.hashKeys.key: the state in hashKeys.found). */
  protected abstract stateKey(f: DetectionFlow): number | string
  protected abstract itemOf(f: DetectionFlow): string | number
  protected abstract finding(f: DetectionFlow, key: string, st: ScanState, emit: Emit, n: number, slow: boolean): void

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (!isFailedAttempt(f)) return
    const sk = this.stateKey(f)
    let st = this.hashKeys.found
    if (st === undefined) {
      const h = typeof sk === 'number'
      st = { items: new Map(), fired: false, lastUs: 0, uids: [], distinct: 0, ko: h ? this.hashKeys.o : -1, kr: h ? this.hashKeys.r : -1, kp: h ? this.hashKeys.p : -1 }
      this.keys.set(sk, st)
    }
    const item = this.itemOf(f)
    const isNew = !st.items.has(item)
    if (isNew) st.distinct++
    if (!isNew) st.items.delete(item)
    st.items.set(item, f.tsUs)
    if (f.tsUs > st.lastUs) st.lastUs = f.tsUs
    if (st.uids.length < 20) st.uids.push(f.uid)
    if (st.items.size > this.cap) {
      const slowCut = st.lastUs - this.t.slowWindowS * 1e6
      for (const [k, ts] of st.items) { if (ts >= slowCut && st.items.size <= this.cap) break; st.items.delete(k) }
    }
    if (!isNew) return
    if (st.fired) {
      this.finding(f, typeof sk === 'string' ? sk : this.keyOf(f), st, emit, 1, false)
      return
    }
    if (st.items.size < Math.min(this.t.count, this.t.slowCount)) return
    const fastCut = f.tsUs - this.t.windowS * 1e6
    const slowCut = f.tsUs - this.t.slowWindowS * 1e6
    let fast = 0; let slow = 0
    for (const ts of st.items.values()) {
      if (ts >= fastCut) fast++
      if (ts >= slowCut) slow++
    }
    if (fast >= this.t.count || slow >= this.t.slowCount) {
      st.fired = true
      this.finding(f, typeof sk === 'string' ? sk : this.keyOf(f), st, emit, Math.max(fast, slow), fast < this.t.count)
    }
  }

  tick(nowUs: number): void {
    const cut = nowUs - this.t.slowWindowS * 1e6
    this.keys.expireWhile((s) => s.lastUs < cut)
  }

  stateSize(): number { return this.keys.size }
  evictions(): number { return this.keys.evicted }
}

const portScanText = (f: DetectionFlow): string => `${f.origH}|${f.respH}`
const addressScanText = (f: DetectionFlow): string => `${f.origH}|${f.proto}/${f.respP}`

export class PortScanDetector extends ScanDetectorBase {
  readonly name = 'port_scan'
  protected keyOf(f: DetectionFlow): string { return `${f.origH}|${f.respH}` }
  protected stateKey(f: DetectionFlow): number | string { return this.hashKeys.key(f.origV4, f.respV4, 0, f, portScanText) }
  protected itemOf(f: DetectionFlow): number { return (f.proto === 'udp' ? 65536 : 0) + f.respP }
  protected finding(f: DetectionFlow, key: string, st: ScanState, emit: Emit, n: number, slow: boolean): void {
    const first = st.items.values().next().value ?? f.tsUs
    emit({
      type: 'port_scan', key, severity: 'medium', score: Math.min(100, 40 + st.distinct * 2), confidence: 0.9, mitre: MITRE.port_scan,
      src: f.origH, dst: f.respH, port: 0, firstSeenUs: first, lastSeenUs: f.tsUs, count: n,
      summary: `${f.origH} probed ${st.distinct} ports on ${f.respH} without a completed connection${slow ? ' (slow scan)' : ''}`,
      evidence: { flowUids: st.fired && n === 1 ? [f.uid] : st.uids.slice() }, agents: [f.agentId],
    })
  }
}

export class AddressScanDetector extends ScanDetectorBase {
  readonly name = 'address_scan'
  protected keyOf(f: DetectionFlow): string { return `${f.origH}|${f.proto}/${f.respP}` }
  protected stateKey(f: DetectionFlow): number | string {
    const proto = PROTO_NUMBER[f.proto] ?? -1
    return this.hashKeys.key(proto < 0 ? -1 : f.origV4, proto * 65536 + f.respP, 1, f, addressScanText)
  }
  /** The responder: IPv4 as its number (no text per flow), else its text; one-to-one either way. */
  protected itemOf(f: DetectionFlow): string | number { return f.respV4 >= 0 ? f.respV4 : f.respH }
  protected finding(f: DetectionFlow, key: string, st: ScanState, emit: Emit, n: number, slow: boolean): void {
    const first = st.items.values().next().value ?? f.tsUs
    emit({
      type: 'address_scan', key, severity: 'medium', score: Math.min(100, 40 + st.distinct), confidence: 0.9, mitre: MITRE.address_scan,
      src: f.origH, dst: '', port: f.respP, firstSeenUs: first, lastSeenUs: f.tsUs, count: n,
      summary: `${f.origH} probed ${st.distinct} hosts on ${f.proto}/${f.respP} without a completed connection${slow ? ' (slow scan)' : ''}`,
      evidence: { flowUids: st.fired && n === 1 ? [f.uid] : st.uids.slice() }, agents: [f.agentId],
    })
  }
}
