/**
 * buildApp(): the collector's fastify instance, never listening (the serve command listens;
 * tests use app.inject()). The store is opened while the app boots (`await app.ready()`)
 * and closed by app.close() after the server stopped taking requests. One encapsulated
 * plugin per resource.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { agentsPlugin } from './api/agents-plugin.js'
import { enrollPlugin } from './api/enroll-plugin.js'
import { enrollmentTokensPlugin } from './api/enrollment-tokens-plugin.js'
import { installErrorHandlers } from './api/error-handler.js'
import { healthPlugin } from './api/health-plugin.js'
import { ingestPlugin } from './api/ingest-plugin.js'
import type { CollectorConfig } from './config/config-schema.js'
import { ensureAdminToken } from './enroll/enrollment.js'
import { IngestService } from './ingest/ingest-service.js'
import { CollectorStore } from './storage/index.js'
import { createRootLogger, type Logger } from './util/logger.js'
import { registerApi, type ApiParts } from './api/register-api.js'
import { readFileSync } from 'node:fs'
import { RateLimitedLog } from './util/rate-limited-log.js'
import { wireDetection, type DetectionWiring } from './detection/detection-wiring.js'

export interface BuildAppOptions {
  config: Readonly<CollectorConfig>
  /** Root logger; default from config.log. */
  log?: Logger
  /** Value of TELLTALE_ADMIN_TOKEN: an admin token with this secret exists after boot. */
  adminToken?: string
}

export interface CollectorApp {
  app: FastifyInstance
  store: CollectorStore
  ingest: IngestService
  /** Detection, alerts, intel, policy (issue 7). */
  detection: DetectionWiring
  /** The query API's parts (topology merge, retention job, metrics), issue 6. */
  api: ApiParts
}

/**
 * Fastify's https options when tls.cert_file and tls.key_file are set (issue 6); with
 * tls.client_ca_file, clients must present a certificate that chains to it (mutual TLS: the
 * TLS handshake fails without one, before any HTTP).
 */
function httpsOptions(config: Readonly<CollectorConfig>): { https?: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean; rejectUnauthorized?: boolean } } {
  if (config.tls.cert_file === '' || config.tls.key_file === '') return {}
  const https = { cert: readFileSync(config.tls.cert_file), key: readFileSync(config.tls.key_file) }
  if (config.tls.client_ca_file === '') return { https }
  return { https: { ...https, ca: readFileSync(config.tls.client_ca_file), requestCert: true, rejectUnauthorized: true } }
}

export function buildApp(opts: BuildAppOptions): CollectorApp {
  const { config } = opts
  const log = opts.log ?? createRootLogger({ level: config.log.level, pretty: config.log.pretty })
  const store = new CollectorStore({
    dataDir: config.data_dir, sync: config.storage.sync,
    tuning: { writeBufferBytes: config.storage.write_buffer_mb * 1024 * 1024, cacheBytes: config.storage.cache_mb * 1024 * 1024 },
  })
  const ingest = new IngestService(store, {
    maxFlowsPerBatch: config.ingest.max_flows_per_batch, maxEntriesPerBatch: config.ingest.max_entries_per_batch, maxInflatedBytes: config.ingest.max_decompressed_bytes,
  })
  const clockLog = new RateLimitedLog(3_600_000)
  const ingestLog = log.child({ component: 'ingest' })
  ingest.onClockOffset = (agent, offsetMs) => clockLog.hit(agent, (suppressed) => {
    ingestLog.warn({ agent, offsetMs, suppressed }, `agent ${agent}'s clock is ${Math.round(Math.abs(offsetMs) / 1000)} s ${offsetMs > 0 ? 'ahead of' : 'behind'} the collector's: its flow and event times are as it stamped them (fix its time sync; logged once an hour)`)
  })
  const app = Fastify({
    loggerInstance: log.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    forceCloseConnections: true,
    // Start-up loads the stored topology (7 s for 150k hosts and 193k edges on the 2-core
    // bench machine under load; it grows with the store): fastify's default 10 s per plugin
    // failed such a collector's start. The bound is systemd's TimeoutStartSec (the unit).
    pluginTimeout: 0,
    ...httpsOptions(config),
  }) as unknown as FastifyInstance
  installErrorHandlers(app)

  app.register(async () => {
    await store.open()
    log.child({ component: 'storage' }).info({ dir: config.data_dir }, 'store open')
    if (opts.adminToken !== undefined && opts.adminToken !== '') {
      const r = await ensureAdminToken(store, opts.adminToken)
      if (r.created) log.child({ component: 'auth' }).info({ token: r.record.id }, 'admin token from TELLTALE_ADMIN_TOKEN created')
    }
  })
  app.addHook('onClose', async () => {
    await store.close()
    log.child({ component: 'storage' }).info('store closed')
  })

  const api = registerApi(app, { config, store, ingest, log, version: process.env.npm_package_version ?? '0.1.0' })
  app.register(healthPlugin, { store })
  app.register(ingestPlugin, {
    store, service: ingest, log: log.child({ component: 'ingest' }),
    limits: { maxBodyBytes: config.ingest.max_body_bytes, maxDecompressedBytes: config.ingest.max_decompressed_bytes },
  })
  app.register(enrollmentTokensPlugin, { store })
  app.register(enrollPlugin, { store, log: log.child({ component: 'enroll' }) })
  app.register(agentsPlugin, { store, log: log.child({ component: 'agents' }) })
  const detection = wireDetection(app, config, store, ingest, log)
  api.ctx.alerts = detection.alerts.events
  api.ctx.alertQuery = (q) => detection.alerts.query(q)
  api.ctx.alertCount = () => detection.alerts.query({ limit: Number.MAX_SAFE_INTEGER }).length
  // Every series from the start (at 0), so an alert rule on a drop sees the series before the first one.
  const detectionZeros = Object.fromEntries(['detection_findings_total', 'detection_dropped_batches_total', 'detection_errors_total',
    'webhook_sent_total', 'webhook_failed_total', 'webhook_retries_total', 'webhook_dropped_total',
    'detector_state_saves_total', 'detector_state_save_errors_total', 'detector_state_restored_total', 'detector_state_ignored_total'].map((k) => [k, 0]))
  api.ctx.detectionFigures = () => ({ ...detectionZeros, queue_batches: detection.detection.backlog, ...detection.detection.counters.snapshot(), ...detection.learning.counters.snapshot(), ...detection.webhooks.counters.snapshot() })
  api.retention.expireAlertsWith(detection.alerts)
  return { app, store, ingest, detection, api }
}
