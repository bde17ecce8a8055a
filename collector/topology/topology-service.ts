/**
 * Keeps the merged topology (topology-model.ts) in step with the store: merges each batch
 * after it is durable (IngestService.onStored), persists what changed every
 * `flushIntervalMs` in ONE atomic write (hosts, edges, roll-ups, loss periods and the
 * watermark = the highest batch number merged), reloads it at start and replays batches
 * stored after the watermark, and rebuilds everything from stored batches on demand.
 *
 * A batch that was durable but not merged when the process died (stored before the last
 * flush's watermark but finished after it — concurrent ingest of several agents) is not
 * replayed; `rebuild()` recomputes everything from the stored flows.
 */
import { Batch, type Flow, type Gap, type HostObservation } from '../../protocol/index.js'
import type { CollectorStore, RollupRow, TopologyFlush } from '../storage/index.js'
import type { StoredBatch } from '../ingest/ingest-service.js'
import type { Logger } from '../util/logger.js'
import { ipText } from './addresses.js'
import { flowView, gapLoss, observationView } from './flow-view.js'
import { TopRollups } from './top-rollups.js'
import { TopologyModel, type TopologyChange, type TopologyOptions } from './topology-model.js'
import { decodeEdge, encodeEdge } from './edge-codec.js'
import type { HostRecord } from './types.js'

export interface TopologyServiceOptions extends TopologyOptions {
  flushIntervalMs: number
}

export class TopologyService {
  readonly model: TopologyModel
  /** Hour roll-ups of /flows/top (per record, persisted with the topology). */
  readonly tops: TopRollups
  private watermark = 0
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()
  private readonly listeners = new Set<(c: TopologyChange) => void>()
  /** Changes whenever the model may have changed (response caches key on it). */
  generation = 0
  /** Changes whenever the model is cleared (start, rebuild): a build in slices restarts on it. */
  resets = 0
  counters = { batches_merged: 0, flushes: 0, flush_errors: 0, merge_errors: 0 }
  /** Counters of the /api/v1/topology answer cache (set by the route plugin; exported in /metrics). */
  answerCounters: Readonly<Record<string, number>> = {}

  constructor(private readonly store: CollectorStore, private readonly opts: TopologyServiceOptions, private readonly log: Logger) {
    this.model = new TopologyModel(opts)
    this.tops = new TopRollups(store)
    this.model.onChange = (c) => { for (const l of this.listeners) l(c) }
  }

  /** Subscribes to new hosts and edges; returns the unsubscribe function. */
  subscribe(fn: (c: TopologyChange) => void): () => void {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }

  get subscribers(): number { return this.listeners.size }

  /** Loads the stored topology, replays batches after the watermark, starts the flush timer. */
  async start(): Promise<void> {
    this.model.clear()
    this.resets++
    this.tops.clear()
    for await (const j of this.store.topology.hosts()) this.model.loadHost(JSON.parse(j) as HostRecord)
    let badEdges = 0
    for await (const [id, j] of this.store.topology.edges()) {
      const e = decodeEdge(id, j)
      if (e === undefined) badEdges++
      else this.model.loadEdge(e)
    }
    if (badEdges > 0) this.log.warn({ edges: badEdges }, 'topology: stored edges that do not decode were skipped (POST /api/v1/topology/rebuild recomputes them)')
    for (const p of await this.store.topology.lossPeriods()) this.model.loss.add(p)
    this.watermark = await this.store.topology.watermark()
    const replayed = await this.replayAfter(this.watermark)
    if (replayed > 0) this.log.info({ batches: replayed, watermark: this.watermark }, 'topology: merged batches stored after the last flush')
    this.timer = setInterval(() => { void this.flush() }, this.opts.flushIntervalMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
    await this.flush()
  }

  /** IngestService listener: merges one durable batch (synchronous, in memory). */
  readonly onStored = (b: StoredBatch): void => {
    try {
      this.merge(b.agentId, b.n, b.flows(), b.rest, b.receivedAtUs)
    } catch (err) {
      this.counters.merge_errors++
      this.log.error({ err, n: b.n }, 'topology merge failed for a batch')
    }
  }

  private merge(agentId: string, n: number, flows: Flow[], rest: Pick<Batch, 'hostObservations' | 'gaps' | 'stats' | 'sentAtUs'> | undefined, receivedAtUs: number): void {
    const m = this.model
    if (rest !== undefined) {
      for (const g of rest.gaps as Gap[]) { const p = gapLoss(agentId, g, rest.sentAtUs || receivedAtUs); if (p !== undefined) m.addLoss(p) }
      if (rest.stats) {
        let dropped = 0
        for (const c of rest.stats.capture ?? []) dropped += (c.dropped ?? 0) + (c.ifDropped ?? 0)
        m.captureDrops(agentId, rest.stats.collectedAtUs ?? receivedAtUs, dropped)
      }
      for (const o of rest.hostObservations as HostObservation[]) m.observe(observationView(agentId, o))
    }
    const tops = this.tops
    for (const f of flows) {
      const v = flowView(agentId, f)
      if (v !== undefined) {
        const w = v.view
        tops.add(w.tsUs, w.orig, w.resp, w.service, f.proto, w.respPort, w.bytes, w.packets)
        m.flow(w, v.established, v.origBytes, v.respBytes)
      } else {
        tops.add(f.tsUs, ipText(f.origH), ipText(f.respH), f.service, f.proto, f.respP, f.origIpBytes + f.respIpBytes, f.origPkts + f.respPkts)
      }
    }
    if (n > this.watermark) this.watermark = n
    this.generation++
    this.counters.batches_merged++
  }

  /** Merges stored batches with a number above `after`, in storage order. */
  private async replayAfter(after: number): Promise<number> {
    let count = 0
    for await (const rec of this.store.batches.batchRecords()) {
      if (rec.n <= after) continue
      const fs = rec.flowMinTsUs === undefined ? undefined : await this.store.flows.segment({ minTsUs: rec.flowMinTsUs, n: rec.n })
      const ho = rec.observationMinTsUs === undefined ? undefined : await this.store.flows.observationSegment({ minTsUs: rec.observationMinTsUs, n: rec.n })
      const gp = rec.gaps > 0 ? await this.store.flows.gapSegment(rec.agentId, rec.n) : undefined
      const rest = Batch.decode(Buffer.concat([ho ?? Buffer.alloc(0), gp ?? Buffer.alloc(0)]))
      this.merge(rec.agentId, rec.n, fs === undefined ? [] : Batch.decode(fs).flows as Flow[], { hostObservations: rest.hostObservations, gaps: rest.gaps, stats: null, sentAtUs: rec.sentAtUs }, rec.receivedAtUs)
      count++
      if (count % 200 === 0) await this.flush()
    }
    await this.flush()
    return count
  }

  /** Forgets the merged topology and roll-ups and merges every stored batch again. */
  async rebuild(): Promise<{ batches: number; hosts: number; edges: number }> {
    await this.flushing
    this.model.clear()
    this.resets++
    this.tops.clear()
    this.generation++
    const loss = await this.store.topology.lossPeriods()
    await this.store.topology.clear()
    for (const p of loss) this.model.loss.add(p)
    this.watermark = 0
    const batches = await this.replayAfter(0)
    return { batches, hosts: this.model.hosts.size, edges: this.model.edges.size }
  }

  /** Persists what changed since the last flush (serialised). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.doFlush()).catch((err: unknown) => {
      this.counters.flush_errors++
      this.log.error({ err }, 'topology flush failed')
    })
    return this.flushing
  }

  private async doFlush(): Promise<void> {
    const m = this.model
    if (m.dirtyHosts.size === 0 && m.dirtyEdges.size === 0 && m.deletedHosts.size === 0 && m.deletedEdges.size === 0 && m.rollupDeltas.size === 0 && m.newLossPeriods.length === 0 && !this.tops.pending) {
      if (this.watermark === await this.store.topology.watermark()) return
    }
    const f: TopologyFlush = { hosts: [], edges: [], deletedHosts: [...m.deletedHosts], deletedEdges: [...m.deletedEdges], rollups: [], topRollups: [], lossPeriods: [...m.newLossPeriods], watermark: this.watermark }
    for (const id of m.dirtyHosts) { const h = m.hosts.get(id); if (h !== undefined) f.hosts.push({ id, json: JSON.stringify(h) }) }
    for (const id of m.dirtyEdges) { const e = m.edges.get(id); if (e !== undefined) f.edges.push({ id, json: encodeEdge(e) }) }
    const deltas = [...m.rollupDeltas.values()]
    m.dirtyHosts.clear(); m.dirtyEdges.clear(); m.deletedHosts.clear(); m.deletedEdges.clear(); m.rollupDeltas.clear(); m.newLossPeriods.length = 0
    const topDeltas = this.tops.takeDeltas()
    for (const d of deltas) {
      const cur = await this.store.topology.rollup(d.resolution, d.bucketUs, d.dim)
      const row: RollupRow = { resolution: d.resolution, bucketUs: d.bucketUs, dim: d.dim, flows: (cur?.flows ?? 0) + d.flows, bytes: (cur?.bytes ?? 0) + d.bytes, packets: (cur?.packets ?? 0) + d.packets }
      f.rollups.push(row)
    }
    const tops = await this.tops.rows(topDeltas)
    f.topRollups = tops.rows
    try {
      await this.store.topology.flush(f)
    } catch (err) {
      this.tops.forget()
      throw err
    }
    this.tops.remember(tops.totals)
    this.counters.flushes++
  }

  /** Retention of hosts and edges (last seen before cutoffUs). */
  async expire(cutoffUs: number): Promise<{ hosts: number; edges: number }> {
    const r = this.model.expire(cutoffUs)
    this.generation++
    await this.flush()
    return r
  }
}
