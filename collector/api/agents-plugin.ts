/**
 * `DELETE /api/v1/agents/:id` (admin): revoke an agent and its credential.
 * `PUT /api/v1/agents/:id/site` (admin): move an agent to a site, or to none (site-name.ts).
 */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { revokeAgent, setAgentSite } from '../enroll/enrollment.js'
import { SITE_PATTERN, siteNameProblem } from '../enroll/site-name.js'
import { CollectorError } from '../errors.js'
import type { CollectorStore } from '../storage/index.js'
import type { Logger } from '../util/logger.js'
import { ErrorSchema } from './schemas.js'

const Params = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
const Revoked = Type.Object({ agent_id: Type.String(), revoked_at: Type.String() })
const SiteBody = Type.Object({
  site: Type.Union([Type.String({ pattern: SITE_PATTERN, description: 'the site; its private addresses are told apart from other sites\' in the topology' }), Type.Null()]),
}, { additionalProperties: false })
const Sited = Type.Object({ agent_id: Type.String(), site: Type.Union([Type.String(), Type.Null()]) })

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
  app.put('/api/v1/agents/:id/site', {
    onRequest: requireRole(store, ['admin']),
    schema: { params: Params, body: SiteBody, response: { 200: Sited, 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    const { site } = req.body as Static<typeof SiteBody>
    const problem = site === null ? undefined : siteNameProblem(site)
    if (problem !== undefined) throw new CollectorError('BAD_REQUEST', `body parameter "site": ${problem}`)
    const rec = await setAgentSite(store, id, site, req.principal!.token.id)
    if (rec === undefined) throw new CollectorError('NOT_FOUND', `no agent "${id}"`)
    log.info({ agent: id, site, by: req.principal!.token.id }, 'agent site set')
    return { agent_id: id, site: rec.site ?? null }
  })
}
