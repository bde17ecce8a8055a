/** TypeBox schemas shared by the query routes. */
import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import { CollectorError } from '../errors.js'

export const TimeQuery = {
  from: Type.Optional(Type.String({ maxLength: 40, description: 'start: ISO 8601, epoch seconds, or relative (-15m, -2h, -7d)' })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'end (same forms as from); default now' })),
}

export const Proto = Type.Union([Type.Literal('tcp'), Type.Literal('udp'), Type.Literal('icmp'), Type.Literal('other')])

export const FlowFilterQuery = {
  ...TimeQuery,
  host: Type.Optional(Type.String({ maxLength: 64, description: 'an IP address (either end)' })),
  cidr: Type.Optional(Type.String({ maxLength: 64, description: 'a CIDR block (either end), e.g. 10.0.0.0/8' })),
  port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'responder port' })),
  proto: Type.Optional(Proto),
  service: Type.Optional(Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_.-]+$', description: 'a detected service (http, ssl, dns, …)' })),
  conn_state: Type.Optional(Type.String({ maxLength: 8, description: 'Zeek conn_state: S0, SF, REJ, …' })),
  agent: Type.Optional(Type.String({ maxLength: 64, description: 'agent id that reported the flow' })),
  community_id: Type.Optional(Type.String({ maxLength: 64, pattern: '^1:[A-Za-z0-9+/=]+$', description: 'Community ID v1 ("1:…")' })),
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'records per page (JSON: at most 1000; NDJSON export: at most the configured export limit)' })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
}

/**
 * Unknown query parameters are refused, naming the parameter (fastify's validator would
 * silently drop them, and a typo like ?serivce=ssh would then return everything).
 */
export function rejectUnknownQuery(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    const schema = req.routeOptions.schema?.querystring as { properties?: Record<string, unknown> } | undefined
    const q = req.query as Record<string, unknown> | undefined
    if (q === undefined || q === null) return
    const known = schema?.properties ?? {}
    for (const k of Object.keys(q)) {
      if (!(k in known)) {
        const names = Object.keys(known)
        throw new CollectorError('BAD_REQUEST', `query parameter "${k}" is not known here${names.length > 0 ? ` (known: ${names.join(', ')})` : ''}`)
      }
    }
  })
}
