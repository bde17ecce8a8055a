/**
 * Threat-intel API:
 *   POST   /api/v1/intel/feeds?name=N&format=csv|stix|misp   body = the feed (any content type;
 *          read as bytes up to intel.max_feed_bytes); format detected from the content when absent
 *   GET    /api/v1/intel/feeds                              the loaded feeds and their counts
 *   DELETE /api/v1/intel/feeds/:name                        an API-loaded feed
 *   GET    /api/v1/intel/match?value=V                      what a value matches (address, domain, URL, hash)
 */
import type { FastifyPluginAsync } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { requireRole } from '../auth/authenticate.js'
import { CollectorError } from '../errors.js'
import type { CollectorStore } from '../storage/index.js'
import { ErrorSchema } from '../api/schemas.js'
import { classify } from './classify-value.js'
import type { IntelService } from './intel-service.js'

const PostQuery = Type.Object({
  name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }),
  format: Type.Optional(Type.Union([Type.Literal('csv'), Type.Literal('stix'), Type.Literal('misp')])),
}, { additionalProperties: false })
const Params = Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }) })
const MatchQuery = Type.Object({ value: Type.String({ minLength: 1, maxLength: 4096 }) }, { additionalProperties: false })

export const intelPlugin: FastifyPluginAsync<{ store: CollectorStore; intel: IntelService; maxFeedBytes: number }> = async (app, { store, intel, maxFeedBytes }) => {
  const read = requireRole(store, ['admin', 'analyst', 'viewer'])
  const write = requireRole(store, ['admin', 'analyst'])
  // Feeds arrive as raw bytes whatever their content type (encapsulated: only these routes).
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxFeedBytes }, (_req, body, done) => done(null, body))

  app.post('/api/v1/intel/feeds', { onRequest: write, bodyLimit: maxFeedBytes, schema: { querystring: PostQuery } }, async (req, reply) => {
    const q = req.query as Static<typeof PostQuery>
    const body = req.body
    if (!Buffer.isBuffer(body) || body.length === 0) throw new CollectorError('EMPTY_BODY', 'send the feed as the request body')
    const r = await intel.addFeed(q.name, body, q.format)
    if (!r.ok) throw new CollectorError('INTEL_FEED_INVALID', r.error)
    if (r.info.indicators === 0) {
      await intel.removeFeed(q.name)
      throw new CollectorError('INTEL_FEED_INVALID', `no usable indicator in the feed (${r.info.skipped} entries skipped; format ${r.info.format})`)
    }
    return reply.code(201).send(r.info)
  })

  app.get('/api/v1/intel/feeds', { onRequest: read }, async () => ({ feeds: intel.feedInfos() }))

  app.delete('/api/v1/intel/feeds/:name', { onRequest: write, schema: { params: Params, response: { 404: ErrorSchema } } }, async (req) => {
    const { name } = req.params as Static<typeof Params>
    if (!(await intel.removeFeed(name))) throw new CollectorError('NOT_FOUND', `no API feed "${name}" (file feeds are removed from the configuration)`)
    return { deleted: name }
  })

  app.get('/api/v1/intel/match', { onRequest: read, schema: { querystring: MatchQuery } }, async (req) => {
    const { value } = req.query as Static<typeof MatchQuery>
    const ind = classify(value)
    if (ind === undefined) return { value, match: null }
    const m = ind.kind === 'ip' ? intel.matchIp(ind.value)
      : ind.kind === 'domain' ? intel.matchDomain(ind.value)
        : ind.kind === 'url' ? intel.matchUrl(ind.value)
          : ind.kind === 'ja3' || ind.kind === 'ja4' || ind.kind === 'cert_hash' ? intel.matchHash(ind.kind, ind.value) : undefined
    return { value, kind: ind.kind, match: m ?? null }
  })
}
