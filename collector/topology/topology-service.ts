/**
 * Keeps the merged topology (topology-model.ts) in step with the store: merges each batch
 * after it is durable, persists what changed every `flushIntervalMs` in ONE atomic write
 * (hosts, edges, roll-ups, loss periods and the watermark), reloads it at start and replays
 * the stored batches it had not merged, and rebuilds everything from stored batches on demand.
 *
 * Ingest does not wait for the merge: a BatchFollower (collector/follow) takes each durable
 * batch (IngestService.onStored) into a bounded queue (`queueBatches`) and, when the merge
 * falls behind, reads the batches it has not merged back from the store until it has caught
 * up. A burst of ingest (agents draining their spools after an outage) is acked at the pace
 * of the store, and the topology follows. Readers that want what was acked wait for it with
 * `caughtUp()` (bounded: the API's topology routes wait at most `topology.read_wait_ms`).
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
import type { Batch, Gap, HostObservation } from '../../protocol/index.js'
import type { CollectorStore } from '../storage/index.js'
import type { FlowRecord } from '../ingest/flow-decode.js'
import type { StoredBatch } from '../ingest/ingest-service.js'
import type { Logger } from '../util/logger.js'
import { RateLimitedLog } from '../util/rate-limited-log.js'
import { BatchFollower, type FollowCount } from '../follow/batch-follower.js'
import { BatchMarks } from '../follow/batch-marks.js'
import { readStoredBatch, type ReadParts } from '../follow/read-stored-batch.js'
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
  /** Batches waiting for the merge in memory; when full, the merge reads them back from the store (default 64). */
  queueBatches?: number
}

/** The topology reads flows, observations and gaps of a batch read back; not its events or app rows. */
const MERGE_PARTS: ReadParts = { events: false, appRecords: false }

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
  /** The merged batches: every number up to the watermark (merged or never stored), and those merged above it. */
  private readonly marks = new BatchMarks()
  private readonly follower: BatchFollower<StoredBatch>
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
  counters = {
    batches_merged: 0, batches_merged_already: 0, flushes: 0, flush_errors: 0, merge_errors: 0, merge_yields: 0, flush_yields: 0,
    batches_deferred: 0, batches_caught_up: 0, batches_passed: 0, batches_dropped: 0, read_errors: 0,
  }
  /** Counters of the /api/v1/topology answer cache (set by the route plugin; exported in /metrics). */
  answerCounters: Readonly<Record<string, number>> = {}

  constructor(private readonly store: CollectorStore, private readonly opts: TopologyServiceOptions, private readonly log: Logger) {
    this.model = new TopologyModel(opts)
    this.sliceMs = opts.sliceMs ?? 5
    this.tops = new TopRollups(store)
    this.model.onChange = (c) => { for (const l of this.listeners) l(c) }
    const counted: Record<FollowCount, keyof TopologyService['counters']> = {
      deferred: 'batches_deferred', caught_up: 'batches_caught_up', passed: 'batches_passed', dropped: 'batches_dropped', read_errors: 'read_errors',
    }
    this.follower = new BatchFollower<StoredBatch>(store, {
      name: 'topology', queueBatches: opts.queueBatches ?? 64,
      readBack: (rec) => readStoredBatch(store, rec, MERGE_PARTS),
      handle: (b) => this.mergeStored(b),
      count: (what, n = 1) => { this.counters[counted[what]] += n },
    }, log, this.marks)
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

  /**
   * Loads the stored topology and follows ingest. The batches stored after the last flush
   * (a crash, or a merge that was behind at stop) are read back in the background: the
   * collector serves and acks at once, and topology reads wait for them as for any acked
   * batch (`caughtUp`); `idle()` resolves once they are merged.
   */
  async start(): Promise<void> {
    await this.serial(() => this.load())
    this.follower.start(true)
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
    this.marks.load({ watermark: await this.store.topology.watermark(), above: await this.store.topology.mergedAbove() })
    // A number the merge has passed is never handed out again (its batch may be expired).
    this.store.batches.numberAbove(this.marks.highest)
    this.persistedMarks = this.marksText()
    this.log.info({ hosts: this.model.hosts.size, edges: this.model.edges.size, ms: Math.round(performance.now() - t0) }, 'topology loaded from the store')
    this.timer = setInterval(() => { void this.flush() }, this.opts.flushIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    // Not started (the store did not open, or the load failed): nothing merged to persist.
    if (this.timer === undefined) return
    clearInterval(this.timer)
    this.timer = undefined
    await this.follower.stop()
    await this.flush()
  }

  /** IngestService listener: takes one durable batch (merged in order; never waits for the merge). */
  readonly onStored = (b: StoredBatch): void => { this.follower.offer(b) }

  /** Resolves when every batch handed over or owed is merged (tests, benches; readers use caughtUp). */
  idle(): Promise<void> {
    return this.follower.idle()
  }

  /** Batches acked and not merged yet (0: the topology holds everything acked). */
  get backlog(): number { return this.follower.backlog }

  /**
   * Waits until every batch acked before this call is merged, at most `maxWaitMs`; false when
   * the wait ran out (the merge is behind: the answer misses batches acked recently).
   */
  async caughtUp(maxWaitMs: number): Promise<boolean> {
    const at = this.store.batches.numbering()
    if (this.follower.reached(at)) return true
    const until = performance.now() + maxWaitMs
    while (performance.now() < until) {
      await new Promise((r) => setTimeout(r, 2))
      if (this.follower.reached(at)) return true
    }
    return false
  }

  /** One batch from the follower, merged on the chain (errors counted and logged; the follower then marks it). */
  private mergeStored(b: StoredBatch): Promise<void> {
    return this.serial(async () => {
      try {
        await this.merge(b.agentId, b.n, b.flows(), b.rest, b.receivedAtUs)
      } catch (err) {
        this.counters.merge_errors++
        this.log.error({ err, n: b.n }, 'topology merge failed for a batch')
      }
    })
  }

  /** The merge's position: every batch up to `watermark` is merged, and `above` more after it. */
  get mergeMarks(): { watermark: number; above: number } {
    return { watermark: this.marks.watermark, above: this.marks.above.size }
  }

  /** Watermark and the merged numbers above it as one comparable text. */
  private marksText(above = this.marks.aboveSorted()): string {
    return `${this.marks.watermark}:${above.join(',')}`
  }

  private async merge(agentId: string, n: number, flows: readonly FlowRecord[], rest: Pick<Batch, 'hostObservations' | 'gaps' | 'stats' | 'sentAtUs'> | undefined, receivedAtUs: number): Promise<void> {
    if (this.marks.has(n)) { this.counters.batches_merged_already++; return }
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
    // Marked here, inside the chain: a flush persists the marks with the model they describe.
    this.marks.mark(n)
    this.generation++
    this.counters.batches_merged++
  }

  /** Forgets the merged topology and roll-ups and merges every stored batch again. */
  async rebuild(): Promise<{ batches: number; hosts: number; edges: number }> {
    await this.serial(async () => {
      this.model.clear()
      this.resets++
      this.tops.clear()
      this.generation++
      const loss = await this.store.topology.lossPeriods()
      await this.store.topology.clear()
      for (const p of loss) this.model.loss.add(p)
      this.marks.reset()
      this.persistedMarks = ''
    })
    const before = this.counters.batches_merged
    this.follower.catchUp()
    await this.follower.idle()
    await this.flush()
    return { batches: this.counters.batches_merged - before, hosts: this.model.hosts.size, edges: this.model.edges.size }
  }

  /** Persists what changed since the last flush (after what is queued; never rejects). */
  flush(): Promise<void> {
    return this.serial(() => this.flushNow())
  }

  /** Merges every batch acked so far, then persists it (tests, benches, tools; never rejects). */
  async settle(): Promise<void> {
    await this.follower.idle()
    await this.flush()
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
      if (this.marksText() === this.persistedMarks) return
    }
    const above = this.marks.aboveSorted()
    const marks = this.marksText(above)
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
        await w.write(this.marks.watermark, above)
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
