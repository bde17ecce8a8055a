/**
 * Registers the query API of issue 6 on the collector's fastify instance: OpenAPI docs,
 * per-token rate limits, optional CORS, metrics, and one plugin per resource; starts the
 * topology merge (fed by ingest) and the retention job with the app and stops them with it.
 */
import type { FastifyInstance } from 'fastify'
import cors from '@fastify/cors'
import rateLimit from '@fastify/rate-limit'
import { createHash } from 'node:crypto'
import { bearer } from '../auth/authenticate.js'
import type { CollectorConfig } from '../config/config-schema.js'
import { CollectorError } from '../errors.js'
import type { IngestService } from '../ingest/ingest-service.js'
import { CollectorMetrics } from '../metrics.js'
import { SegmentCache } from '../query/segment-cache.js'
import { RetentionJob } from '../retention/retention-job.js'
import type { CollectorStore } from '../storage/index.js'
import { TopologyService } from '../topology/topology-service.js'
import type { Logger } from '../util/logger.js'
import type { ApiContext } from './api-context.js'
import { rejectUnknownQuery } from './query-schemas.js'
import { agentsReadPlugin } from './agents-read-plugin.js'
import { appRecordsPlugin } from './app-records-plugin.js'
import { registerDocs } from './docs-plugin.js'
import { eventsPlugin } from './events-plugin.js'
import { flowsPlugin } from './flows-plugin.js'
import { hostsPlugin } from './hosts-plugin.js'
import { installLatencyHook, metricsPlugin } from './metrics-plugin.js'
import { statsPlugin } from './stats-plugin.js'
import { streamPlugin } from './stream-plugin.js'
import { tokensPlugin } from './tokens-plugin.js'
import { topologyPlugin } from './topology-plugin.js'

export interface ApiParts { ctx: ApiContext; topology: TopologyService; retention: RetentionJob; metrics: CollectorMetrics }

/** Paths outside the per-token API rate limit (agents and probes have their own limits). */
const UNLIMITED = /^\/(api\/v1\/(ingest|enroll)|healthz|readyz)(\?|$)/

export function registerApi(app: FastifyInstance, opts: { config: Readonly<CollectorConfig>; store: CollectorStore; ingest: IngestService; log: Logger; version: string }): ApiParts {
  const { config, store, ingest, log } = opts
  const t = config.topology
  const topology = new TopologyService(store, {
    scopeByVlan: t.scope_by_vlan, dedupWindowUs: Math.round(t.dedup_window_s * 1_000_000), dedupEntries: t.dedup_entries,
    maxHosts: t.max_hosts, maxEdges: t.max_edges, flushIntervalMs: t.flush_interval_ms, sliceMs: t.merge_slice_ms, queueBatches: t.queue_batches,
  }, log.child({ component: 'topology' }))
  ingest.onStored(topology.onStored)
  const a = config.api
  const ctx: ApiContext = {
    store, topology, ingest, cache: new SegmentCache(a.segment_cache_flows), log: log.child({ component: 'api' }), topologyReadWaitMs: t.read_wait_ms,
    topologyAnswers: { maxStalenessMs: t.answer_max_staleness_ms, refreshMs: Math.min(t.answer_refresh_ms, t.answer_max_staleness_ms), sliceMs: t.answer_slice_ms },
    limits: { maxScan: a.max_scan, maxPage: a.max_page, maxExport: a.max_export, onlineAfterMs: a.online_after_s * 1000, maxStreams: a.max_streams },
  }
  const retention = new RetentionJob(store, topology, config.retention, log.child({ component: 'retention' }))
  const metrics = new CollectorMetrics(ctx, a.online_after_s * 1000)

  // Runs after the store opened (buildApp registers that first).
  app.register(async () => {
    await topology.start()
    retention.start()
  })
  app.addHook('preClose', async () => {
    await retention.stop()
    await topology.stop()
  })
  installLatencyHook(app, metrics)
  registerDocs(app, opts.version)
  app.register(async (root) => {
    await root.register(rateLimit, {
      global: true,
      max: a.rate_limit_per_minute,
      timeWindow: 60_000,
      allowList: (req) => UNLIMITED.test(req.url),
      keyGenerator: (req) => {
        const s = bearer(req.headers.authorization)
        return s === undefined ? `ip:${req.ip}` : `tok:${createHash('sha256').update(s).digest('base64url').slice(0, 22)}`
      },
      errorResponseBuilder: (_req, c) => {
        // Thrown by the plugin: the error handler answers with its JSON body.
        return new CollectorError('RATE_LIMITED', `more than ${c.max} requests per minute with this token; retry in ${Math.ceil(c.ttl / 1000)} s`)
      },
    })
    if (a.cors_origins.length > 0) await root.register(cors, { origin: [...a.cors_origins], methods: ['GET', 'POST', 'DELETE'] })
    rejectUnknownQuery(root)
    await root.register(flowsPlugin, { ctx })
    await root.register(topologyPlugin, { ctx })
    await root.register(hostsPlugin, { ctx })
    await root.register(eventsPlugin, { ctx })
    await root.register(appRecordsPlugin, { ctx })
    await root.register(agentsReadPlugin, { ctx })
    await root.register(statsPlugin, { ctx })
    await root.register(tokensPlugin, { ctx })
    await root.register(streamPlugin, { ctx })
    await root.register(metricsPlugin, { ctx, metrics })
  })
  return { ctx, topology, retention, metrics }
}
