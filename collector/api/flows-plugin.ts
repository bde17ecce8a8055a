/**
 * `GET /api/v1/flows` (filters, cursor pages, NDJSON export with Accept: application/x-ndjson),
 * `GET /api/v1/flows/top` and `GET /api/v1/timeseries`.
 */
import { cursorPage } from './cursor-pages.js'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { flowJson } from '../query/flow-json.js'
import { compileFilter, queryFlows, type FlowFilter } from '../query/flow-query.js'
import { decodeCursor, timeRange } from '../query/time-params.js'
import { topFlows } from '../query/top.js'
import { timeSeries } from '../query/timeseries.js'
import type { ApiContext } from './api-context.js'
import { waitForTopology } from './topology-read.js'
import { READ_AGGREGATES, READ_RECORDS } from './roles.js'
import { FlowFilterQuery, PageQuery } from './query-schemas.js'
import { ErrorSchema } from './schemas.js'

const FlowsQuery = Type.Object({ ...FlowFilterQuery, ...PageQuery }, { additionalProperties: false })
const TopQuery = Type.Object({
  ...FlowFilterQuery,
  group: Type.Optional(Type.Union([Type.Literal('talkers'), Type.Literal('services'), Type.Literal('ports'), Type.Literal('pairs')], { description: 'what to rank; default talkers' })),
  by: Type.Optional(Type.Union([Type.Literal('bytes'), Type.Literal('flows'), Type.Literal('packets')], { description: 'ranking metric; default bytes' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'rows; default 10' })),
}, { additionalProperties: false })
const SeriesQuery = Type.Object({
  ...FlowFilterQuery,
  interval: Type.Optional(Type.Integer({ minimum: 1, maximum: 31 * 86400, description: 'seconds per point; default 60 (multiple of 60 unless filtered by host/cidr/port/conn_state/agent)' })),
}, { additionalProperties: false })

const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema }
const Row = Type.Object({ key: Type.String(), bytes: Type.Number(), flows: Type.Number(), packets: Type.Number() })

export function flowFilter(q: Static<typeof FlowsQuery> | Static<typeof TopQuery>, nowUs: number, defaultSpanUs?: number): FlowFilter {
  const f: FlowFilter = timeRange(q, nowUs, defaultSpanUs)
  if (q.host !== undefined) f.host = q.host
  if (q.cidr !== undefined) f.cidr = q.cidr
  if (q.port !== undefined) f.port = q.port
  if (q.proto !== undefined) f.proto = q.proto
  if (q.service !== undefined) f.service = q.service
  if (q.conn_state !== undefined) f.connState = q.conn_state
  if (q.agent !== undefined) f.agent = q.agent
  if (q.community_id !== undefined) f.communityId = q.community_id
  compileFilter(f) // validates, naming the parameter
  return f
}

export const flowsPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, cache, limits } = ctx
  app.get('/api/v1/flows', {
    onRequest: requireRole(store, READ_RECORDS),
    schema: {
      summary: 'Stored flow records (every agent\'s record), filtered, in pages or as an NDJSON export',
      querystring: FlowsQuery,
      response: { 200: Type.Object({ flows: Type.Array(Type.Any()), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...Errors },
    },
  }, async (req, reply) => {
    const q = req.query as Static<typeof FlowsQuery>
    const f = flowFilter(q, Date.now() * 1000)
    const after = decodeCursor(q.cursor)
    return cursorPage(req, reply, limits, q.limit, 'flows', () => queryFlows(store, cache, f, after), (h) => flowJson(`${h.cursor.n}:${h.cursor.i}`, h.agentId, h.flow))
  })

  app.get('/api/v1/flows/top', {
    onRequest: requireRole(store, READ_RECORDS),
    preHandler: waitForTopology(ctx),
    schema: {
      summary: 'Top talkers, services, ports or pairs by bytes, flows or packets over a window (default the last hour)',
      querystring: TopQuery,
      response: { 200: Type.Object({ group: Type.String(), by: Type.String(), from_us: Type.Number(), to_us: Type.Number(), scanned: Type.Number(), truncated: Type.Boolean(), rollup_hours: Type.Integer(), rows: Type.Array(Row) }), ...Errors },
    },
  }, async (req) => {
    const q = req.query as Static<typeof TopQuery>
    const f = flowFilter(q, Date.now() * 1000, 3600 * 1_000_000)
    return topFlows(store, cache, f, q.group ?? 'talkers', q.by ?? 'bytes', q.limit ?? 10, limits.maxScan, ctx.topology.tops)
  })

  app.get('/api/v1/timeseries', {
    onRequest: requireRole(store, READ_AGGREGATES),
    preHandler: waitForTopology(ctx),
    schema: {
      summary: 'Flows, bytes and packets per interval (roll-ups; raw flows when filtered by host/cidr/port/conn_state/agent)',
      querystring: SeriesQuery,
      response: {
        200: Type.Object({ interval_s: Type.Integer(), source: Type.String(), truncated: Type.Boolean(), points: Type.Array(Type.Object({ t: Type.String(), t_us: Type.Number(), flows: Type.Number(), bytes: Type.Number(), packets: Type.Number() })) }),
        ...Errors,
      },
    },
  }, async (req) => {
    const q = req.query as Static<typeof SeriesQuery>
    const f = flowFilter(q, Date.now() * 1000, 24 * 3600 * 1_000_000)
    return timeSeries(store, cache, f, q.interval ?? 60, limits.maxScan)
  })
}
