/**
 * Prometheus metrics (prom-client, one registry per app): HTTP latency per route, ingest
 * counters and batch latency, store size, per-agent lag, topology size.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { ApiContext } from './api/api-context.js'

export class CollectorMetrics {
  readonly registry = new Registry()
  readonly http: Histogram<'method' | 'route' | 'status'>
  readonly ingestBatch: Histogram<'status'>

  constructor(ctx: Pick<ApiContext, 'store' | 'topology' | 'ingest' | 'detectionFigures'>, onlineAfterMs: number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'telltale_collector_' })
    this.http = new Histogram({ name: 'telltale_http_request_duration_seconds', help: 'HTTP request latency by route', labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10], registers: [this.registry] })
    this.ingestBatch = new Histogram({ name: 'telltale_ingest_batch_duration_seconds', help: 'ingest request latency (receive, check, durable write, ack)', labelNames: ['status'], buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [this.registry] })
    const ingest = ctx.ingest
    new Counter({
      name: 'telltale_ingest_total', help: 'ingest counters (batches, flows, events, observations, app records, gaps, bytes, rejected)', labelNames: ['counter'], registers: [this.registry],
      collect() { this.reset(); for (const [k, v] of Object.entries(ingest.counters.snapshot())) this.inc({ counter: k }, v) },
    })
    const store = ctx.store
    new Gauge({ name: 'telltale_store_bytes', help: 'approximate store size on disk', registers: [this.registry], async collect() { this.set(await store.flows.approximateBytes()) } })
    new Gauge({
      name: 'telltale_store_write_failing', help: '1 while the last store write failed (disk full or I/O error; /readyz is 503 then), 0 when writes work',
      labelNames: ['reason'], registers: [this.registry],
      collect() {
        const f = store.writeFailure
        this.set({ reason: 'disk_full' }, f?.full === true ? 1 : 0)
        this.set({ reason: 'io_error' }, f !== undefined && !f.full ? 1 : 0)
      },
    })
    new Gauge({
      name: 'telltale_agent_lag_seconds', help: 'seconds since the agent\'s last batch', labelNames: ['agent'], registers: [this.registry],
      async collect() {
        this.reset()
        for (const a of await store.agents.list()) if (a.revokedAt === undefined && a.lastSeenAt !== undefined) this.set({ agent: a.id }, (Date.now() - Date.parse(a.lastSeenAt)) / 1000)
      },
    })
    new Gauge({
      name: 'telltale_agent_clock_offset_seconds', help: 'the agent\'s clock minus the collector\'s at its last batch (from the send-time header; includes the network delay)', labelNames: ['agent'], registers: [this.registry],
      async collect() {
        this.reset()
        for (const a of await store.agents.list()) if (a.revokedAt === undefined && a.clockOffsetMs !== undefined) this.set({ agent: a.id }, a.clockOffsetMs / 1000)
      },
    })
    new Gauge({
      name: 'telltale_agent_online', help: '1 when the agent sent a batch within the online window', labelNames: ['agent'], registers: [this.registry],
      async collect() {
        this.reset()
        for (const a of await store.agents.list()) if (a.revokedAt === undefined) this.set({ agent: a.id }, a.lastSeenAt !== undefined && Date.now() - Date.parse(a.lastSeenAt) <= onlineAfterMs ? 1 : 0)
      },
    })
    new Gauge({
      name: 'telltale_detection', help: 'detection backlog (queue_batches: batches acked but not yet examined) and counters (findings, dropped batches, errors, webhooks)', labelNames: ['what'], registers: [this.registry],
      collect() {
        for (const [k, v] of Object.entries(ctx.detectionFigures?.() ?? {})) this.set({ what: k }, v)
      },
    })
    const topo = ctx.topology
    new Gauge({
      name: 'telltale_topology', help: 'topology size and merge counters', labelNames: ['what'], registers: [this.registry],
      collect() {
        this.set({ what: 'hosts' }, topo.model.hosts.size)
        this.set({ what: 'edges' }, topo.model.edges.size)
        for (const [k, v] of Object.entries(topo.model.counters)) this.set({ what: k }, v)
        for (const [k, v] of Object.entries(topo.counters)) this.set({ what: k }, v)
        this.set({ what: 'merge_watermark' }, topo.mergeMarks.watermark)
        this.set({ what: 'merged_above_watermark' }, topo.mergeMarks.above)
        this.set({ what: 'backlog_batches' }, topo.backlog)
        for (const [k, v] of Object.entries(topo.answerCounters)) this.set({ what: k }, v)
        this.set({ what: 'dedup_entries' }, topo.model.dedup.entries)
        this.set({ what: 'dedup_evicted' }, topo.model.dedup.evicted)
      },
    })
  }
}
