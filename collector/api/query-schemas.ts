/** TypeBox schemas shared by the query routes. */
import { Type } from '@sinclair/typebox'

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
