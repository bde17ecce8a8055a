/**
 * Keeps the merged topology (topology-model.ts) in step with the store: merges each batch
 * after it is durable (IngestService.onStored; the ack waits for it), persists what changed
 * every `flushIntervalMs` in ONE atomic write (hosts, edges, roll-ups, loss periods and the
 * watermark), reloads it at start and replays the stored batches it had not merged, and
 * rebuilds everything from stored batches on demand.
 *
 * Merges, flushes, expiry and rebuilds run one at a time on one chain, so a flush's snapshot
 * always holds whole batches (its watermark is exact). A merge works in slices: after
 * `sliceMs` of work it yields to the event loop, so a large batch never holds other
 * requests for longer than that; the flush serialises its hosts and edges the same way.
 *
 * Exactly once across restarts: batches of several agents finish storing out of their number
 * order, so the watermark is the highest number up to which EVERY batch is merged (or was
 * never stored: a failed write is reported by BatchStore.onAbandoned), and the flush also
 * persists the few numbers above it that are merged already. A restart merges every stored
 * batch that is in neither; a batch handed over twice (a rebuild racing ingest) is merged once.
 */
import { Batch, type Gap, type HostObservation } from '../../protocol/index.js'
import type { CollectorStore } from '../storage/index.js'
import { decodeFlowSegment, type FlowRecord } from '../ingest/flow-decode.js'
import type { StoredBatch } from '../ingest/ingest-service.js'
import type { Logger } from '../util/logger.js'
import { RateLimitedLog } from '../util/rate-limited-log.js'
import { gapLoss, observationView } from './flow-view.js'
import { mergeFlows } from './merge-flows.js'
import { TopRollups } from './top-rollups.js'
import { TopologyModel, type TopologyChange, type TopologyOptions } from './topology-model.js'
import { decodeEdge, encodeEdge } from './edge-codec.js'
import { decodeHost, encodeHost } from './host-codec.js'

export interface TopologyServiceOptions extends TopologyOptions {
  flushIntervalMs: number
  /** A merge or a flush yields to the event loop after this much work (ms); default 5. */
  sliceMs?: number
}

/**
 * How far past its batch's receive time a flow or observation may move a host's or edge's
 * first/last seen (an agent clock running ahead; the collector logs such agents, see
 * IngestService.onClockOffset). Generous enough for ordinary drift and slow delivery.
 */
const FUTURE_TOLERANCE_US = 5 * 60 * 1_000_000

/** Flows merged between two looks at the clock. */
const SLICE_CHECK_FLOWS = 128

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export class TopologyService {
  readonly model: TopologyModel
  /** Hour roll-ups of /flows/top (per record, persisted with the topology). */
  readonly tops: TopRollups
  /** Every batch numbered up to here is merged or was never stored. */
  private watermark = 0
  /** Merged batches above the watermark (ingest of several agents stores out of order). */
  private readonly mergedAbove = new Set<number>()
  /** Watermark and mergedAbove as last persisted (a flush with nothing else to write still moves them). */
  private persistedMarks = ''
  private timer: NodeJS.Timeout | undefined
  /** Merges, flushes, expiry and rebuilds, one after the other. */
  private chain: Promise<unknown> = Promise.resolve()
  private readonly sliceMs: number
  private readonly listeners = new Set<(c: TopologyChange) => void>()
  /** Changes whenever the model may have changed (response caches key on it). */
  generation = 0
  /** Changes whenever the model is cleared (start, rebuild): a build in slices restarts on it. */
  resets = 0
  private readonly flushErrorLog = new RateLimitedLog(60_000)
  counters = { batches_merged: 0, batches_merged_already: 0, flushes: 0, flush_errors: 0, merge_errors: 0, merge_yields: 0, flush_yields: 0 }
  /** Counters of the /api/v1/topology answer cache (set by the route plugin; exported in /metrics). */
  answerCounters: Readonly<Record<string, number>> = {}

  constructor(private readonly store: CollectorStore, private readonly opts: TopologyServiceOptions, private readonly log: Logger) {
    this.model = new TopologyModel(opts)
    this.sliceMs = opts.sliceMs ?? 5
    this.tops = new TopRollups(store)
    this.model.onChange = (c) => { for (const l of this.listeners) l(c) }
  }

  /** Subscribes to new hosts and edges; returns the unsubscribe function. */
  subscribe(fn: (c: TopologyChange) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  get subscribers(): number { return this.listeners.size }

  /** Runs `fn` after everything queued on the chain (merges, flushes, expiry, rebuilds). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn)
    this.chain = p.catch(() => undefined)
    return p
  }

  /** Loads the stored topology, replays batches after the watermark, starts the flush timer. */
  start(): Promise<void> {
    return this.serial(() => this.load())
  }

  private async load(): Promise<void> {
    const t0 = performance.now()
    this.model.clear()
    this.resets++
    this.tops.clear()
    let badHosts = 0
    for await (const [id, j] of this.store.topology.hosts()) {
      const h = decodeHost(id, j)
      if (h === undefined) badHosts++
      else this.model.loadHost(h)
    }
    if (badHosts > 0) this.log.warn({ hosts: badHosts }, 'topology: stored hosts that do not decode were skipped (POST /api/v1/topology/rebuild recomputes them)')
    let badEdges = 0
    for await (const [id, j] of this.store.topology.edges()) {
      const e = decodeEdge(id, j)
      if (e === undefined) badEdges++
      else this.model.loadEdge(e)
    }
    if (badEdges > 0) this.log.warn({ edges: badEdges }, 'topology: stored edges that do not decode were skipped (POST /api/v1/topology/rebuild recomputes them)')
    for (const p of await this.store.topology.lossPeriods()) this.model.loss.add(p)
    this.watermark = await this.store.topology.watermark()
    this.mergedAbove.clear()
    for (const n of await this.store.topology.mergedAbove()) if (n > this.watermark) this.mergedAbove.add(n)
    // A number the merge has passed is never handed out again (its batch may be expired).
    let highest = this.watermark
    for (const n of this.mergedAbove) if (n > highest) highest = n
    this.store.batches.numberAbove(highest)
    this.persistedMarks = this.marks()
    this.log.info({ hosts: this.model.hosts.size, edges: this.model.edges.size, ms: Math.round(performance.now() - t0) }, 'topology loaded from the store')
    const replayed = await this.replayAfter(this.watermark)
    if (replayed > 0) this.log.info({ batches: replayed, watermark: this.watermark }, 'topology: merged batches stored after the last flush')
    this.timer = setInterval(() => { void this.flush() }, this.opts.flushIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    // Not started (the store did not open, or the load failed): nothing merged to persist.
    if (this.timer === undefined) return
    clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  /** BatchStore listener: batch `n` was never stored; the watermark may pass it. */
  readonly onAbandoned = (n: number): void => { void this.serial(async () => this.markMerged(n)) }

  /** IngestService listener: merges one durable batch, in slices; resolves once it is merged (never rejects). */
  readonly onStored = (b: StoredBatch): Promise<void> => this.serial(async () => {
    try {
      await this.merge(b.agentId, b.n, b.flows(), b.rest, b.receivedAtUs)
    } catch (err) {
      this.counters.merge_errors++
      this.log.error({ err, n: b.n }, 'topology merge failed for a batch')
    }
  })

  /** The merge's position: every batch up to `watermark` is merged, and `above` more after it. */
  get mergeMarks(): { watermark: number; above: number } {
    return { watermark: this.watermark, above: this.mergedAbove.size }
  }

  private isMerged(n: number): boolean {
    return n <= this.watermark || this.mergedAbove.has(n)
  }

  private markMerged(n: number): void {
    if (this.isMerged(n)) return
    if (n !== this.watermark + 1) { this.mergedAbove.add(n); return }
    this.watermark = n
    while (this.mergedAbove.delete(this.watermark + 1)) this.watermark++
  }

  /** The merged numbers above the watermark, ascending (as persisted). */
  private above(): number[] {
    return [...this.mergedAbove].sort((a, b) => a - b)
  }

  /** Watermark and mergedAbove as one comparable text. */
  private marks(above = this.above()): string {
    return `${this.watermark}:${above.join(',')}`
  }

  private async merge(agentId: string, n: number, flows: readonly FlowRecord[], rest: Pick<Batch, 'hostObservations' | 'gaps' | 'stats' | 'sentAtUs'> | undefined, receivedAtUs: number): Promise<void> {
    if (this.isMerged(n)) { this.counters.batches_merged_already++; return }
    const m = this.model
    // The agent's site now (a site set later applies to the batches merged from then on).
    const site = (await this.store.agents.get(agentId))?.site ?? ''
    if (rest !== undefined) {
      for (const g of rest.gaps as Gap[]) { const p = gapLoss(agentId, g, rest.sentAtUs || receivedAtUs); if (p !== undefined) m.addLoss(p) }
      if (rest.stats) {
        let dropped = 0
        for (const c of rest.stats.capture ?? []) dropped += (c.dropped ?? 0) + (c.ifDropped ?? 0)
        m.captureDrops(agentId, rest.stats.collectedAtUs ?? receivedAtUs, dropped)
      }
      for (const o of rest.hostObservations as HostObservation[]) m.observe(observationView(agentId, o, receivedAtUs + FUTURE_TOLERANCE_US, site))
    }
    let t0 = performance.now()
    for (let i = 0; i < flows.length; i += SLICE_CHECK_FLOWS) {
      mergeFlows(m, this.tops, agentId, flows, i, Math.min(flows.length, i + SLICE_CHECK_FLOWS), receivedAtUs + FUTURE_TOLERANCE_US, site)
      if (i + SLICE_CHECK_FLOWS < flows.length && performance.now() - t0 >= this.sliceMs) {
        this.generation++
        this.counters.merge_yields++
        await yieldToLoop()
        t0 = performance.now()
      }
    }
    this.markMerged(n)
    this.generation++
    this.counters.batches_merged++
  }

  /**
   * Merges the stored batches with a number above `after` that are not merged yet, in storage
   * order. Afterwards every batch numbered so far is merged, being written, or never stored.
   */
  private async replayAfter(after: number): Promise<number> {
    let count = 0
    const { last, writing } = this.store.batches.numbering()
    // A number up to `last` without a stored batch when the walk began, and not being written
    // then, was abandoned (a failed write, perhaps in an earlier process) or expired by
    // retention: nothing will hand it over, so it is passed — in order, as the walk meets the
    // gaps, so that the merged numbers stay contiguous behind the watermark.
    let prev = after
    const passGapsBefore = (n: number): void => {
      for (let m = prev + 1; m < n && m <= last; m++) if (!writing.has(m)) this.markMerged(m)
      prev = Math.max(prev, n)
    }
    for await (const rec of this.store.batches.batchRecords(after + 1)) {
      passGapsBefore(rec.n)
      if (this.isMerged(rec.n)) continue
      const fs = rec.flowMinTsUs === undefined ? undefined : await this.store.flows.segment({ minTsUs: rec.flowMinTsUs, n: rec.n })
      const ho = rec.observationMinTsUs === undefined ? undefined : await this.store.flows.observationSegment({ minTsUs: rec.observationMinTsUs, n: rec.n })
      const gp = rec.gaps > 0 ? await this.store.flows.gapSegment(rec.agentId, rec.n) : undefined
      const rest = Batch.decode(Buffer.concat([ho ?? Buffer.alloc(0), gp ?? Buffer.alloc(0)]))
      await this.merge(rec.agentId, rec.n, fs === undefined ? [] : decodeFlowSegment(fs), { hostObservations: rest.hostObservations, gaps: rest.gaps, stats: null, sentAtUs: rec.sentAtUs }, rec.receivedAtUs)
      count++
      if (count % 200 === 0) await this.flushNow()
    }
    passGapsBefore(last + 1)
    await this.flushNow()
    return count
  }

  /** Forgets the merged topology and roll-ups and merges every stored batch again. */
  rebuild(): Promise<{ batches: number; hosts: number; edges: number }> {
    return this.serial(() => this.rebuildNow())
  }

  private async rebuildNow(): Promise<{ batches: number; hosts: number; edges: number }> {
    this.model.clear()
    this.resets++
    this.tops.clear()
    this.generation++
    const loss = await this.store.topology.lossPeriods()
    await this.store.topology.clear()
    for (const p of loss) this.model.loss.add(p)
    this.watermark = 0
    this.mergedAbove.clear()
    this.persistedMarks = ''
    const batches = await this.replayAfter(0)
    return { batches, hosts: this.model.hosts.size, edges: this.model.edges.size }
  }

  /** Persists what changed since the last flush (after what is queued; never rejects). */
  flush(): Promise<void> {
    return this.serial(() => this.flushNow())
  }

  /** A flush from inside the chain. */
  private async flushNow(): Promise<void> {
    try {
      await this.doFlush()
    } catch (err) {
      this.counters.flush_errors++
      // Retried every flush interval: a full disk would log every second.
      this.flushErrorLog.hit('flush', (suppressed) => this.log.error({ err, suppressed }, 'topology flush failed (retried every flush interval; logged at most once a minute)'))
    }
  }

  private async doFlush(): Promise<void> {
    const m = this.model
    if (m.dirtyHosts.size === 0 && m.dirtyEdges.size === 0 && m.deletedHosts.size === 0 && m.deletedEdges.size === 0 && !m.rollupPending && m.newLossPeriods.length === 0 && !this.tops.pending) {
      if (this.marks() === this.persistedMarks) return
    }
    const above = this.above()
    const marks = this.marks(above)
    // Written as it is built (TopologyFlushBatch): nothing else changes the model while this
    // runs (the chain), so the encoding may yield between slices: requests are served in
    // between, merges wait. Nothing is written until the one atomic write at the end.
    const w = this.store.topology.flushBatch()
    let t0 = performance.now()
    let k = 0
    const yieldIfDue = async (): Promise<void> => {
      if (performance.now() - t0 < this.sliceMs) return
      this.counters.flush_yields++
      await yieldToLoop()
      t0 = performance.now()
    }
    // The clock is looked at every 256 records, and only then is there an await: an await per
    // record (an async call) suspended and resumed this loop for each of tens of thousands.
    try {
      for (const id of m.dirtyHosts) { const h = m.hosts.get(id); if (h !== undefined) w.host(id, encodeHost(h)); if ((++k & 255) === 0) await yieldIfDue() }
      for (const id of m.dirtyEdges) { const e = m.edges.get(id); if (e !== undefined) w.edge(id, encodeEdge(e)); if ((++k & 255) === 0) await yieldIfDue() }
      for (const id of m.deletedHosts) w.deleteHost(id)
      for (const id of m.deletedEdges) w.deleteEdge(id)
      const lossPeriods = [...m.newLossPeriods]
      const deltas = m.takeRollupDeltas()
      m.dirtyHosts.clear(); m.dirtyEdges.clear(); m.deletedHosts.clear(); m.deletedEdges.clear(); m.newLossPeriods.length = 0
      const topDeltas = this.tops.takeDeltas()
      for (const d of deltas) {
        const cur = await this.store.topology.rollup(d.resolution, d.bucketUs, d.dim)
        w.rollup({ resolution: d.resolution, bucketUs: d.bucketUs, dim: d.dim, flows: (cur?.flows ?? 0) + d.flows, bytes: (cur?.bytes ?? 0) + d.bytes, packets: (cur?.packets ?? 0) + d.packets })
      }
      const topTotals = await this.tops.rows(topDeltas, (bucketUs, group, key, c) => w.topRollup(bucketUs, group, key, c), yieldIfDue)
      for (const p of lossPeriods) w.lossPeriod(p)
      try {
        await w.write(this.watermark, above)
      } catch (err) {
        this.tops.forget()
        throw err
      }
      this.tops.remember(topTotals)
      this.persistedMarks = marks
      this.counters.flushes++
    } finally {
      await w.close()
    }
  }

  /** Retention of hosts and edges (last seen before cutoffUs). */
  expire(cutoffUs: number): Promise<{ hosts: number; edges: number }> {
    return this.serial(async () => {
      const r = this.model.expire(cutoffUs)
      this.generation++
      await this.flushNow()
      return r
    })
  }
}
