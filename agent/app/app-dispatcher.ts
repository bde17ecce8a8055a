/**
 * Attaches application analyzers to connections and feeds them: by well-known port at
 * creation (Zeek's port registration), by content (dynamic protocol detection over the
 * first `dpdBufferBytes` of each direction), by expectation (FTP data channels) and by
 * upgrade (STARTTLS). Owns the per-connection TCP byte streams. Analyzer output goes to the
 * sinks given by the entry point; an analyzer that throws is detached and counted, never
 * allowed to take the sensor down.
 */
import type { AppAnalyzerFactory, AppConnInfo, AppTransport, HostObservation } from './app-analyzer.js'
import { AppSession, type SessionOwner } from './app-session.js'
import { AttachedSlot } from './attached-slot.js'
import { DpdBuffer } from './dpd-buffer.js'
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
  'stream_bytes_dropped' | 'stream_gaps' | 'expected_dropped' | 'sessions_parked' | 'sessions_resumed' | 'sessions_ended_idle'

/**
 * A direction's stream has delivered every byte before its FIN. `fin` is one past the FIN
 * (the flow core's TcpEndpoint.finSeq: the FIN takes a sequence number), so the bytes end
 * at fin - 1; `next` 0 means the stream delivered none, so there must be none (fin 2).
 */
function deliveredTo(next: number, fin: number): boolean {
  return next === 0 ? fin <= 2 : next >= fin - 1
}

/** Port table key: the transport in bit 16, the port below. */
function portKey(proto: AppTransport, port: number): number {
  return proto === 'tcp' ? port : 0x10000 | port
}

export class AppDispatcher implements SessionOwner {
  readonly counters = new Counters<AppCounter>()
  private readonly byPort = new Map<number, AppAnalyzerFactory[]>()
  private readonly byName = new Map<string, AppAnalyzerFactory>()
  private readonly detectors: Record<AppTransport, AppAnalyzerFactory[]> = { tcp: [], udp: [] }
  /** Bit of each detector in AppSession.tried, per transport. */
  private readonly detectorBit: Record<AppTransport, Map<AppAnalyzerFactory, number>> = { tcp: new Map(), udp: new Map() }
  private readonly expected = new Map<string, Expected>()
  /** Latest packet time seen, for expectation lifetimes. */
  private now = 0
  readonly cfg: AppDispatcherConfig
  /**
   * The detection buffer of every session that has kept nothing yet: shared, never written
   * (deliver swaps in a session's own buffer the first time it keeps a chunk). Most TCP
   * connections confirm on their first chunk, which detection looks at in place, or never
   * carry payload (rejected, SYN only): they never need one. A buffer per connection from
   * its first packet lived as long as detection (often past a young-generation collection);
   * the session objects promoted on the bench's 300k-packet subset went 4.8 → 4.3 MB.
   */
  private readonly noDpd: DpdBuffer

  constructor(cfg: Partial<AppDispatcherConfig>, readonly deps: AppDispatcherDeps) {
    this.cfg = { ...DEFAULT_APP_DISPATCHER_CONFIG, ...cfg }
    this.noDpd = new DpdBuffer(this.cfg.dpdBufferBytes)
    for (const f of deps.factories) {
      if (this.cfg.disabled.includes(f.name)) continue
      this.byName.set(f.name, f)
      for (const t of f.transports) {
        for (const p of f.ports) {
          const k = portKey(t, p)
          const list = this.byPort.get(k) ?? []
          list.push(f)
          this.byPort.set(k, list)
        }
        if (f.detect && this.detectors[t].length < 30) {
          this.detectorBit[t].set(f, 1 << this.detectors[t].length)
          this.detectors[t].push(f)
        }
      }
    }
  }

  /** A new TCP or UDP connection (after Zeek's orientation). Returns its session. */
  open(conn: AppConnInfo, ts: number): AppSession {
    this.counters.inc('sessions')
    const s = new AppSession(conn, this.cfg.maxStreamBuffer, conn.proto === 'tcp', this)
    const exp = this.expected.size > 0 ? this.takeExpected(conn, ts) : undefined
    if (exp) {
      s.addService(exp.service)
      const f = exp.analyzer ? this.byName.get(exp.analyzer) : undefined
      if (f) { this.attach(s, f); this.counters.inc('analyzers_by_expectation') }
      return s
    }
    // Detection only where some detector could still attach (none for UDP: nothing to keep).
    if (this.detectors[conn.proto].length > 0) s.dpd = this.noDpd
    s.portOnly = true
    const list = this.byPort.get(portKey(conn.proto, conn.respP))
    if (list) {
      // Indexed loops in the per-connection paths (open, close): for-of made an iterator and a
      // result object per step wherever it ran unoptimised (~1.3 MB on the 300k-packet subset).
      for (let i = 0; i < list.length; i++) { this.attach(s, list[i]!); this.counters.inc('analyzers_by_port') }
    }
    return s
  }

  /** A TCP payload segment at relative sequence `seq` (data may be a view). */
  tcpPayload(s: AppSession, isOrig: boolean, seq: number, data: Buffer, ts: number): void {
    if (!s.tcp || s.closed) return
    s.now = ts
    s.stream(isOrig).add(seq, data)
  }

  /** The direction `isOrig` was acknowledged up to relative `ack` by its peer. */
  tcpAck(s: AppSession, isOrig: boolean, ack: number, ts: number): void {
    // No streams yet = no payload yet: nothing to acknowledge (an unanchored stream ignores acks).
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
    const list = s.analyzers
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!
      if (a.detached) continue
      try { a.analyzer.finish(ts) } catch { this.counters.inc('analyzer_exceptions') }
    }
    s.dpd = undefined
  }

  /**
   * After a datagram: whether this UDP session can be dropped until the next one (see
   * AppAnalyzer.idle). Only a session attached by port alone, with detection over and every
   * analyzer live and idle: resume() then rebuilds the same session. A parked session is
   * closed without finish() (idle analyzers have nothing to write); the caller keeps its
   * services and calls resume() on the connection's next datagram.
   */
  park(s: AppSession): boolean {
    if (s.tcp || !s.portOnly || s.dpd !== undefined || s.closed) return false
    const list = s.analyzers
    if (list.length === 0) return false
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!
      if (a.detached || a.stopped || a.analyzer.idle?.() !== true) return false
    }
    s.closed = true
    this.counters.inc('sessions_parked')
    return true
  }

  /** A parked UDP connection's next datagram: its port analyzers again, with the services confirmed so far ('a,b'). */
  resume(conn: AppConnInfo, services: string): AppSession {
    this.counters.inc('sessions_resumed')
    const s = new AppSession(conn, this.cfg.maxStreamBuffer, false, this)
    s.portOnly = true
    if (services !== '') {
      const names = services.split(',')
      for (let i = 0; i < names.length; i++) s.addService(names[i]!)
    }
    const list = this.byPort.get(portKey(conn.proto, conn.respP))
    if (list) for (let i = 0; i < list.length; i++) this.attach(s, list[i]!)
    return s
  }

  /**
   * TCP, both ends closed by FINs at relative sequence numbers `origFin` / `respFin`: whether
   * closing the session now changes nothing, i.e. each direction's bytes were delivered up to
   * its FIN (none can still arrive late, reordered), none wait out of order (close() would
   * deliver them) and every analyzer not detached is idle (finish() writes nothing). The flow
   * table then lets the session go at once instead of keeping it for Zeek's close delay (5 s)
   * until the connection is removed.
   */
  idleAtEnd(s: AppSession, origFin: number, respFin: number): boolean {
    if (s.closed || !deliveredTo(s.streamNext(true), origFin) || !deliveredTo(s.streamNext(false), respFin)) return false
    const st = s.streams
    if (st !== undefined && (st[0].holding || st[1].holding)) return false
    const list = s.analyzers
    for (let i = 0; i < list.length; i++) {
      const a = list[i]!
      if (!a.detached && a.analyzer.idle?.() !== true) return false
    }
    this.counters.inc('sessions_ended_idle')
    return true
  }

  /** True while some analyzer is attached or detection is still looking. */
  active(s: AppSession): boolean {
    return s.dpd !== undefined || s.live > 0
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
    const dpd = s.dpd
    // A chunk detection looked at without keeping it yet: kept after delivery only if
    // detection is still on then (a confirmation during delivery ends it: no copy at all).
    const keep = dpd !== undefined && this.detect(s, dpd, isOrig, data, ts)
    const list = s.analyzers
    // Analyzers attached by an upgrade during this loop start with the next chunk.
    for (let i = 0, n = list.length; i < n; i++) {
      const a = list[i]!
      if (a.detached || a.stopped) continue
      try {
        a.analyzer.deliver(isOrig, data, ts)
      } catch {
        this.counters.inc('analyzer_exceptions')
        a.detach()
      }
    }
    if (keep && s.dpd === dpd) (dpd === this.noDpd ? (s.dpd = new DpdBuffer(this.cfg.dpdBufferBytes)) : dpd).add(isOrig, data, ts)
  }

  private gap(s: AppSession, isOrig: boolean, len: number): void {
    this.counters.inc('stream_gaps')
    for (const a of s.analyzers) {
      if (a.detached || a.stopped || !a.analyzer.gap) continue
      try { a.analyzer.gap(isOrig, len) } catch { this.counters.inc('analyzer_exceptions'); a.detach() }
    }
  }

  /**
   * Runs the detectors over the direction's prefix including `data`. Returns true when `data`
   * was not kept yet and must be (dpd.add) once it has been delivered, if detection is then
   * still on. The first chunk of a direction is looked at in place (a view): most connections
   * confirm on it (HTTP request line, TLS ClientHello) and then never copy a byte.
   */
  private detect(s: AppSession, dpd: DpdBuffer, isOrig: boolean, data: Buffer, ts: number): boolean {
    const limit = this.cfg.dpdBufferBytes
    const had = dpd.bytes(isOrig)
    if (had >= limit) {
      if (dpd.bytes(!isOrig) >= limit) this.endDetection(s)
      return false
    }
    const deferred = had === 0
    const first = deferred ? (data.length > limit ? data.subarray(0, limit) : data) : dpd.add(isOrig, data, ts)
    const detectors = this.detectors[s.conn.proto]
    let settled = isOrig ? s.settledOrig : s.settledResp
    for (let i = 0; i < detectors.length; i++) {
      const f = detectors[i]!
      const bit = 1 << i
      // Attached already, or said no for good on this direction: nothing to ask.
      if (((s.tried | settled) & bit) !== 0) continue
      let hit = false
      try { hit = f.detect!(isOrig, first) } catch { this.counters.inc('analyzer_exceptions') }
      if (!hit) {
        let done = false
        try { done = f.detectSettled?.(isOrig, first) === true } catch { this.counters.inc('analyzer_exceptions') }
        if (done) settled |= bit
        continue
      }
      const a = this.attach(s, f)
      s.portOnly = false
      this.counters.inc('analyzers_by_detection')
      // Replay what was seen before detection, except the chunk being delivered right now
      // (not kept yet when deferred; nothing once a confirmation during an earlier replay ended detection).
      if (s.dpd === dpd) dpd.replay((o, d, t) => {
        try { a.analyzer.deliver(o, d, t) } catch { this.counters.inc('analyzer_exceptions'); a.detach() }
      }, deferred ? 0 : 1, () => a.detached)
    }
    if (isOrig) s.settledOrig = settled
    else s.settledResp = settled
    if (s.dpd === undefined) return false
    // Over when the buffer is full (counting a deferred chunk), or when no detector is left that could still say yes.
    const all = (1 << detectors.length) - 1
    const full = deferred ? first.length >= limit && dpd.bytes(!isOrig) >= limit : dpd.full
    if (full || ((s.tried | (s.settledOrig & s.settledResp)) & all) === all) {
      this.endDetection(s)
      return false
    }
    return deferred
  }

  /** @internal A confirmation (Zeek's PIA stops looking) or the detection buffer is full. */
  endDetection(s: AppSession): void {
    s.dpd = undefined
  }

  private attach(s: AppSession, f: AppAnalyzerFactory): AttachedSlot {
    const holder = new AttachedSlot(this, s, f)
    holder.analyzer = f.create(s.conn, holder)
    s.addAnalyzer(holder)
    s.live++
    // A factory attached (by port, detection, expectation or upgrade) is never detected again.
    s.tried |= this.detectorBit[s.conn.proto].get(f) ?? 0
    this.counters.inc('analyzers_attached')
    return holder
  }

  /** @internal AppOutput.upgrade of an attached analyzer. */
  upgrade(s: AppSession, name: string): void {
    const f = this.byName.get(name)
    if (!f || s.analyzers.some((a) => a.factory === f && !a.detached)) return
    this.attach(s, f)
    s.portOnly = false
    this.counters.inc('analyzers_by_upgrade')
  }

  /** @internal AppOutput.expect of an attached analyzer. */
  expect(e: { origH?: string; respH: string; respP: number; service: string; analyzer?: string; ttlSec: number }): void {
    if (this.expected.size >= this.cfg.maxExpected) {
      const oldest = this.expected.keys().next().value as string
      this.expected.delete(oldest)
      this.counters.inc('expected_dropped')
    }
    this.expected.set(`${e.respH}|${e.respP}`, { origH: e.origH, service: e.service, analyzer: e.analyzer, expires: this.now + e.ttlSec })
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
