/**
 * `exfiltration`: a local host sending an external destination far more than it usually
 * sends. Per source host: outbound bytes per window (default 1 h) and an exponentially
 * weighted mean of past windows (empty windows count as zero) — the host's own baseline.
 * Alert when the bytes to ONE external destination in the current window reach the
 * absolute threshold, or reach `min_bytes` and `baseline_factor` × the baseline once the
 * baseline has `baseline_windows` of history. Interim flow records carry running totals,
 * so only the growth since the last record of the same uid is added. Per-destination
 * volume is a number per destination (at most 4096 per host and window); first_seen of an
 * alert is the start of the window its volume was counted in.
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionFlow, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'

export interface ExfilConfig {
  windowS: number
  absoluteBytes: number
  minBytes: number
  baselineFactor: number
  baselineWindows: number
}

interface HostState {
  window: number
  total: number
  mean: number
  windows: number
  /** Bytes per destination in the current window (IPv4 as a signed 32-bit number): no object per destination. */
  bytesTo: Map<number | string, number>
  /** Destinations already alerted (their incident keeps growing); undefined until the first: most hosts never alert, and no map is read per flow for them. */
  fired: Map<number | string, { bytes: number; first: number; last: number }> | undefined
  windowStartUs: number
  last: number
  agent: string
}

const ALPHA = 0.2

export class ExfiltrationDetector implements Detector {
  readonly name = 'exfiltration'
  /** IPv4 source as a signed 32-bit number, IPv6 as text. */
  private readonly hosts: BoundedMap<number | string, HostState>
  private readonly seen: BoundedMap<string, number>

  constructor(private readonly c: ExfilConfig, maxKeys: number, private readonly isLocal: (f: DetectionFlow, side: 'orig' | 'resp') => boolean) {
    this.hosts = new BoundedMap(maxKeys)
    this.seen = new BoundedMap(maxKeys)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (f.origBytes === 0 || !this.isLocal(f, 'orig') || this.isLocal(f, 'resp')) return
    let bytes = f.origBytes
    // Interim records carry running totals: remember what was counted per uid until the final record.
    if (f.uid !== '' && (f.interim || this.seen.size > 0)) {
      const before = this.seen.get(f.uid)
      if (before !== undefined) bytes = Math.max(0, f.origBytes - before)
      if (f.interim) this.seen.set(f.uid, f.origBytes)
      else if (before !== undefined) this.seen.delete(f.uid)
    }
    const win = Math.floor(f.tsUs / (this.c.windowS * 1e6))
    // IPv4 as a signed 32-bit number (one-to-one with the address): a small-integer key, no number allocated per lookup.
    const hk = f.origV4 >= 0 ? f.origV4 | 0 : f.origH
    let st = this.hosts.touch(hk)
    if (st === undefined) {
      st = { window: win, total: 0, mean: 0, windows: 0, bytesTo: new Map(), fired: undefined, windowStartUs: f.tsUs, last: f.tsUs, agent: f.agentId }
      this.hosts.set(hk, st)
    }
    if (win > st.window) {
      // Close the finished window and any empty ones after it.
      st.mean = st.windows === 0 ? st.total : st.mean + ALPHA * (st.total - st.mean)
      st.windows++
      for (let i = 0; i < Math.min(win - st.window - 1, 48); i++) { st.mean *= 1 - ALPHA; st.windows++ }
      st.window = win
      st.total = 0
      st.bytesTo.clear()
      st.windowStartUs = f.tsUs
    }
    st.total += bytes
    if (f.tsUs > st.last) st.last = f.tsUs
    const dk = f.respV4 >= 0 ? f.respV4 | 0 : f.respH
    const done = st.fired === undefined ? undefined : st.fired.get(dk)
    if (done !== undefined) {
      done.bytes += bytes
      if (f.tsUs > done.last) done.last = f.tsUs
      if (bytes > 0) emit(this.finding(f, st, done, 1, [f.uid]))
      return
    }
    let d = st.bytesTo.get(dk)
    if (d === undefined && st.bytesTo.size >= 4096) return
    d = (d ?? 0) + bytes
    st.bytesTo.set(dk, d)
    const overBaseline = st.windows >= this.c.baselineWindows && d >= this.c.minBytes && d >= this.c.baselineFactor * Math.max(st.mean, 1)
    if (d >= this.c.absoluteBytes || overBaseline) {
      const rec = { bytes: d, first: st.windowStartUs, last: f.tsUs }
      st.fired ??= new Map()
      if (st.fired.size < 1024) st.fired.set(dk, rec)
      emit(this.finding(f, st, rec, 1, [f.uid]))
    }
  }

  private finding(f: DetectionFlow, st: HostState, d: { bytes: number; first: number; last: number }, count: number, uids: string[]) {
    const ratio = st.mean > 0 ? d.bytes / st.mean : Infinity
    return {
      type: 'exfiltration' as const, key: `${f.origH}|${f.respH}`, severity: d.bytes >= this.c.absoluteBytes ? 'critical' as const : 'high' as const,
      score: Math.min(100, Math.round(60 + Math.min(40, Number.isFinite(ratio) ? ratio : 40))), confidence: st.windows >= this.c.baselineWindows ? 0.8 : 0.6,
      mitre: MITRE.exfiltration, src: f.origH, dst: f.respH, port: f.respP, firstSeenUs: d.first, lastSeenUs: d.last, count,
      summary: `${f.origH} sent ${d.bytes} bytes to ${f.respH} within ${this.c.windowS} s (its baseline: ${Math.round(st.mean)} bytes per window)`,
      evidence: { flowUids: uids }, agents: [st.agent],
    }
  }

  tick(nowUs: number): void {
    const cut = nowUs - 48 * this.c.windowS * 1e6
    this.hosts.expireWhile((s) => s.last < cut)
  }

  /**
   * Each host's baseline: window, bytes so far in it, mean, windows counted, window start,
   * last seen, agent. Per-destination volumes of the current window and open incidents are
   * not kept (a destination counts from zero again after a restart).
   */
  saveState(): unknown {
    const hosts: unknown[] = []
    for (const [k, s] of this.hosts.entries()) hosts.push([k, s.window, s.total, s.mean, s.windows, s.windowStartUs, s.last, s.agent])
    return { v: 1, windowS: this.c.windowS, hosts }
  }

  loadState(s: unknown): boolean {
    const st = s as { v?: unknown; windowS?: unknown; hosts?: unknown } | null
    // Windows of another length are another baseline: not restored.
    if (st === null || typeof st !== 'object' || st.v !== 1 || st.windowS !== this.c.windowS || !Array.isArray(st.hosts)) return false
    for (const e of st.hosts) {
      if (!Array.isArray(e) || e.length !== 8 || (typeof e[0] !== 'number' && typeof e[0] !== 'string') || typeof e[7] !== 'string') continue
      const [k, window, total, mean, windows, windowStartUs, last, agent] = e as [number | string, unknown, unknown, unknown, unknown, unknown, unknown, string]
      if (![window, total, mean, windows, windowStartUs, last].every((x) => typeof x === 'number' && Number.isFinite(x))) continue
      if (this.hosts.get(k) !== undefined) continue
      this.hosts.set(k, { window: window as number, total: total as number, mean: mean as number, windows: windows as number, bytesTo: new Map(), fired: undefined, windowStartUs: windowStartUs as number, last: last as number, agent })
    }
    return true
  }

  stateSize(): number { return this.hosts.size + this.seen.size }
  evictions(): number { return this.hosts.evicted + this.seen.evicted }
}
