/**
 * `GET /api/v1/topology` (JSON nodes/edges or GraphML), `POST /api/v1/topology/rebuild`
 * (admin: recompute from stored flows). Answers are cached per query string as encoded
 * bodies (a hit is one socket write) and served stale-while-revalidate within
 * `topology.answer_max_staleness_ms` (topology-answers.ts); builds run in slices that yield
 * to the event loop (topology-build.ts), so a merged ingest batch never puts a full
 * selection on a request's path. Headers say how current an answer is.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError } from '../errors.js'
import { timeRange } from '../query/time-params.js'
import { parseCidr16 } from '../topology/addresses.js'
import { TopologyAnswers } from '../topology/topology-answers.js'
import { buildTopologyAnswer, Slicer } from '../topology/topology-build.js'
import type { TopologyQuery } from '../topology/topology-view.js'
import type { ApiContext } from './api-context.js'
import { reportTopologyBacklog, waitForTopology } from './topology-read.js'
import { ADMIN_ONLY, READ_AGGREGATES } from './roles.js'
import { TimeQuery } from './query-schemas.js'
import { SITE_PATTERN } from '../enroll/site-name.js'
import { ErrorSchema } from './schemas.js'

const Query = Type.Object({
  ...TimeQuery,
  cidr: Type.Optional(Type.String({ maxLength: 64, description: 'edges with either end in this block' })),
  service: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'edges carrying this service' })),
  min_bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'edges with at least this many bytes' })),
  agent: Type.Optional(Type.String({ maxLength: 64, description: 'edges seen by this agent' })),
  site: Type.Optional(Type.String({ pattern: SITE_PATTERN, description: 'edges with either end a private host of this site' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, description: 'busiest edges returned; default 1000' })),
  format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('graphml')], { description: 'json (default) or graphml' })),
}, { additionalProperties: false })

const CACHE_MAX = 64

export const topologyPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, topology } = ctx
  const o = ctx.topologyAnswers ?? { maxStalenessMs: 0, refreshMs: 0, sliceMs: 5 }
  const answers = new TopologyAnswers({ maxStalenessMs: o.maxStalenessMs, refreshMs: o.refreshMs, maxEntries: CACHE_MAX }, () => topology.generation)
  topology.answerCounters = answers.counters
  const keyOf = (req: FastifyRequest): string => req.url.split('?')[1] ?? ''
  // A build waits for the batches acked before the request (topology-read.ts); an answer
  // served from the cache within the staleness bound does not: waiting would not make it newer.
  const wait = waitForTopology(ctx)
  const report = reportTopologyBacklog(ctx)
  app.get('/api/v1/topology', {
    onRequest: requireRole(store, READ_AGGREGATES),
    preHandler: (req, reply) => (answers.cachedWithinBound(keyOf(req)) ? report(req, reply) : wait(req, reply)),
    schema: {
      summary: 'The merged topology: hosts (nodes) and client → server service edges, busiest first (may be up to topology.answer_max_staleness_ms behind; see the x-topology-* headers)',
      querystring: Query,
      response: { 200: Type.Any(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema },
    },
  }, async (req, reply) => {
    const q = req.query as Static<typeof Query>
    if (q.cidr !== undefined && parseCidr16(q.cidr) === undefined) throw new CollectorError('BAD_REQUEST', `query parameter "cidr": "${q.cidr}" is not a CIDR block like 10.0.0.0/8`)
    const key = keyOf(req)
    // Relative windows (from=-1h) are evaluated when the build starts (the answer's as_of).
    const query = (): TopologyQuery => {
      const { fromUs, toUs } = timeRange(q, answers.now() * 1000)
      const tq: TopologyQuery = { fromUs, toUs, minBytes: q.min_bytes ?? 0, limit: q.limit ?? 1000 }
      if (q.cidr !== undefined) tq.cidr = q.cidr
      if (q.service !== undefined) tq.service = q.service
      if (q.agent !== undefined) tq.agent = q.agent
      if (q.site !== undefined) tq.site = q.site
      return tq
    }
    const meta = (): { generation: number; asOfMs: number } => ({ generation: topology.generation, asOfMs: answers.now() })
    const { answer, how } = await answers.get(key, () => buildTopologyAnswer(topology.model, query, q.format === 'graphml' ? 'graphml' : 'json', meta, () => topology.resets, new Slicer(o.sliceMs)))
    void reply.header('x-topology-generation', String(answer.generation))
      .header('x-topology-as-of', new Date(answer.asOfMs).toISOString())
      .header('x-topology-age-ms', String(Math.max(0, answers.now() - answer.asOfMs)))
      // Current: the answer holds everything merged and the merge holds everything acked.
      .header('x-topology-current', how === 'stale' || topology.backlog > 0 ? 'false' : 'true')
    return reply.type(answer.type).send(answer.body)
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
