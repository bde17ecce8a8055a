/**
 * `GET /api/v1/topology` (JSON nodes/edges or GraphML), `POST /api/v1/topology/rebuild`
 * (admin: recompute from stored flows). Answers are cached per query until the topology
 * changes (a merge, expiry or rebuild), so dashboards polling it cost one lookup.
 */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError } from '../errors.js'
import { timeRange } from '../query/time-params.js'
import { toGraphml } from '../topology/graphml.js'
import { selectTopology } from '../topology/topology-view.js'
import type { ApiContext } from './api-context.js'
import { ADMIN_ONLY, READ_AGGREGATES } from './roles.js'
import { TimeQuery } from './query-schemas.js'
import { ErrorSchema } from './schemas.js'

const Query = Type.Object({
  ...TimeQuery,
  cidr: Type.Optional(Type.String({ maxLength: 64, description: 'edges with either end in this block' })),
  service: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'edges carrying this service' })),
  min_bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'edges with at least this many bytes' })),
  agent: Type.Optional(Type.String({ maxLength: 64, description: 'edges seen by this agent' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'busiest edges returned; default 1000' })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('graphml')], { description: 'json (default) or graphml' })),
}, { additionalProperties: false })

const CACHE_MAX = 64

export const topologyPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, topology } = ctx
  // Bodies are kept as Buffers: a hit is one socket write, no per-request UTF-8 encoding.
  const cache = new Map<string, { gen: number; body: Buffer; type: string }>()
  app.get('/api/v1/topology', {
    onRequest: requireRole(store, READ_AGGREGATES),
    schema: {
      summary: 'The merged topology: hosts (nodes) and client → server service edges, busiest first',
      querystring: Query,
      response: { 200: Type.Any(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema },
    },
  }, async (req, reply) => {
    const q = req.query as Static<typeof Query>
    const key = req.url.split('?')[1] ?? ''
    const relative = /(^|&)(from|to)=-/.test(key)
    const hit = relative ? undefined : cache.get(key)
    if (hit !== undefined && hit.gen === topology.generation) return reply.type(hit.type).send(hit.body)
    const { fromUs, toUs } = timeRange(q, Date.now() * 1000)
    const tq: Parameters<typeof selectTopology>[1] = { fromUs, toUs, minBytes: q.min_bytes ?? 0, limit: q.limit ?? 1000 }
    if (q.cidr !== undefined) tq.cidr = q.cidr
    if (q.service !== undefined) tq.service = q.service
    if (q.agent !== undefined) tq.agent = q.agent
    const t = selectTopology(topology.model, tq)
    if (t === undefined) throw new CollectorError('BAD_REQUEST', `query parameter "cidr": "${q.cidr}" is not a CIDR block like 10.0.0.0/8`)
    const graphml = q.format === 'graphml'
    const body = Buffer.from(graphml ? toGraphml(t) : JSON.stringify(t), 'utf8')
    const type = graphml ? 'application/graphml+xml; charset=utf-8' : 'application/json; charset=utf-8'
    if (!relative) {
      if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string)
      cache.set(key, { gen: topology.generation, body, type })
    }
    return reply.type(type).send(body)
  })

  app.post('/api/v1/topology/rebuild', {
    onRequest: requireRole(store, ADMIN_ONLY),
    schema: {
      summary: 'Recompute hosts, edges and roll-ups from the stored batches (admin; audited)',
      response: { 200: Type.Object({ batches: Type.Integer(), hosts: Type.Integer(), edges: Type.Integer() }), 401: ErrorSchema, 403: ErrorSchema },
    },
  }, async (req) => {
    const r = await topology.rebuild()
    await store.audit.append({ at: new Date().toISOString(), actor: req.principal!.token.id, action: 'topology.rebuild', details: r })
    ctx.log.info({ ...r, by: req.principal!.token.id }, 'topology rebuilt')
    return r
  })
}
