/**
 * Policy API:
 *   GET /api/v1/policy           the configured policy (mode, zones, allowed edges)
 *   GET /api/v1/policy/proposal  learn mode: the allow rules observed traffic needs, as YAML
 *                                and as a diff against the configured rules (for review; the
 *                                operator edits the configuration and switches to enforce)
 */
import type { FastifyPluginAsync } from 'fastify'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError } from '../errors.js'
import type { CollectorStore } from '../storage/index.js'
import type { PolicyConfig } from './policy-config.js'
import type { PolicyDetector } from './policy-detector.js'
import { policyProposal } from './policy-proposal.js'

export const policyPlugin: FastifyPluginAsync<{ store: CollectorStore; policy: PolicyConfig; detector: () => PolicyDetector | undefined }> = async (app, { store, policy, detector }) => {
  const read = requireRole(store, ['admin', 'analyst', 'viewer'])
  app.get('/api/v1/policy', { onRequest: read }, async () => policy)
  app.get('/api/v1/policy/proposal', { onRequest: read }, async () => {
    const d = detector()
    if (d === undefined || policy.mode !== 'learn') throw new CollectorError('POLICY_OFF', `policy.mode is ${policy.mode}; a proposal is made in learn mode`)
    const edges = d.learnedEdges()
    return { mode: policy.mode, edges: edges.length, ...policyProposal(policy.allowed, edges) }
  })
}
