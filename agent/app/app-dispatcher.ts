/**
 * Attaches application analyzers to connections and feeds them: by well-known port at
 * creation (Zeek's port registration), by content (dynamic protocol detection over the
 * first `dpdBufferBytes` of each direction), by expectation (FTP data channels) and by
 * upgrade (STARTTLS). Owns the per-connection TCP byte streams. Analyzer output goes to the
 * sinks given by the entry point; an analyzer that throws is detached and counted, never
 * allowed to take the sensor down.
 */
import type { AppAnalyzerFactory, AppConnInfo, AppOutput, AppTransport, HostObservation } from './app-analyzer.js'
import { AppSession, type AttachedAnalyzer, type SessionOwner } from './app-session.js'
import { Counters } from '../util/counters.js'

export interface AppDispatcherConfig {
  /** Bytes of each direction inspected for protocol detection (Zeek's dpd_buffer_size). */
  dpdBufferBytes: number
  /** Out-of-order bytes buffered per TCP direction for analyzers. */
  maxStreamBuffer: number
  /** Expected connections remembered at most (oldest dropped first). */
  maxExpected: number
  /** Analyzer names to leave out ('' = none). */
  disabled: readonly string[]
}

export const DEFAULT_APP_DISPATCHER_CONFIG: AppDispatcherConfig = {
  dpdBufferBytes: 1024,
  maxStreamBuffer: 256 * 1024,
  maxExpected: 10_000,
  disabled: [],
}

export interface AppDispatcherDeps {
  factories: readonly AppAnalyzerFactory[]
  onLog: (path: string, row: Record<string, unknown>) => void
  onObservation?: (obs: HostObservation, conn: AppConnInfo) => void
  onAnomaly?: (name: string, conn: AppConnInfo) => void
}

interface Expected { origH: string | undefined; service: string; analyzer: string | undefined; expires: number }

export type AppCounter = 'sessions' | 'analyzers_attached' | 'analyzers_by_port' | 'analyzers_by_detection' |
  'analyzers_by_expectation' | 'analyzers_by_upgrade' | 'violations' | 'analyzer_exceptions' | 'log_rows' |
  'stream_bytes_dropped' | 'stream_gaps' | 'expected_dropped'

export class AppDispatcher implements SessionOwner {
  readonly counters = new Counters<AppCounter>()
  private readonly byPort = new Map<string, AppAnalyzerFactory[]>()
  private readonly byName = new Map<string, AppAnalyzerFactory>()
  private readonly detectors: Record<AppTransport, AppAnalyzerFactory[]> = { tcp: [], udp: [] }
  private readonly expected = new Map<string, Expected>()
  /** Latest packet time seen, for expectation lifetimes. */
  private now = 0
  readonly cfg: AppDispatcherConfig

  constructor(cfg: Partial<AppDispatcherConfig>, private readonly deps: AppDispatcherDeps) {
    this.cfg = { ...DEFAULT_APP_DISPATCHER_CONFIG, ...cfg }
    for (const f of deps.factories) {
      if (this.cfg.disabled.includes(f.name)) continue
      this.byName.set(f.name, f)
      for (const t of f.transports) {
        for (const p of f.ports) {
          const k = `${t}/${p}`
          const list = this.byPort.get(k) ?? []
          list.push(f)
          this.byPort.set(k, list)
        }
        if (f.detect) this.detectors[t].push(f)
      }
    }
  }

  /** A new TCP or UDP connection (after Zeek's orientation). Returns its session. */
  open(conn: AppConnInfo, ts: number): AppSession {
    this.counters.inc('sessions')
    const s = new AppSession(conn, this.cfg.maxStreamBuffer, conn.proto === 'tcp', this)
    const exp = this.takeExpected(conn, ts)
    if (exp) {
      s.addService(exp.service)
      const f = exp.analyzer ? this.byName.get(exp.analyzer) : undefined
      if (f) { this.attach(s, f); this.counters.inc('analyzers_by_expectation') }
      s.dpdDone = true
      return s
    }
    const list = this.byPort.get(`${conn.proto}/${conn.respP}`)
    if (list) {
      for (const f of list) { this.attach(s, f); this.counters.inc('analyzers_by_port') }
    }
    return s
  }

  /** A TCP payload segment at relative sequence `seq` (data may be a view). */
  tcpPayload(s: AppSession, isOrig: boolean, seq: number, data: Buffer, ts: number): void {
    if (!s.streams || s.closed) return
    s.now = ts
    s.stream(isOrig).add(seq, data)
  }

  /** The direction `isOrig` was acknowledged up to relative `ack` by its peer. */
  tcpAck(s: AppSession, isOrig: boolean, ack: number, ts: number): void {
    if (!s.streams || s.closed) return
    s.now = ts
    s.stream(isOrig).acked(ack)
  }

  udpPayload(s: AppSession, isOrig: boolean, data: Buffer, ts: number): void {
    if (s.closed) return
    this.deliver(s, isOrig, data, ts)
  }

  /** The connection is being removed: flush streams and let analyzers write what is pending. */
  close(s: AppSession, ts: number): void {
    if (s.closed) return
    if (s.streams) {
      s.now = ts
      s.streams[0].flush()
      s.streams[1].flush()
      this.counters.inc('stream_bytes_dropped', s.streams[0].dropped + s.streams[1].dropped)
    }
    s.closed = true
    for (const a of s.analyzers) {
      if (a.detached) continue
      try { a.analyzer.finish(ts) } catch { this.counters.inc('analyzer_exceptions') }
    }
    s.dpdChunks = []
  }

  /** True while some analyzer is attached or detection is still looking. */
  active(s: AppSession): boolean {
    return !s.dpdDone || s.analyzers.some((a) => !a.detached && !a.done)
  }

  deliverTo(s: AppSession, isOrig: boolean, data: Buffer, ts: number): void {
    this.deliver(s, isOrig, data, ts)
  }

  gapTo(s: AppSession, isOrig: boolean, len: number): void {
    this.gap(s, isOrig, len)
  }

  private deliver(s: AppSession, isOrig: boolean, data: Buffer, ts: number): void {
    if (data.length === 0) return
    if (ts > this.now) this.now = ts
    if (!s.dpdDone) this.detect(s, isOrig, data, ts)
    const list = s.analyzers
    // Analyzers attached by an upgrade during this loop start with the next chunk.
    for (let i = 0, n = list.length; i < n; i++) {
      const a = list[i]!
      if (a.detached || a.done) continue
      try {
        a.analyzer.deliver(isOrig, data, ts)
      } catch {
        this.counters.inc('analyzer_exceptions')
        a.detached = true
      }
    }
  }

  private gap(s: AppSession, isOrig: boolean, len: number): void {
    this.counters.inc('stream_gaps')
    for (const a of s.analyzers) {
      if (a.detached || a.done || !a.analyzer.gap) continue
      try { a.analyzer.gap(isOrig, len) } catch { this.counters.inc('analyzer_exceptions'); a.detached = true }
    }
  }

  private detect(s: AppSession, isOrig: boolean, data: Buffer, ts: number): void {
    const dir = isOrig ? 0 : 1
    const room = this.cfg.dpdBufferBytes - s.dpdBytes[dir]!
    if (room <= 0) {
      if (s.dpdBytes[1 - dir]! >= this.cfg.dpdBufferBytes) this.endDetection(s)
      return
    }
    const keep = Buffer.from(data.subarray(0, room))
    s.dpdChunks.push({ isOrig, data: keep, ts })
    s.dpdBytes[dir]! += keep.length
    const first = Buffer.concat(s.dpdChunks.filter((c) => c.isOrig === isOrig).map((c) => c.data))
    for (const f of this.detectors[s.conn.proto]) {
      if (s.tried.has(f.name) || s.analyzers.some((a) => a.factory === f)) continue
      let hit = false
      try { hit = f.detect!(isOrig, first) } catch { this.counters.inc('analyzer_exceptions') }
      if (!hit) continue
      s.tried.add(f.name)
      const a = this.attach(s, f)
      this.counters.inc('analyzers_by_detection')
      // Replay what was seen before detection, except the chunk being delivered right now.
      for (const c of s.dpdChunks.slice(0, -1)) {
        if (a.detached) break
        try { a.analyzer.deliver(c.isOrig, c.data, c.ts) } catch { this.counters.inc('analyzer_exceptions'); a.detached = true }
      }
    }
    if (s.dpdBytes[0]! >= this.cfg.dpdBufferBytes && s.dpdBytes[1]! >= this.cfg.dpdBufferBytes) this.endDetection(s)
  }

  private endDetection(s: AppSession): void {
    s.dpdDone = true
    s.dpdChunks = []
  }

  private attach(s: AppSession, f: AppAnalyzerFactory): AttachedAnalyzer {
    const holder: AttachedAnalyzer = { factory: f, analyzer: undefined as unknown as AttachedAnalyzer['analyzer'], out: undefined as unknown as AppOutput, detached: false, done: false }
    holder.out = this.outputFor(s, holder)
    holder.analyzer = f.create(s.conn, holder.out)
    s.analyzers.push(holder)
    this.counters.inc('analyzers_attached')
    return holder
  }

  private outputFor(s: AppSession, holder: AttachedAnalyzer): AppOutput {
    return {
      log: (path, row) => { this.counters.inc('log_rows'); this.deps.onLog(path, row) },
      confirm: (service) => {
        s.addService(service)
        // A confirmed protocol ends detection, as Zeek's PIA does.
        if (!s.dpdDone) this.endDetection(s)
      },
      violation: () => { this.counters.inc('violations'); holder.detached = true },
      done: () => { holder.done = true },
      anomaly: (name) => { this.deps.onAnomaly?.(name, s.conn) },
      observe: (obs) => { this.deps.onObservation?.(obs, s.conn) },
      upgrade: (name) => {
        const f = this.byName.get(name)
        if (!f || s.analyzers.some((a) => a.factory === f && !a.detached)) return
        this.attach(s, f)
        this.counters.inc('analyzers_by_upgrade')
      },
      expect: (e) => {
        if (this.expected.size >= this.cfg.maxExpected) {
          const oldest = this.expected.keys().next().value as string
          this.expected.delete(oldest)
          this.counters.inc('expected_dropped')
        }
        this.expected.set(`${e.respH}|${e.respP}`, { origH: e.origH, service: e.service, analyzer: e.analyzer, expires: this.now + e.ttlSec })
      },
    }
  }

  private takeExpected(conn: AppConnInfo, ts: number): Expected | undefined {
    const k = `${conn.respH}|${conn.respP}`
    const e = this.expected.get(k)
    if (!e) return undefined
    if (e.origH !== undefined && e.origH !== conn.origH) return undefined
    this.expected.delete(k)
    if (ts > e.expires) return undefined
    return e
  }
}
