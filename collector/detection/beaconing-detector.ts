/**
 * `beaconing`: connections from one host to one destination and port at a regular
 * interval, over a long span (default ≥ 20 connections over ≥ 30 min). Regularity is the
 * relative spread of the intervals — median absolute deviation / median — so jitter of a
 * few percent still counts as periodic, while human or Poisson-like traffic (spread ≈ 0.7)
 * does not. Score = share of intervals within ±max_jitter of the median (0–100).
 *
 * State per (source, destination, port): the last `history` start times (a ring), created
 * at the second connection (the first is remembered as a hash only, so the first
 * connection's time is not in the ring).
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionFlow, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { HashKeys } from './hash-keys.js'

export interface BeaconConfig {
  minConnections: number
  minSpanS: number
  maxJitter: number
  minIntervalS: number
  minScore: number
  history: number
  ignorePorts: readonly number[]
  externalOnly: boolean
}

interface BeaconState {
  /** Grows to `history`, then used as a ring. */
  times: number[]
  n: number
  head: number
  last: number
  first: number
  fired: boolean
  sinceCheck: number
  uids: string[]
  agent: string
  median: number
  jitter: number
  /** HashKeyed: the IPv4 triple (source, destination, port) of a state keyed by its hash. */
  ko: number
  kr: number
  kp: number
}

const tripleText = (f: DetectionFlow): string => `${f.origH}|${f.respH}|${f.respP}`

export class BeaconingDetector implements Detector {
  readonly name = 'beaconing'
  /** State by tripleHash (IPv4 triples) or "src|dst|port" text (IPv6, and IPv4 triples whose hash another holds). */
  private readonly keys: BoundedMap<number | string, BeaconState>
  private readonly hashKeys: HashKeys<BeaconState>
  private readonly ignore: Set<number>
  private readonly scratch: Float64Array
  /** Hashes of IPv4 triples seen once (cleared when full: bounded). */
  private readonly once = new Set<number>()
  private readonly maxOnce: number
  private onceResets = 0

  /** `hashOf`: of the state keys (hash-keys.ts; tests pass one that collides). */
  constructor(private readonly c: BeaconConfig, maxKeys: number, private readonly isLocal: (f: DetectionFlow, side: 'orig' | 'resp') => boolean,
    hashOf?: (o: number, r: number, p: number) => number) {
    this.keys = new BoundedMap(maxKeys)
    this.hashKeys = new HashKeys(this.keys, hashOf)
    this.ignore = new Set(c.ignorePorts)
    this.scratch = new Float64Array(c.history)
    this.maxOnce = maxKeys * 4
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (this.ignore.has(f.respP) || f.proto === 'icmp') return
    if (this.c.externalOnly && (!this.isLocal(f, 'orig') || this.isLocal(f, 'resp'))) return
    // Most (source, destination, port) triples occur once: the first sighting is kept only
    // as a 32-bit hash in a numeric set (no string key, no state object).
    if (f.origV4 >= 0 && f.respV4 >= 0) {
      // Signed (| 0, not >>> 0): the same 2^32 values, kept as small integers (no number allocated per flow).
      const h = Math.imul(f.origV4 ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(f.respV4 + f.respP * 0x10001, 0xc2b2ae35)
      if (!this.once.has(h)) {
        if (this.once.size >= this.maxOnce) { this.once.clear(); this.onceResets++ }
        this.once.add(h)
        return
      }
    }
    // "src|dst|port", or for IPv4 a number (hash-keys.ts): no text per flow.
    const key = this.hashKeys.key(f.origV4, f.respV4, f.respP, f, tripleText)
    let st = this.hashKeys.found
    if (st === undefined) {
      const hashed = typeof key === 'number'
      st = {
        times: [], n: 0, head: 0, last: 0, first: f.tsUs, fired: false, sinceCheck: 0, uids: [], agent: f.agentId, median: 0, jitter: 0,
        ko: hashed ? f.origV4 : -1, kr: hashed ? f.respV4 : -1, kp: hashed ? f.respP : -1,
      }
      this.keys.set(key, st)
    }
    if (st.n > 0 && f.tsUs - st.last < this.c.minIntervalS * 1e6) return
    if (st.times.length < this.c.history) st.times.push(f.tsUs)
    else st.times[st.head] = f.tsUs
    st.head = (st.head + 1) % this.c.history
    if (st.n < this.c.history) st.n++
    st.last = f.tsUs
    if (st.uids.length < 10) st.uids.push(f.uid)
    if (st.fired) {
      emit(this.finding(f, key, st, 1, 0, [f.uid], st.median, st.jitter))
      return
    }
    if (st.n < Math.min(this.c.minConnections, this.c.history) || f.tsUs - st.first < this.c.minSpanS * 1e6) return
    if (++st.sinceCheck < 4 && st.n < this.c.history) return
    st.sinceCheck = 0
    const r = this.regularity(st)
    if (r.jitter <= this.c.maxJitter && r.score >= this.c.minScore) {
      st.fired = true
      st.median = r.median
      st.jitter = r.jitter
      emit(this.finding(f, key, st, st.n, r.score, st.uids.slice(), r.median, r.jitter))
    }
  }

  /** Median interval, relative MAD and score over the ring's intervals. */
  private regularity(st: BeaconState): { median: number; jitter: number; score: number } {
    const n = st.n
    const start = n < this.c.history ? 0 : st.head
    const t = this.scratch
    for (let i = 0; i < n; i++) t[i] = st.times[(start + i) % this.c.history]!
    const iv = new Float64Array(n - 1)
    for (let i = 1; i < n; i++) iv[i - 1] = t[i]! - t[i - 1]!
    iv.sort()
    const median = iv[(iv.length - 1) >> 1]!
    if (median <= 0) return { median: 0, jitter: Infinity, score: 0 }
    const dev = iv.map((v) => Math.abs(v - median)).sort()
    const mad = dev[(dev.length - 1) >> 1]!
    let within = 0
    for (const v of iv) if (Math.abs(v - median) <= this.c.maxJitter * median) within++
    return { median, jitter: mad / median, score: Math.round((100 * within) / iv.length) }
  }

  private finding(f: DetectionFlow, stateKey: number | string, st: BeaconState, count: number, score: number, uids: string[], median = 0, jitter = 0) {
    const key = typeof stateKey === 'string' ? stateKey : tripleText(f)
    return {
      type: 'beaconing' as const, key, severity: 'medium' as const, score, confidence: score > 0 ? score / 100 : 0.8, mitre: MITRE.beaconing,
      src: f.origH, dst: f.respH, port: f.respP, firstSeenUs: st.first, lastSeenUs: f.tsUs, count,
      summary: median > 0
        ? `${f.origH} connects to ${f.respH}:${f.respP} every ${(median / 1e6).toFixed(1)} s (relative jitter ${(jitter * 100).toFixed(1)}%)`
        : `${f.origH} keeps beaconing to ${f.respH}:${f.respP}`,
      evidence: { flowUids: uids }, agents: [st.agent],
    }
  }

  tick(nowUs: number): void {
    // A key silent for 3 × the span it needs is forgotten.
    const cut = nowUs - 3 * this.c.minSpanS * 1e6
    this.keys.expireWhile((s) => s.last < cut)
  }

  stateSize(): number { return this.keys.size }
  evictions(): number { return this.keys.evicted + this.onceResets }
}
