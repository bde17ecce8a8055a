/** `POST /api/v1/enrollment-tokens` (admin): a new enrollment token with expiry and use limit. */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { parseDurationSeconds } from '../auth/secrets.js'
import { CollectorError } from '../errors.js'
import { createToken } from '../enroll/enrollment.js'
import { SITE_PATTERN, siteNameProblem } from '../enroll/site-name.js'
import type { CollectorStore } from '../storage/index.js'
import { ErrorSchema } from './schemas.js'

const Body = Type.Object({
  expires_in: Type.Optional(Type.String({ pattern: '^\\d+\\s*[smhd]?$', description: 'lifetime: "45m", "1h", "7d" or seconds; default 24h' })),
  uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'how many agents may enroll with it; default unlimited' })),
  note: Type.Optional(Type.String({ maxLength: 200 })),
  site: Type.Optional(Type.String({ pattern: SITE_PATTERN, description: 'the site of every agent enrolled with it: their private addresses are told apart from other sites\' in the topology' })),
}, { additionalProperties: false })

const Created = Type.Object({
  id: Type.String(),
  token: Type.String({ description: 'the secret: shown once, stored hashed' }),
  role: Type.Literal('enroll'),
  expires_at: Type.String(),
  uses: Type.Union([Type.Integer(), Type.Null()]),
  site: Type.Union([Type.String(), Type.Null()]),
})

export const DEFAULT_ENROLL_TTL_S = 24 * 3600

export const enrollmentTokensPlugin: FastifyPluginAsync<{ store: CollectorStore }> = async (app, { store }) => {
  app.post('/api/v1/enrollment-tokens', {
    onRequest: requireRole(store, ['admin']),
    schema: { body: Type.Optional(Body), response: { 201: Created, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema } },
  }, async (req, reply) => {
    const body = (req.body ?? {}) as Static<typeof Body>
    const ttl = body.expires_in === undefined ? DEFAULT_ENROLL_TTL_S : parseDurationSeconds(body.expires_in)
    if (ttl === undefined) throw new CollectorError('BAD_REQUEST', `body parameter "expires_in": "${body.expires_in}" is not a duration like 45m, 1h or 7d (at most 36500d)`)
    const opts: Parameters<typeof createToken>[1] = { role: 'enroll', createdBy: req.principal!.token.id, ttlSeconds: ttl }
    if (body.uses !== undefined) opts.maxUses = body.uses
    if (body.note !== undefined) opts.note = body.note
    if (body.site !== undefined) {
      const problem = siteNameProblem(body.site)
      if (problem !== undefined) throw new CollectorError('BAD_REQUEST', `body parameter "site": ${problem}`)
      opts.site = body.site
    }
    const { secret, record } = await createToken(store, opts)
    return reply.code(201).send({ id: record.id, token: secret, role: 'enroll' as const, expires_at: record.expiresAt!, uses: record.maxUses ?? null, site: record.site ?? null })
  })
}
