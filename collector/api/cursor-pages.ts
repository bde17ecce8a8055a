/**
 * The two answers of a cursor-paged record collection (/flows, /events, /app-records):
 * with `Accept: application/x-ndjson` the rows stream as NDJSON, at most `limits.maxExport`
 * (or `limit` when smaller), then a last line `{"next_cursor": …}`; otherwise one JSON page
 * of `limit` rows (default 100, at most `limits.maxPage`) under `key`, with `next_cursor`.
 */
import { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { CollectorError } from '../errors.js'
import { encodeCursor, type Cursor } from '../query/time-params.js'

export interface PageLimits { maxPage: number; maxExport: number }

export async function cursorPage<H extends { cursor: Cursor }>(
  req: FastifyRequest, reply: FastifyReply, limits: PageLimits, limit: number | undefined, key: string,
  hits: () => AsyncIterable<H>, row: (h: H) => unknown,
): Promise<FastifyReply | Record<string, unknown>> {
  if ((req.headers.accept ?? '').includes('application/x-ndjson')) {
    const max = Math.min(limit ?? limits.maxExport, limits.maxExport)
    async function* lines(): AsyncGenerator<string> {
      let n = 0
      for await (const h of hits()) {
        yield `${JSON.stringify(row(h))}\n`
        if (++n >= max) { yield `${JSON.stringify({ next_cursor: encodeCursor(h.cursor) })}\n`; return }
      }
    }
    return reply.type('application/x-ndjson').send(Readable.from(lines()))
  }
  const n = limit ?? 100
  if (n > limits.maxPage) throw new CollectorError('BAD_REQUEST', `query parameter "limit": at most ${limits.maxPage} as JSON; use Accept: application/x-ndjson for larger exports`)
  const rows: unknown[] = []
  let next: string | null = null
  for await (const h of hits()) {
    rows.push(row(h))
    if (rows.length >= n) { next = encodeCursor(h.cursor); break }
  }
  return { [key]: rows, next_cursor: next }
}
