/** The `alerts` section: retention bound, evidence caps and webhooks. */
import { Type, type Static } from '@sinclair/typebox'

export const AlertsConfigSchema = Type.Object({
  max_alerts: Type.Integer({ minimum: 100, default: 100_000, description: 'alerts kept; past it the oldest resolved (then oldest) are deleted and counted' }),
  max_evidence: Type.Integer({ minimum: 1, default: 50, description: 'flow uids / event ids kept per alert' }),
  webhooks: Type.Array(Type.Object({
    url: Type.String({ pattern: '^https?://' }),
    secret: Type.String({ minLength: 16, description: 'HMAC-SHA256 key for the X-Telltale-Signature header' }),
    min_severity: Type.Union(['low', 'medium', 'high', 'critical'].map((s) => Type.Literal(s)), { default: 'low' }),
    events: Type.Array(Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('status')]), { default: ['created', 'status'] }),
  }, { additionalProperties: false }), { default: [] }),
  webhook_queue: Type.Integer({ minimum: 1, default: 1000, description: 'deliveries waiting; when full the newest is dropped and counted' }),
  webhook_attempts: Type.Integer({ minimum: 1, maximum: 20, default: 5 }),
  webhook_timeout_ms: Type.Integer({ minimum: 100, default: 10_000 }),
  webhook_retry_initial_ms: Type.Integer({ minimum: 1, default: 500 }),
}, { additionalProperties: false, default: {} })

export type AlertsConfig = Static<typeof AlertsConfigSchema>
