/**
 * Alert API:
 *   GET    /api/v1/alerts?type&severity&status&host&since&until&limit   (viewer+)
 *   GET    /api/v1/alerts/:id                                           (viewer+)
 *   PATCH  /api/v1/alerts/:id  { status?, assignee?, comment? }          (analyst+)
 *   GET    /api/v1/alert-suppressions                                   (viewer+)
 *   POST   /api/v1/alert-suppressions { type?, src?, dst?, port?, comment, expires_at } (analyst+)
 *   DELETE /api/v1/alert-suppressions/:id                               (analyst+)
 * `since`/`until`: ISO 8601 or Unix seconds; they select alerts whose evidence period overlaps.
 */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { ALERT_TYPES, SEVERITIES } from '../detection/detection-types.js'
import { CollectorError } from '../errors.js'
import type { CollectorStore } from '../storage/index.js'
import { ErrorSchema } from '../api/schemas.js'
import type { AlertManager } from './alert-manager.js'
import { ALERT_STATUSES, type AlertStatus, type SuppressionRule } from './alert-types.js'

const lit = (xs: readonly string[]) => Type.Union(xs.map((x) => Type.Literal(x)))

const Query = Type.Object({
  type: Type.Optional(lit(ALERT_TYPES)),
  severity: Type.Optional(lit(SEVERITIES)),
  status: Type.Optional(lit(ALERT_STATUSES)),
  host: Type.Optional(Type.String({ maxLength: 256 })),
  since: Type.Optional(Type.String({ maxLength: 64 })),
  until: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
}, { additionalProperties: false })

const Params = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })

const Patch = Type.Object({
  status: Type.Optional(lit(ALERT_STATUSES)),
  assignee: Type.Optional(Type.String({ maxLength: 256 })),
  comment: Type.Optional(Type.String({ maxLength: 4096 })),
}, { additionalProperties: false, minProperties: 1 })

const Suppression = Type.Object({
  type: Type.Optional(lit(ALERT_TYPES)),
  src: Type.Optional(Type.String({ maxLength: 256 })),
  dst: Type.Optional(Type.String({ maxLength: 256 })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  comment: Type.String({ minLength: 1, maxLength: 4096 }),
  expires_at: Type.String({ format: 'date-time' }),
}, { additionalProperties: false })

/** ISO 8601 or Unix seconds → µs; throws BAD_REQUEST. */
export function parseTimeParam(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v)
  if (!Number.isFinite(n)) throw new CollectorError('BAD_REQUEST', `${name} must be ISO 8601 or Unix seconds`)
  return Math.round(n * 1000)
}

export const alertsPlugin: FastifyPluginAsync<{ store: CollectorStore; alerts: AlertManager }> = async (app, { store, alerts }) => {
  const read = requireRole(store, ['admin', 'analyst', 'viewer'])
  const write = requireRole(store, ['admin', 'analyst'])

  app.get('/api/v1/alerts', { onRequest: read, schema: { querystring: Query, response: { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema } } }, async (req) => {
    const q = req.query as Static<typeof Query>
    const sinceUs = parseTimeParam('since', q.since)
    const untilUs = parseTimeParam('until', q.until)
    const list = alerts.query({
      ...(q.type !== undefined ? { type: q.type } : {}), ...(q.severity !== undefined ? { severity: q.severity } : {}),
      ...(q.status !== undefined ? { status: q.status } : {}), ...(q.host !== undefined ? { host: q.host } : {}),
      ...(sinceUs !== undefined ? { sinceUs } : {}), ...(untilUs !== undefined ? { untilUs } : {}), limit: q.limit ?? 100,
    })
    return { alerts: list, count: list.length }
  })

  app.get('/api/v1/alerts/:id', { onRequest: read, schema: { params: Params, response: { 404: ErrorSchema } } }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    const a = alerts.get(id)
    if (a === undefined) throw new CollectorError('NOT_FOUND', `no alert "${id}"`)
    return a
  })

  app.patch('/api/v1/alerts/:id', { onRequest: write, schema: { params: Params, body: Patch, response: { 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema } } }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    const p = req.body as Static<typeof Patch>
    return alerts.patch(id, p as { status?: AlertStatus; assignee?: string; comment?: string }, req.principal!.token.id)
  })

  app.get('/api/v1/alert-suppressions', { onRequest: read }, async () => ({ suppressions: await alerts.suppressions() }))

  app.post('/api/v1/alert-suppressions', { onRequest: write, schema: { body: Suppression } }, async (req, reply) => {
    const b = req.body as Static<typeof Suppression>
    if (Date.parse(b.expires_at) <= Date.now()) throw new CollectorError('BAD_REQUEST', 'expires_at is in the past')
    if (b.type === undefined && b.src === undefined && b.dst === undefined && b.port === undefined) {
      throw new CollectorError('BAD_REQUEST', 'a suppression needs at least one of type, src, dst, port')
    }
    const rule = await alerts.addSuppression({ ...(b as Omit<SuppressionRule, 'id' | 'created_at' | 'created_by'>), created_by: req.principal!.token.id })
    return reply.code(201).send(rule)
  })

  app.delete('/api/v1/alert-suppressions/:id', { onRequest: write, schema: { params: Params, response: { 404: ErrorSchema } } }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    if (!(await alerts.deleteSuppression(id))) throw new CollectorError('NOT_FOUND', `no suppression "${id}"`)
    return { deleted: id }
  })
}
