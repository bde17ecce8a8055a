/**
 * `GET /api/v1/app-records`: the agents' application-log rows (Zeek dns, http, ssl, x509,
 * ssh, dhcp, ftp, …) with filters, cursor pages or NDJSON export, as /api/v1/events.
 */
import { cursorPage } from './cursor-pages.js'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError } from '../errors.js'
import { queryAppRecords, type AppRecordFilter } from '../query/app-record-query.js'
import { decodeCursor, timeRange } from '../query/time-params.js'
import { ip16OfText } from '../topology/addresses.js'
import type { ApiContext } from './api-context.js'
import { READ_RECORDS } from './roles.js'
import { PageQuery, TimeQuery } from './query-schemas.js'
import { ErrorSchema } from './schemas.js'

const Query = Type.Object({
  ...TimeQuery, ...PageQuery,
  log: Type.Optional(Type.String({ maxLength: 64, description: 'Zeek log: dns, http, ssl, x509, ssh, dhcp, ftp, …' })),
  uid: Type.Optional(Type.String({ maxLength: 64, description: 'Zeek connection uid (the flow\'s uid)' })),
  host: Type.Optional(Type.String({ maxLength: 64, description: 'an IP address that is id.orig_h or id.resp_h (any text form of it)' })),
  resp_p: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'id.resp_p' })),
  agent: Type.Optional(Type.String({ maxLength: 64, description: 'agent id that shipped the row' })),
  q: Type.Optional(Type.String({ maxLength: 255, description: 'case-insensitive substring of the row\'s Zeek JSON' })),
}, { additionalProperties: false })

const Row = Type.Object({
  _log: Type.String({ description: 'the Zeek log the row belongs to' }),
  _agent: Type.String({ description: 'agent id that shipped the row' }),
  _invalid_json: Type.Optional(Type.String({ description: 'only when the agent sent a row that is not a JSON object: its text (no Zeek fields then)' })),
}, { additionalProperties: true, description: 'the row\'s Zeek JSON object (Zeek field names, times in epoch seconds) plus _log and _agent' })

export function appRecordFilter(q: Static<typeof Query>, nowUs: number): AppRecordFilter {
  const f: AppRecordFilter = timeRange(q, nowUs)
  if (q.log !== undefined) f.log = q.log
  if (q.uid !== undefined) f.uid = q.uid
  if (q.host !== undefined) {
    const h = ip16OfText(q.host)
    if (h === undefined) throw new CollectorError('BAD_REQUEST', `query parameter "host": "${q.host}" is not an IP address`)
    f.host16 = h
  }
  if (q.resp_p !== undefined) f.respP = q.resp_p
  if (q.agent !== undefined) f.agent = q.agent
  if (q.q !== undefined) f.q = q.q
  return f
}

export const appRecordsPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, limits } = ctx
  app.get('/api/v1/app-records', {
    onRequest: requireRole(store, READ_RECORDS),
    schema: {
      summary: 'Application-log rows (Zeek dns, http, ssl, …) as Zeek JSON objects',
      querystring: Query,
      response: { 200: Type.Object({ app_records: Type.Array(Row), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema },
    },
  }, async (req, reply) => {
    const q = req.query as Static<typeof Query>
    const f = appRecordFilter(q, Date.now() * 1000)
    const after = decodeCursor(q.cursor)
    return cursorPage(req, reply, limits, q.limit, 'app_records', () => queryAppRecords(store, f, after), (h) => h.record)
  })
}
