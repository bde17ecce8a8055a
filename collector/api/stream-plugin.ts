/**
 * `GET /api/v1/stream`: server-sent events of new hosts (`event: host`) and edges
 * (`event: edge`) and alerts (`event: alert`, { kind, alert }). A comment line every 15 s keeps proxies from
 * closing the connection. Each client has a bounded queue: when its socket cannot keep up,
 * events are dropped and a `dropped` event says how many.
 */
import type { FastifyPluginAsync } from 'fastify'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError, errorBody } from '../errors.js'
import { nodeJson, edgeJson } from '../topology/topology-view.js'
import type { TopologyChange } from '../topology/topology-model.js'
import type { ApiContext } from './api-context.js'
import { READ_AGGREGATES } from './roles.js'
import { ErrorSchema } from './schemas.js'

const MAX_QUEUED_BYTES = 1024 * 1024

export const streamPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, topology, limits } = ctx
  const open = new Set<() => void>()
  app.addHook('onClose', async () => { for (const end of open) end() })
  app.get('/api/v1/stream', {
    onRequest: requireRole(store, READ_AGGREGATES),
    schema: { summary: 'Server-sent events: new hosts and edges', response: { 401: ErrorSchema, 403: ErrorSchema, 503: ErrorSchema } },
  }, async (req, reply) => {
    if (open.size >= limits.maxStreams) return reply.code(503).send(errorBody(new CollectorError('STREAM_FULL', `${open.size} live streams are open (limit ${limits.maxStreams}); close one or retry later`)))
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
    res.write(': telltale stream\n\n')
    let dropped = 0
    const send = (event: string, data: unknown): void => {
      if (res.writableLength > MAX_QUEUED_BYTES) { dropped++; return }
      if (dropped > 0) { res.write(`event: dropped\ndata: ${JSON.stringify({ dropped })}\n\n`); dropped = 0 }
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
    }
    const unsubscribe = topology.subscribe((c: TopologyChange) => {
      if (c.kind === 'host') send('host', nodeJson(c.host))
      else send('edge', edgeJson(c.edge, () => false))
    })
    // Alerts (issue 7): created, updated and status changes, as `event: alert`.
    const onAlert = (e: { kind: string; alert: unknown }): void => send('alert', e)
    const alerts = ctx.alerts
    alerts?.on('alert', onAlert)
    const ping = setInterval(() => { res.write(': ping\n\n') }, 15_000)
    ping.unref()
    const end = (): void => {
      clearInterval(ping)
      unsubscribe()
      alerts?.off('alert', onAlert)
      open.delete(end)
      if (!res.writableEnded) res.end()
    }
    open.add(end)
    req.raw.on('close', end)
    res.on('error', end)
  })
}
