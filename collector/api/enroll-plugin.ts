/** `POST /api/v1/enroll`: enrollment token + machine-id hash + nonce → agent id and secret. */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { enroll } from '../enroll/enrollment.js'
import type { CollectorStore } from '../storage/index.js'
import type { Logger } from '../util/logger.js'
import { CollectorError } from '../errors.js'
import { ErrorSchema } from './schemas.js'

const Body = Type.Object({
  enrollment_token: Type.String({ minLength: 1, maxLength: 512 }),
  machine_id_hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'hex SHA-256 of the machine id (/etc/machine-id), hashed by the agent' }),
  nonce: Type.String({ minLength: 16, maxLength: 256, description: 'random, generated once by the agent and kept with its identity' }),
  hostname: Type.Optional(Type.String({ maxLength: 255 })),
  version: Type.Optional(Type.String({ maxLength: 64 })),
}, { additionalProperties: false })

const Enrolled = Type.Object({
  agent_id: Type.String(),
  secret: Type.String({ description: 'the agent credential: send as "Authorization: Bearer <secret>"; shown once' }),
  reenrolled: Type.Boolean({ description: 'the same machine and nonce enrolled before: same id, new secret' }),
})

export const enrollPlugin: FastifyPluginAsync<{ store: CollectorStore; log: Logger }> = async (app, { store, log }) => {
  app.post('/api/v1/enroll', {
    bodyLimit: 16 * 1024,
    schema: { body: Body, response: { 200: Enrolled, 400: ErrorSchema, 401: ErrorSchema, 409: ErrorSchema } },
  }, async (req) => {
    const b = req.body as Static<typeof Body>
    const r: Parameters<typeof enroll>[1] = { enrollmentToken: b.enrollment_token, machineIdHash: b.machine_id_hash, nonce: b.nonce, remoteAddress: req.ip }
    if (b.hostname !== undefined) r.hostname = b.hostname
    if (b.version !== undefined) r.version = b.version
    try {
      const res = await enroll(store, r)
      log.info({ agent: res.agentId, hostname: b.hostname, reenrolled: res.reenrolled }, res.reenrolled ? 'agent re-enrolled' : 'agent enrolled')
      return { agent_id: res.agentId, secret: res.secret, reenrolled: res.reenrolled }
    } catch (err) {
      if (err instanceof CollectorError && err.errorName === 'ENROLL_CLONE') log.warn({ hostname: b.hostname, remote: req.ip }, err.message)
      throw err
    }
  })
}
