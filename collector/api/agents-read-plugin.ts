/** `GET /api/v1/agents` and `GET /api/v1/agents/:id` (health: heartbeat, drops, backlog, lag, inventory). */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { AgentStats, Inventory } from '../../protocol/index.js'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError } from '../errors.js'
import type { AgentRecord } from '../storage/index.js'
import type { ApiContext } from './api-context.js'
import { READ_AGGREGATES } from './roles.js'
import { SITE_PATTERN } from '../enroll/site-name.js'
import { ErrorSchema } from './schemas.js'

const Params = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) })
const ListQuery = Type.Object({
  site: Type.Optional(Type.String({ pattern: SITE_PATTERN, description: 'agents of this site' })),
}, { additionalProperties: false })

export async function agentSummary(ctx: ApiContext, a: AgentRecord, now = Date.now()): Promise<Record<string, unknown>> {
  const statsBuf = await ctx.store.agents.latestStats(a.id)
  const st = statsBuf === undefined ? undefined : AgentStats.decode(statsBuf)
  const last = a.lastSeenAt === undefined ? undefined : Date.parse(a.lastSeenAt)
  let drops = 0
  for (const c of st?.capture ?? []) drops += (c.dropped ?? 0) + (c.ifDropped ?? 0)
  return {
    id: a.id, hostname: a.hostname ?? null, site: a.site ?? null, version: st?.version || a.version || null, enrolled_at: a.enrolledAt,
    last_heartbeat: a.lastSeenAt ?? null, clock_offset_ms: a.clockOffsetMs ?? null, online: a.revokedAt === undefined && last !== undefined && now - last <= ctx.limits.onlineAfterMs,
    revoked_at: a.revokedAt ?? null, batches: a.batches, flows: a.flows, events: a.events, observations: a.observations, app_records: a.appRecords,
    gap_records: { flows: a.gapRecords.flows, events: a.gapRecords.events, observations: a.gapRecords.observations, app_records: a.gapRecords.appRecords }, capture_drops: drops,
    capture: (st?.capture ?? []).map((c) => ({ iface: c.iface, received: c.received, dropped: c.dropped, if_dropped: c.ifDropped })),
    spool_backlog: st === undefined ? null : { bytes: st.spoolBytes, batches: st.spoolBatches, oldest_age_ms: st.spoolOldestAgeMs },
    log_lag: st === undefined ? null : { bytes: st.logLagBytes, ms: st.logLagMs },
    uptime_s: st?.uptimeS ?? null,
  }
}

export const agentsReadPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store } = ctx
  app.get('/api/v1/agents', {
    onRequest: requireRole(store, READ_AGGREGATES),
    schema: { summary: 'Enrolled agents and their health', querystring: ListQuery, response: { 200: Type.Object({ agents: Type.Array(Type.Any()) }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema } },
  }, async (req) => {
    const { site } = req.query as Static<typeof ListQuery>
    const agents = (await store.agents.list()).filter((a) => site === undefined || a.site === site)
    return { agents: await Promise.all(agents.map((a) => agentSummary(ctx, a))) }
  })
  app.get('/api/v1/agents/:id', {
    onRequest: requireRole(store, READ_AGGREGATES),
    schema: { summary: 'One agent: health, latest stats and inventory', params: Params, response: { 200: Type.Any(), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema } },
  }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    const a = await store.agents.get(id)
    if (a === undefined) throw new CollectorError('NOT_FOUND', `no agent "${id}" (see GET /api/v1/agents)`)
    const inv = await store.agents.latestInventory(id)
    const st = await store.agents.latestStats(id)
    return {
      ...(await agentSummary(ctx, a)),
      stats: st === undefined ? null : AgentStats.toObject(AgentStats.decode(st), { longs: Number }),
      inventory: inv === undefined ? null : Inventory.toObject(Inventory.decode(inv), { longs: Number }),
    }
  })
}
