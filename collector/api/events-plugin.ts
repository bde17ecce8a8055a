/** `GET /api/v1/events`: normalised log events with filters, cursor pages or NDJSON export. */
import { cursorPage } from './cursor-pages.js'
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { queryEvents, type EventFilter } from '../query/event-query.js'
import { decodeCursor, timeRange } from '../query/time-params.js'
import type { ApiContext } from './api-context.js'
import { READ_RECORDS } from './roles.js'
import { PageQuery, TimeQuery } from './query-schemas.js'
import { ErrorSchema } from './schemas.js'

const S = (d: string) => Type.Optional(Type.String({ maxLength: 255, description: d }))
const Query = Type.Object({
  ...TimeQuery, ...PageQuery,
  dataset: S('event.dataset (e.g. sshd, nginx.access)'), category: S('one of event.category'), action: S('event.action'), outcome: S('event.outcome (success, failure)'),
  source_ip: S('source.ip'), destination_ip: S('destination.ip'), user: S('user.name'), host_name: S('host.name'), agent: S('agent id that shipped the event'),
  q: S('case-insensitive substring of the message'),
}, { additionalProperties: false })

export const eventsPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, limits } = ctx
  app.get('/api/v1/events', {
    onRequest: requireRole(store, READ_RECORDS),
    schema: { summary: 'Normalised log events', querystring: Query, response: { 200: Type.Object({ events: Type.Array(Type.Any()), next_cursor: Type.Union([Type.String(), Type.Null()]) }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 429: ErrorSchema } },
  }, async (req, reply) => {
    const q = req.query as Static<typeof Query>
    const f: EventFilter = timeRange(q, Date.now() * 1000)
    const map: Array<[keyof typeof q, keyof EventFilter]> = [['dataset', 'dataset'], ['category', 'category'], ['action', 'action'], ['outcome', 'outcome'], ['source_ip', 'sourceIp'], ['destination_ip', 'destinationIp'], ['user', 'user'], ['host_name', 'hostName'], ['agent', 'agent'], ['q', 'q']]
    for (const [a, b] of map) if (q[a] !== undefined) (f as unknown as Record<string, unknown>)[b] = q[a]
    const after = decodeCursor(q.cursor)
    return cursorPage(req, reply, limits, q.limit, 'events', () => queryEvents(store, f, after), (h) => h.event)
  })
}
