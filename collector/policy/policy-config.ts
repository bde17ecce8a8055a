/**
 * The `policy` section: segmentation policy as code. Zones are named sets of CIDRs and/or
 * VLAN ids; `allowed` lists the permitted edges zone → zone with ports ('tcp/443',
 * 'udp/53', 'icmp', 'any') and/or service names. `mode`: off, learn (record traffic and
 * propose the policy as a reviewable diff: GET /api/v1/policy/proposal) or enforce (alert
 * `policy_violation` on every new disallowed edge).
 */
import { Type, type Static } from '@sinclair/typebox'

export const PolicyConfigSchema = Type.Object({
  mode: Type.Union([Type.Literal('off'), Type.Literal('learn'), Type.Literal('enforce')], { default: 'off' }),
  zones: Type.Array(Type.Object({
    name: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
    cidrs: Type.Array(Type.String(), { default: [] }),
    vlans: Type.Array(Type.Integer({ minimum: 0, maximum: 4095 }), { default: [] }),
  }, { additionalProperties: false }), { default: [] }),
  allowed: Type.Array(Type.Object({
    from: Type.String(),
    to: Type.String(),
    ports: Type.Array(Type.String({ pattern: '^(any|icmp|(tcp|udp)/(\\d{1,5}|\\d{1,5}-\\d{1,5}|any))$' }), { default: [] }),
    services: Type.Array(Type.String(), { default: [] }),
    comment: Type.Optional(Type.String()),
  }, { additionalProperties: false }), { default: [] }),
  default_zone: Type.String({ default: 'external', description: 'zone of addresses no zone lists' }),
  allow_intra_zone: Type.Boolean({ default: true }),
  max_learned_edges: Type.Integer({ minimum: 10, default: 100_000 }),
}, { additionalProperties: false, default: {} })

export type PolicyConfig = Static<typeof PolicyConfigSchema>
export type PolicyRule = PolicyConfig['allowed'][number]
