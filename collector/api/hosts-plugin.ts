/** `GET /api/v1/hosts` and `GET /api/v1/hosts/:id` (services, peers, recent alerts). */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError } from '../errors.js'
import { SITE_PATTERN } from '../enroll/site-name.js'
import { parseCidr16 } from '../topology/addresses.js'
import type { HostRecord } from '../topology/types.js'
import type { ApiContext } from './api-context.js'
import { waitForTopology } from './topology-read.js'
import { READ_AGGREGATES } from './roles.js'
import { TimeQuery } from './query-schemas.js'
import { timeRange } from '../query/time-params.js'
import { ErrorSchema } from './schemas.js'

const ListQuery = Type.Object({
  ...TimeQuery,
  cidr: Type.Optional(Type.String({ maxLength: 64, description: 'hosts with an address in this block' })),
  service: Type.Optional(Type.String({ maxLength: 64, description: 'hosts offering this service (name or port/proto, e.g. ssh or 22/tcp)' })),
  name: Type.Optional(Type.String({ maxLength: 255, description: 'substring of a host name' })),
  agent: Type.Optional(Type.String({ maxLength: 64, description: 'hosts seen by this agent' })),
  site: Type.Optional(Type.String({ pattern: SITE_PATTERN, description: 'hosts with a private address scoped to this site (public addresses belong to no site)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'default 100' })),
  cursor: Type.Optional(Type.String({ maxLength: 300, description: 'next_cursor of the previous page' })),
}, { additionalProperties: false })
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, description: 'host id, one of its addresses, or one of its MACs' }) })
const Errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 429: ErrorSchema }

export const hostsPlugin: FastifyPluginAsync<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const { store, topology } = ctx
  app.get('/api/v1/hosts', {
    onRequest: requireRole(store, READ_AGGREGATES),
    preHandler: waitForTopology(ctx),
    schema: { summary: 'Hosts of the merged topology, by id', querystring: ListQuery, response: { 200: Type.Object({ hosts: Type.Array(Type.Any()), total: Type.Integer(), next_cursor: Type.Union([Type.String(), Type.Null()]) }), ...Errors } },
  }, async (req) => {
    const q = req.query as Static<typeof ListQuery>
    const { fromUs, toUs } = timeRange(q, Date.now() * 1000)
    const cidr = q.cidr === undefined ? undefined : parseCidr16(q.cidr)
    if (q.cidr !== undefined && cidr === undefined) throw new CollectorError('BAD_REQUEST', `query parameter "cidr": "${q.cidr}" is not a CIDR block like 10.0.0.0/8`)
    const svc = q.service === undefined ? undefined : /^(\d+)\/(tcp|udp)$/.exec(q.service)
    const after = q.cursor === undefined ? undefined : Buffer.from(q.cursor, 'base64url').toString('utf8')
    const limit = q.limit ?? 100
    const match = (h: HostRecord): boolean => {
      if (h.last_seen_us < fromUs || h.first_seen_us > toUs) return false
      if (cidr !== undefined && !h.ips.some((ip) => cidr.contains(ip))) return false
      if (q.agent !== undefined && !h.agents.includes(q.agent)) return false
      if (q.site !== undefined && h.scope !== q.site && !h.scope.startsWith(`${q.site}/`)) return false
      if (q.name !== undefined && !h.names.some((n) => n.name.toLowerCase().includes(q.name!.toLowerCase()))) return false
      if (q.service !== undefined && !h.services.some((s) => svc ? s.port === Number(svc[1]) && s.proto === svc[2] : s.name.split(',').includes(q.service!))) return false
      return true
    }
    const all = [...topology.model.hosts.values()].filter(match).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const start = after === undefined ? 0 : all.findIndex((h) => h.id > after)
    const page = start < 0 ? [] : all.slice(start, start + limit)
    const next = start >= 0 && start + limit < all.length ? Buffer.from(page[page.length - 1]!.id).toString('base64url') : null
    return { hosts: page, total: all.length, next_cursor: next }
  })

  app.get('/api/v1/hosts/:id', {
    onRequest: requireRole(store, READ_AGGREGATES),
    preHandler: waitForTopology(ctx),
    schema: {
      summary: 'One host with its services, peers (edges either way) and recent alerts',
      params: Params,
      response: { 200: Type.Object({ host: Type.Any(), peers: Type.Array(Type.Any()), alerts: Type.Array(Type.Any()) }), ...Errors },
    },
  }, async (req) => {
    const { id } = req.params as Static<typeof Params>
    const h = topology.model.lookup(id)
    if (h === undefined) throw new CollectorError('NOT_FOUND', `no host "${id}" (give a host id, an address or a MAC; see GET /api/v1/hosts)`)
    const peers = []
    for (const e of topology.model.edges.values()) {
      if (e.src !== h.id && e.dst !== h.id) continue
      const out = e.src === h.id
      peers.push({ peer: out ? e.dst : e.src, direction: out ? 'client' : 'server', proto: e.proto, port: e.port, services: e.services, flows: e.flows, bytes: e.bytes, packets: e.packets, first_seen_us: e.first_seen_us, last_seen_us: e.last_seen_us })
      if (peers.length >= 10_000) break
    }
    peers.sort((a, b) => b.bytes - a.bytes)
    const seen = new Set<unknown>()
    const alerts: unknown[] = []
    for (const ip of h.ips) for (const a of ctx.alertQuery?.({ host: ip, limit: 50 }) ?? []) if (!seen.has(a)) { seen.add(a); alerts.push(a) }
    return { host: h, peers, alerts: alerts.slice(0, 50) }
  })
}
