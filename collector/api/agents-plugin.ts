/** `DELETE /api/v1/agents/:id` (admin): revoke an agent and its credential. */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { revokeAgent } from '../enroll/enrollment.js'
import { CollectorError } from '../errors.js'
import type { CollectorStore } from '../storage/index.js'
import type { Logger } from '../util/logger.js'
import { ErrorSchema } from './schemas.js'

const Params = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
const Revoked = Type.Object({ agent_id: Type.String(), revoked_at: Type.String() })

export const agentsPlugin: FastifyPluginAsync<{ store: CollectorStore; log: Logger }> = async (app, { store, log }) => {
  app.delete('/api/v1/agents/:id', {
    onRequest: requireRole(store, ['admin']),
    schema: { params: Params, response: { 200: Revoked, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    const rec = await revokeAgent(store, id, req.principal!.token.id)
    if (rec === undefined) throw new CollectorError('NOT_FOUND', `no agent "${id}"`)
    log.info({ agent: id, by: req.principal!.token.id }, 'agent revoked')
    return { agent_id: id, revoked_at: rec.revokedAt! }
  })
}
