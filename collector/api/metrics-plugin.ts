/** `GET /metrics` (Prometheus text; a viewer token or better) and the HTTP latency hook. */
import type { FastifyPluginAsync } from 'fastify'
import { INGEST_PATH } from '../../protocol/index.js'
import { requireRole } from '../auth/authenticate.js'
import type { CollectorMetrics } from '../metrics.js'
import type { ApiContext } from './api-context.js'
import { READ_AGGREGATES } from './roles.js'
import { ErrorSchema } from './schemas.js'

export const metricsPlugin: FastifyPluginAsync<{ ctx: ApiContext; metrics: CollectorMetrics }> = async (app, { ctx, metrics }) => {
  app.get('/metrics', {
    onRequest: requireRole(ctx.store, READ_AGGREGATES),
    schema: { summary: 'Prometheus metrics', response: { 401: ErrorSchema, 403: ErrorSchema } },
  }, async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()))
}

/** Installs the request-latency hook on the root instance (every route, every plugin). */
export function installLatencyHook(app: Parameters<FastifyPluginAsync>[0], metrics: CollectorMetrics): void {
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched'
    const s = reply.elapsedTime / 1000
    metrics.http.observe({ method: req.method, route, status: String(reply.statusCode) }, s)
    if (route === INGEST_PATH) metrics.ingestBatch.observe({ status: String(reply.statusCode) }, s)
  })
}
