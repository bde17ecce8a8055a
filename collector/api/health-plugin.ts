/** `/healthz` (the process answers) and `/readyz` (the store is open and its last write worked: ingest accepted). */
import type { FastifyPluginAsync } from 'fastify'
import { Type } from '@sinclair/typebox'
import { CollectorError, errorBody } from '../errors.js'
import type { CollectorStore } from '../storage/index.js'
import { ErrorSchema } from './schemas.js'

const Ok = Type.Object({ status: Type.String() })

export const healthPlugin: FastifyPluginAsync<{ store: CollectorStore }> = async (app, { store }) => {
  app.get('/healthz', { schema: { response: { 200: Ok } } }, async () => ({ status: 'ok' }))
  app.get('/readyz', { schema: { response: { 200: Ok, 503: ErrorSchema } } }, async (_req, reply) => {
    if (!store.isOpen) return reply.code(503).send(errorBody(new CollectorError('NOT_READY')))
    const f = store.writeFailure
    if (f !== undefined) {
      const since = new Date(f.atMs).toISOString()
      return reply.code(503).send(errorBody(new CollectorError('NOT_READY', f.full
        ? `the collector's disk is full (a store write failed at ${since}); ingest answers 507 until a write works again`
        : `a store write failed at ${since} (${f.message.slice(0, 200)}); ingest answers 503 until a write works again`)))
    }
    return { status: 'ready' }
  })
}
