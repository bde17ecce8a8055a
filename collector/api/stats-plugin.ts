/** `GET /api/v1/stats`: counts of flows, hosts, edges, events, app records, alerts, agents. */
import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import type { ApiContext } from './api-context.js'
import { waitForTopology } from './topology-read.js'
import { READ_AGGREGATES } from './roles.js'
import { ErrorSchema } from './schemas.js'

const Stats = Type.Object({
  flows: Type.Integer({ description: 'flow records stored (every agent\'s record)' }),
  hosts: Type.Integer(), edges: Type.Integer(),
  events: Type.Integer({ description: 'log events received (agent totals)' }),
  app_records: Type.Integer({ description: 'application-log rows received (agent totals)' }),
  alerts: Type.Integer({ description: 'alerts held (any status)' }),
  agents: Type.Integer({ description: 'enrolled, not revoked' }),
  unique_flows: Type.Integer({ description: 'flows counted in the topology (cross-agent duplicates once)' }),
  store_bytes: Type.Integer({ description: 'LevelDB\'s estimate of the store size on disk' }),
})

export const statsPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, topology } = ctx
  let cached: { at: number; flows: number } | undefined
  app.get('/api/v1/stats', {
    onRequest: requireRole(store, READ_AGGREGATES),
    preHandler: waitForTopology(ctx),
    schema: { summary: 'Counts', response: { 200: Stats, 401: ErrorSchema, 403: ErrorSchema } },
  }, async () => {
    if (cached === undefined || Date.now() - cached.at > 2000) cached = { at: Date.now(), flows: await store.flows.storedFlowCount() }
    const agents = await store.agents.list()
    const m = topology.model
    return {
      flows: cached.flows, hosts: m.hosts.size, edges: m.edges.size,
      events: agents.reduce((s, a) => s + a.events, 0), app_records: agents.reduce((s, a) => s + a.appRecords, 0), alerts: ctx.alertCount?.() ?? 0,
      agents: agents.filter((a) => a.revokedAt === undefined).length,
      unique_flows: m.counters.flows, store_bytes: await store.flows.approximateBytes(),
    }
  })
}
