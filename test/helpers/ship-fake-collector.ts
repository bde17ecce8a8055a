/**
 * Test helper: a minimal in-process ingest endpoint (node:http) for the shipping unit
 * tests. It gunzips and decodes each Batch (flows from `flow_chunks` too), remembers it by
 * (epoch, seq) and answers with an Ack; `script` can make it answer with other statuses
 * first; `readsVersion` 1 makes it refuse version-2 batches as a collector of an earlier
 * build does.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { Ack, Batch, batchFlows, INGEST_PATH, PROTOCOL_VERSION } from '../../protocol/index.js'

export interface FakeReply { status: number; headers?: Record<string, string>; body?: string }

export interface FakeCollector {
  url: string
  batches: Map<string, Batch>
  requests: Array<{ seq: number; status: number; version: number; auth: string | undefined; encoding: string | undefined; type: string | undefined }>
  /** The request headers of every ingest request, in order. */
  headers: IncomingHttpHeaders[]
  /** Replies used (in order) before the normal ack behaviour. */
  script: FakeReply[]
  /** Delay before answering, ms (per request). */
  delayMs: number
  /** The newest protocol version it reads (and names in acks): PROTOCOL_VERSION unless set. */
  readsVersion: number
  close(): Promise<void>
}

export async function startFakeCollector(): Promise<FakeCollector> {
  const fc: FakeCollector = {
    url: '', batches: new Map(), requests: [], headers: [], script: [], delayMs: 0, readsVersion: PROTOCOL_VERSION,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    if (req.url !== INGEST_PATH || req.method !== 'POST') { res.statusCode = 404; res.end(); return }
    fc.headers.push(req.headers)
    let batch: Batch
    try {
      batch = Batch.decode(gunzipSync(Buffer.concat(chunks)))
      batch.flows = batchFlows(batch)
    } catch {
      res.statusCode = 400
      res.end('{"message":"bad batch"}')
      return
    }
    if (fc.delayMs > 0) await new Promise((r) => setTimeout(r, fc.delayMs))
    const scripted = fc.script.shift()
    const status = scripted?.status ?? 200
    fc.requests.push({ seq: batch.seq, status, version: batch.protocolVersion, auth: req.headers.authorization, encoding: req.headers['content-encoding'], type: req.headers['content-type'] })
    if (scripted) {
      res.writeHead(scripted.status, scripted.headers ?? {})
      res.end(scripted.body ?? '')
      return
    }
    if (batch.protocolVersion > fc.readsVersion) {
      fc.requests[fc.requests.length - 1]!.status = 400
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ code: 'COLLECTOR_ERR_PROTOCOL_VERSION', message: `the batch uses telltale protocol version ${batch.protocolVersion}; this collector speaks version ${fc.readsVersion}` }))
      return
    }
    const k = `${batch.epoch}/${batch.seq}`
    const duplicate = fc.batches.has(k)
    if (!duplicate) fc.batches.set(k, batch)
    res.writeHead(200, { 'content-type': 'application/x-protobuf' })
    res.end(Buffer.from(Ack.encode({ agentId: batch.agentId, epoch: batch.epoch, seq: batch.seq, duplicate, serverTimeUs: Date.now() * 1000, protocolVersion: fc.readsVersion }).finish()))
  }
  const server: Server = createServer((req, res) => { void handle(req, res) })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  fc.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return fc
}
