/** `GET/POST /api/v1/tokens`, `DELETE /api/v1/tokens/:id` (admin; every change audited) and `GET /api/v1/audit`. */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { parseDurationSeconds } from '../auth/secrets.js'
import { CollectorError } from '../errors.js'
import { createToken } from '../enroll/enrollment.js'
import type { TokenRecord } from '../storage/index.js'
import type { ApiContext } from './api-context.js'
import { ADMIN_ONLY } from './roles.js'
import { ErrorSchema } from './schemas.js'

const Body = Type.Object({
  role: Type.Union([Type.Literal('admin'), Type.Literal('analyst'), Type.Literal('viewer'), Type.Literal('enroll')], { description: 'agent credentials come from enrollment' }),
  expires_in: Type.Optional(Type.String({ pattern: '^\\d+\\s*[smhd]?$', description: '"45m", "1h", "90d" or seconds; default never (enroll: 24h)' })),
  uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'enroll tokens: how many enrollments' })),
  note: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false })
const Params = Type.Object({ id: Type.String({ pattern: '^tok_[A-Za-z0-9_-]{1,64}$' }) })
const AuditQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'newest first; default 100' })) }, { additionalProperties: false })

const view = (t: TokenRecord): Record<string, unknown> => ({
  id: t.id, role: t.role, agent_id: t.agentId ?? null, created_at: t.createdAt, created_by: t.createdBy, expires_at: t.expiresAt ?? null,
  uses: t.uses, max_uses: t.maxUses ?? null, revoked_at: t.revokedAt ?? null, note: t.note ?? null,
})

export const tokensPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store } = ctx
  const E = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema }
  app.get('/api/v1/tokens', { onRequest: requireRole(store, ADMIN_ONLY), schema: { summary: 'Tokens (never their secrets)', response: { 200: Type.Object({ tokens: Type.Array(Type.Any()) }), ...E } } },
    async () => ({ tokens: (await store.tokens.list()).map(view) }))

  app.post('/api/v1/tokens', {
    onRequest: requireRole(store, ADMIN_ONLY),
    schema: { summary: 'Create a token (the secret is shown once; stored hashed)', body: Body, response: { 201: Type.Object({ id: Type.String(), token: Type.String(), role: Type.String(), expires_at: Type.Union([Type.String(), Type.Null()]) }), ...E } },
  }, async (req, reply) => {
    const b = req.body as Static<typeof Body>
    const ttl = b.expires_in === undefined ? (b.role === 'enroll' ? 24 * 3600 : undefined) : parseDurationSeconds(b.expires_in)
    if (b.expires_in !== undefined && ttl === undefined) throw new CollectorError('BAD_REQUEST', `body parameter "expires_in": "${b.expires_in}" is not a duration like 45m, 1h or 7d (at most 36500d)`)
    if (b.uses !== undefined && b.role !== 'enroll') throw new CollectorError('BAD_REQUEST', 'body parameter "uses": only enroll tokens have a use limit')
    const opts: Parameters<typeof createToken>[1] = { role: b.role, createdBy: req.principal!.token.id }
    if (ttl !== undefined) opts.ttlSeconds = ttl
    if (b.uses !== undefined) opts.maxUses = b.uses
    if (b.note !== undefined) opts.note = b.note
    const { secret, record } = await createToken(store, opts)
    return reply.code(201).send({ id: record.id, token: secret, role: record.role, expires_at: record.expiresAt ?? null })
  })

  app.delete('/api/v1/tokens/:id', {
    onRequest: requireRole(store, ADMIN_ONLY),
    schema: { summary: 'Revoke a token (agent credentials: revoke the agent instead)', params: Params, response: { 200: Type.Object({ id: Type.String(), revoked_at: Type.String() }), ...E } },
  }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    return store.lock.run(`token:${id}`, async () => {
      const t = await store.tokens.getById(id)
      if (t === undefined) throw new CollectorError('NOT_FOUND', `no token "${id}" (see GET /api/v1/tokens)`)
      if (t.rec.role === 'agent') throw new CollectorError('BAD_REQUEST', `path parameter "id": ${id} is an agent credential; revoke the agent with DELETE /api/v1/agents/${t.rec.agentId ?? ''}`)
      if (t.rec.id === req.principal!.token.id) throw new CollectorError('BAD_REQUEST', 'path parameter "id": a token cannot revoke itself (use another admin token)')
      const at = t.rec.revokedAt ?? new Date().toISOString()
      const rec = { ...t.rec, revokedAt: at }
      await store.commit([...store.tokens.putOps(t.hash, rec), ...store.audit.appendOps({ at, actor: req.principal!.token.id, action: 'token.revoke', target: id, details: { role: rec.role } })])
      store.tokens.remember(t.hash, rec)
      return { id, revoked_at: at }
    })
  })

  app.get('/api/v1/audit', {
    onRequest: requireRole(store, ADMIN_ONLY),
    schema: { summary: 'Audit log of admin actions, newest first', querystring: AuditQuery, response: { 200: Type.Object({ entries: Type.Array(Type.Any()) }), ...E } },
  }, async (req) => ({ entries: await store.audit.list((req.query as Static<typeof AuditQuery>).limit ?? 100) }))
}
