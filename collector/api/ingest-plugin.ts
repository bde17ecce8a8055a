/**
 * `POST /api/v1/ingest`: an agent's Batch (protobuf, gzip or identity) → Ack (protobuf).
 * Credential and content type are checked in onRequest, before a byte of the body is read;
 * the body is then read with both size limits (body-reader.ts) and handed to IngestService.
 * Refusals are counted per code and logged at most once per agent (or address) and code
 * per minute.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Readable } from 'node:stream'
import { INGEST_PATH, PROTOBUF_CONTENT_TYPE, SENT_AT_HEADER } from '../../protocol/index.js'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError, errorBody } from '../errors.js'
import { bodyEncoding, readBody, type BodyLimits } from '../ingest/body-reader.js'
import type { IngestService } from '../ingest/ingest-service.js'
import type { CollectorStore } from '../storage/index.js'
import type { Logger } from '../util/logger.js'
import { RateLimitedLog } from '../util/rate-limited-log.js'

export interface IngestPluginOptions {
  store: CollectorStore
  service: IngestService
  limits: BodyLimits
  log: Logger
}

/** The agent's send time from its header (µs), or undefined when absent or not a plausible time (older agents send none). */
export function sentAtHeaderUs(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v
  if (s === undefined || !/^\d{1,16}$/.test(s)) return undefined
  const us = Number(s)
  return us > 0 && us <= Number.MAX_SAFE_INTEGER ? us : undefined
}

/** Seconds agents are asked to wait after a failed store write. */
const STORAGE_RETRY_AFTER_S = 30

export const ingestPlugin: FastifyPluginAsync<IngestPluginOptions> = async (app, { store, service, limits, log }) => {
  const rejectLog = new RateLimitedLog(60_000)
  const reject = (req: FastifyRequest, err: CollectorError): void => {
    service.countRejection(err)
    const who = req.principal?.agent?.id ?? `addr:${req.ip}`
    rejectLog.hit(`${who}\u0000${err.code}`, (suppressed) => {
      log.warn({ agent: req.principal?.agent?.id, remote: req.ip, code: err.code, status: err.statusCode, suppressed }, `ingest refused: ${err.message}`)
    })
  }
  // The store could not write (disk full, I/O error): agents retry 5xx; ask them to wait a while.
  const send = (reply: FastifyReply, err: CollectorError): FastifyReply => {
    if (err.code === 'COLLECTOR_ERR_STORAGE_FULL' || err.code === 'COLLECTOR_ERR_STORAGE_ERROR') void reply.header('retry-after', String(STORAGE_RETRY_AFTER_S))
    return reply.code(err.statusCode).send(errorBody(err))
  }

  // The body stream is handed over as is; the handler reads it with limits.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', (_req, payload, done) => { done(null, payload) })

  const auth = requireRole(store, ['agent'], reject)
  app.post(INGEST_PATH, {
    onRequest: async (req, reply) => {
      const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
      if (ct !== PROTOBUF_CONTENT_TYPE) {
        const err = new CollectorError('UNSUPPORTED_MEDIA_TYPE', `Content-Type "${req.headers['content-type'] ?? ''}" is not accepted; send ${PROTOBUF_CONTENT_TYPE}`)
        reject(req, err)
        return send(reply, err)
      }
      await auth(req, reply)
      return reply.sent ? reply : undefined
    },
  }, async (req, reply) => {
    const agent = req.principal?.agent
    if (agent === undefined) return send(reply, new CollectorError('UNKNOWN_AGENT'))
    try {
      const enc = bodyEncoding(req.headers['content-encoding'])
      if (enc instanceof CollectorError) throw enc
      const cl = req.headers['content-length']
      const stream = req.body as Readable | undefined
      if (stream === undefined || stream === null) throw new CollectorError('EMPTY_BODY')
      const body = await readBody(stream, cl === undefined ? undefined : Number(cl), enc, limits)
      const sentAtHeader = req.headers[SENT_AT_HEADER]
      const sentAtUs = sentAtHeaderUs(sentAtHeader)
      // A malformed clock header does not refuse the batch (it is advisory): counted, ignored.
      if (sentAtHeader !== undefined && sentAtUs === undefined) service.counters.inc('ingest_bad_sent_at_header_total')
      const result = await service.ingest(agent, body, Date.now(), sentAtUs)
      return reply.code(200).header('content-type', PROTOBUF_CONTENT_TYPE).send(Buffer.from(result.ack))
    } catch (err) {
      if (err instanceof CollectorError) {
        reject(req, err)
        return send(reply, err)
      }
      throw err
    }
  })
}
