/**
 * Retry policy (which statuses retry, Retry-After honoured and capped, jitter bounded), the
 * retrying wrapper, the HTTP transport against a local server (headers, ack check, status
 * classification), and the shipper end to end against that server: order kept with several
 * batches in flight, retries through 503/429, a 400 parks the batch and becomes a gap; a
 * collector that reads protocol version 1 only gets every batch converted, none parked.
 */
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GapReason, PROTOCOL_VERSION } from '../protocol/index.js'
import { HttpTransport } from '../agent/ship/http-transport.js'
import { isRetryableStatus, parseRetryAfter, RETRY_DEFAULTS, retryDelayMs } from '../agent/ship/retry-policy.js'
import { RetryingTransport } from '../agent/ship/retrying-transport.js'
import { Batcher } from '../agent/ship/batcher.js'
import { Shipper } from '../agent/ship/shipper.js'
import { Spool } from '../agent/ship/spool.js'
import { VersionFallbackTransport } from '../agent/ship/version-fallback-transport.js'
import type { BatchTransport, SendResult } from '../agent/ship/transport.js'
import { startFakeCollector } from './helpers/ship-fake-collector.js'
import { makeConn } from './helpers/ship-records.js'

t.test('retryable statuses', async (t) => {
  for (const s of [408, 429, 500, 502, 503, 504, 599]) t.ok(isRetryableStatus(s), `${s} retried`)
  for (const s of [200, 301, 400, 401, 403, 404, 409, 413, 415, 422, 499, 600]) t.notOk(isRetryableStatus(s), `${s} not retried`)
})

t.test('Retry-After: seconds, HTTP date, garbage', async (t) => {
  const now = Date.parse('2025-01-01T00:00:00Z')
  t.equal(parseRetryAfter('7', now), 7000)
  t.equal(parseRetryAfter(' 0 ', now), 0)
  t.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now), 30_000)
  t.equal(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now), 0, 'a past date means now')
  t.equal(parseRetryAfter('-5', now), undefined)
  t.equal(parseRetryAfter('1.5', now), undefined)
  t.equal(parseRetryAfter('soon', now), undefined)
  t.equal(parseRetryAfter(undefined, now), undefined)
  t.equal(retryDelayMs(RETRY_DEFAULTS, 1, 0.5, 7000), 7000, 'Retry-After replaces the backoff')
  t.equal(retryDelayMs(RETRY_DEFAULTS, 1, 0.5, 10 ** 9), RETRY_DEFAULTS.maxRetryAfterMs, 'and is capped')
})

t.test('backoff: exponential, capped, jitter within [base(1-j), base]', async (t) => {
  const cfg = { ...RETRY_DEFAULTS, initialDelayMs: 100, multiplier: 2, maxDelayMs: 5000, jitter: 0.5 }
  t.equal(retryDelayMs(cfg, 1, 0.999999), 100 * 0.5 + 100 * 0.5 * 0.999999)
  t.equal(retryDelayMs({ ...cfg, jitter: 0 }, 4, 0.3), 800)
  t.equal(retryDelayMs({ ...cfg, jitter: 0 }, 30, 0.3), 5000, 'cap')
  fc.assert(fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, rand, jitter) => {
    const c = { ...cfg, jitter }
    const base = Math.min(c.maxDelayMs, c.initialDelayMs * 2 ** (attempt - 1))
    const d = retryDelayMs(c, attempt, rand)
    return d >= base * (1 - jitter) - 1e-9 && d <= base + 1e-9
  }))
})

t.test('retrying wrapper: retries only retryable results, stops on abort', async (t) => {
  const results: SendResult[] = [
    { kind: 'retryable', reason: 'ECONNREFUSED' },
    { kind: 'retryable', status: 503, reason: 'HTTP 503', retryAfterMs: 1234 },
    { kind: 'rejected', status: 400, reason: 'HTTP 400' },
  ]
  const inner: BatchTransport = { send: async () => results.shift()! }
  const sleeps: number[] = []
  const r = new RetryingTransport(inner, { initialDelayMs: 10, jitter: 0 }, { sleep: async (ms) => { sleeps.push(ms) } })
  const res = await r.send({ body: new Uint8Array(0), epoch: 1, seq: 1 })
  t.equal(res.kind, 'rejected')
  t.same(sleeps, [10, 1234], 'backoff, then the Retry-After')
  t.equal(r.counters.get('retry_attempts_total'), 3)
  const ac = new AbortController()
  const forever = new RetryingTransport({ send: async () => ({ kind: 'retryable', reason: 'down' }) }, { initialDelayMs: 5 })
  setTimeout(() => ac.abort(), 50)
  const res2 = await forever.send({ body: new Uint8Array(0), epoch: 1, seq: 1 }, ac.signal)
  t.equal(res2.kind, 'retryable', 'returns when aborted')
})

t.test('http transport against a local server', async (t) => {
  const srv = await startFakeCollector()
  t.teardown(() => srv.close())
  const tr = new HttpTransport({ url: srv.url, connections: 2, requestTimeoutMs: 5000, keepAliveTimeoutMs: 4000, authorization: 'Bearer x.y', userAgent: 'telltale-agent/test' })
  tr.start()
  t.teardown(() => tr.stop())
  const dir = mkdtempSync(join(tmpdir(), 'telltale-tr-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const spool = new Spool({ dir, maxBytes: 1 << 24, sync: false, protectHead: 4, gzipLevel: 6, agentId: 'a1' })
  await spool.start()
  t.teardown(() => spool.stop())
  const b = new Batcher({ maxBatchRecords: 1 }, { append: (i) => spool.append(i), addGap: (g) => spool.addGap(g) })
  b.addConn(makeConn(1))
  b.addConn(makeConn(2))
  await b.flush()
  const b1 = (await spool.read(1))!
  const ok = await tr.send({ body: b1.body, epoch: b1.epoch, seq: 1 })
  t.equal(ok.kind, 'ok')
  t.same(srv.requests[0], { seq: 1, status: 200, version: PROTOCOL_VERSION, auth: 'Bearer x.y', encoding: 'gzip', type: 'application/x-protobuf' })
  const wrongSeq = await tr.send({ body: b1.body, epoch: b1.epoch, seq: 2 })
  t.equal(wrongSeq.kind, 'retryable', 'an ack for another batch is not an ack')
  srv.script.push({ status: 503, headers: { 'retry-after': '3' } }, { status: 429 }, { status: 401, body: '{"message":"unknown agent","code":"COLLECTOR_ERR_UNKNOWN_AGENT"}' })
  const r503 = await tr.send({ body: b1.body, epoch: b1.epoch, seq: 1 })
  t.match(r503, { kind: 'retryable', status: 503, retryAfterMs: 3000 })
  t.match(await tr.send({ body: b1.body, epoch: b1.epoch, seq: 1 }), { kind: 'retryable', status: 429 })
  t.match(await tr.send({ body: b1.body, epoch: b1.epoch, seq: 1 }), { kind: 'refused', status: 401, reason: /unknown agent \(COLLECTOR_ERR_UNKNOWN_AGENT\)/ })
  const closed = new HttpTransport({ url: 'http://127.0.0.1:1', connections: 1, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000, authorization: '', userAgent: 'x' })
  closed.start()
  t.match(await closed.send({ body: b1.body, epoch: 1, seq: 1 }), { kind: 'retryable', reason: /ECONNREFUSED/ })
  await closed.stop()
})

t.test('shipper: order with several in flight, retries, parking', async (t) => {
  const srv = await startFakeCollector()
  t.teardown(() => srv.close())
  const dir = mkdtempSync(join(tmpdir(), 'telltale-sh-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const spool = new Spool({ dir, maxBytes: 1 << 24, sync: false, protectHead: 4, gzipLevel: 6, agentId: 'a1' })
  await spool.start()
  const http = new HttpTransport({ url: srv.url, connections: 4, requestTimeoutMs: 5000, keepAliveTimeoutMs: 4000, authorization: 'Bearer a', userAgent: 'x' })
  http.start()
  const shipper = new Shipper({ maxInFlight: 4 }, { spool, transport: new RetryingTransport(http, { initialDelayMs: 5, maxDelayMs: 20 }) })
  const b = new Batcher({ maxBatchRecords: 10 }, { append: (i) => spool.append(i), addGap: (g) => spool.addGap(g) })
  // Batch 1: 503 then ok; batch 2: 400 (parked); the rest ok.
  srv.script.push({ status: 503 }, { status: 400, body: '{"message":"malformed"}' })
  srv.delayMs = 5
  shipper.start()
  for (let i = 1; i <= 200; i++) b.addConn(makeConn(i))
  await b.flush()
  await shipper.whenIdle()
  // The rejected batch left a gap; one more batch carries it.
  b.heartbeat()
  await b.flush()
  await shipper.whenIdle()
  await shipper.stop()
  await http.stop()
  const stored = [...srv.batches.values()].sort((a, b) => a.seq - b.seq)
  const flows = stored.reduce((n, x) => n + x.flows.length, 0)
  const gap = stored.flatMap((x) => x.gaps)
  t.equal(shipper.counters.get('shipper_batches_parked_total'), 1)
  t.equal(gap.length, 1)
  t.equal(gap[0]!.reason, GapReason.GAP_REASON_REJECTED)
  t.equal(flows + Number(gap[0]!.count), 200, 'stored + rejected gap = produced')
  t.equal(spool.batches, 0)
  t.equal(spool.parkedBatches, 1)
  // Acks handled in order: the shipper's acked count never skips ahead (spool deletes from the head).
  t.equal(shipper.counters.get('shipper_flows_acked_total'), flows)
  await spool.stop()
})

t.test('a collector that reads version 1 only: batches converted, none parked; back to version 2 after its upgrade', async (t) => {
  const srv = await startFakeCollector()
  t.teardown(() => srv.close())
  srv.readsVersion = 1
  const dir = mkdtempSync(join(tmpdir(), 'telltale-v1-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const spool = new Spool({ dir, maxBytes: 1 << 24, sync: false, protectHead: 4, gzipLevel: 6, agentId: 'a1' })
  await spool.start()
  t.teardown(() => spool.stop())
  const http = new HttpTransport({ url: srv.url, connections: 2, requestTimeoutMs: 5000, keepAliveTimeoutMs: 4000, authorization: 'Bearer a', userAgent: 'x' })
  http.start()
  t.teardown(() => http.stop())
  const versions = new VersionFallbackTransport(new RetryingTransport(http, { initialDelayMs: 5, maxDelayMs: 20 }), { gzipLevel: 6 })
  const shipper = new Shipper({ maxInFlight: 1 }, { spool, transport: versions })
  const b = new Batcher({ maxBatchRecords: 300 }, { append: (i) => spool.append(i), addGap: (g) => spool.addGap(g) })
  shipper.start()
  t.teardown(() => shipper.stop())
  for (let i = 1; i <= 900; i++) b.addConn(makeConn(i))
  await b.flush()
  await shipper.whenIdle()
  t.same(srv.requests.map((r) => [r.seq, r.version, r.status]), [[1, 2, 400], [1, 1, 200], [2, 1, 200], [3, 1, 200]], 'one refusal, then version 1 from the start')
  t.equal(versions.sendingVersion, 1)
  const got = [...srv.batches.values()].sort((x, y) => x.seq - y.seq)
  t.same(got.flatMap((x) => x.flows.map((f) => f.uid)), Array.from({ length: 900 }, (_, i) => `C${i + 1}`), 'every flow, in order')
  t.same(got.map((x) => x.flowChunks.length), [0, 0, 0], 'no chunks reach the old collector')
  t.equal(shipper.counters.get('shipper_batches_parked_total'), 0)
  t.equal(versions.counters.get('version_fallback_converted_total'), 3)
  // The collector is upgraded: the next ack names version 2, and sending goes back to version 2.
  srv.readsVersion = PROTOCOL_VERSION
  for (let i = 901; i <= 1500; i++) b.addConn(makeConn(i))
  await b.flush()
  await shipper.whenIdle()
  t.same(srv.requests.slice(4).map((r) => [r.seq, r.version, r.status]), [[4, 1, 200], [5, PROTOCOL_VERSION, 200]])
  t.same([...srv.batches.values()].sort((x, y) => x.seq - y.seq).flatMap((x) => x.flows.map((f) => f.uid)), Array.from({ length: 1500 }, (_, i) => `C${i + 1}`))
  t.equal(versions.sendingVersion, PROTOCOL_VERSION)
})
