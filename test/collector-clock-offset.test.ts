/**
 * The agent's clock offset: agents send their clock in the x-telltale-sent-at-us header at
 * send time (a spooled batch's sent_at is its sealing time); the collector records the
 * offset per agent (GET /api/v1/agents, telltale_agent_clock_offset_seconds) and logs an
 * agent more than a minute off once an hour. A missing or bad header changes nothing. The
 * agent compares its clock with each ack's server time and logs the same once an hour.
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { buildApp } from '../collector/app.js'
import { sentAtHeaderUs } from '../collector/api/ingest-plugin.js'
import { loadConfig } from '../collector/config/load-config.js'
import type { CollectorConfig } from '../collector/config/config-schema.js'
import { HttpTransport } from '../agent/ship/http-transport.js'
import { RetryingTransport } from '../agent/ship/retrying-transport.js'
import type { SendResult } from '../agent/ship/transport.js'
import { encodeBatch, PROTOCOL_VERSION, SENT_AT_HEADER } from '../protocol/index.js'
import { gzipSync } from 'node:zlib'
import { ADMIN, batch, enrollAgent, flow, gz, post, startCollector } from './collector-fixtures.js'
import { KEEP_OLD_RECORDS_FLAGS } from './helpers/keep-old-records.js'
import { startFakeCollector } from './helpers/ship-fake-collector.js'

t.test('header parsing: digits within 2^53 only', async (t) => {
  t.equal(sentAtHeaderUs('1700000000000000'), 1_700_000_000_000_000)
  t.equal(sentAtHeaderUs(['1700000000000000', '5']), 1_700_000_000_000_000)
  for (const bad of [undefined, '', '0', '-5', '1.5', '17e14', ' 17', '99999999999999999', '9007199254740993']) t.equal(sentAtHeaderUs(bad), undefined, String(bad))
})

t.test('the collector records each agent\'s clock offset and logs a large one once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-clock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>); cb() } })
  const cfg = loadConfig({ env: {}, flags: { data_dir: dir, 'storage.sync': false, ...KEEP_OLD_RECORDS_FLAGS } })
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems))
  const c = buildApp({ config: cfg.config as CollectorConfig, log: pino({ level: 'info' }, sink), adminToken: ADMIN })
  await c.app.ready()
  t.teardown(() => c.app.close())
  const ahead = await enrollAgent(c, 1, 'nonce-aaaaaaaaaaaaaaaa')
  const fine = await enrollAgent(c, 2, 'nonce-bbbbbbbbbbbbbbbb')
  const old = await enrollAgent(c, 3, 'nonce-cccccccccccccccc')
  const hourUs = 3_600_000_000
  for (let seq = 1; seq <= 3; seq++) {
    const r = await post(c, ahead.secret, gz(batch(ahead.agentId, seq, 2)), { 'content-encoding': 'gzip', [SENT_AT_HEADER]: String(Date.now() * 1000 + 2 * hourUs) })
    t.equal(r.statusCode, 200, r.body)
  }
  t.equal((await post(c, fine.secret, gz(batch(fine.agentId, 1, 2)), { 'content-encoding': 'gzip', [SENT_AT_HEADER]: String(Date.now() * 1000) })).statusCode, 200)
  t.equal((await post(c, old.secret, gz(batch(old.agentId, 1, 2)), { 'content-encoding': 'gzip' })).statusCode, 200, 'no header (an older agent): accepted')
  t.equal((await post(c, old.secret, gz(batch(old.agentId, 2, 2)), { 'content-encoding': 'gzip', [SENT_AT_HEADER]: 'yesterday' })).statusCode, 200, 'a bad header: ignored')
  const auth = { authorization: `Bearer ${ADMIN}` }
  const agent = async (id: string): Promise<{ clock_offset_ms: number | null }> => (await c.app.inject({ method: 'GET', url: `/api/v1/agents/${id}`, headers: auth })).json() as { clock_offset_ms: number | null }
  const off = (await agent(ahead.agentId)).clock_offset_ms!
  t.ok(Math.abs(off - 7_200_000) < 5_000, `two hours ahead: ${off} ms`)
  t.ok(Math.abs((await agent(fine.agentId)).clock_offset_ms!) < 5_000, 'in sync')
  t.equal((await agent(old.agentId)).clock_offset_ms, null, 'unknown without the header')
  const warned = lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('clock is'))
  t.equal(warned.length, 1, 'logged once, not per batch')
  t.match(warned[0]?.msg, new RegExp(`agent ${ahead.agentId}'s clock is 7200 s ahead of the collector's`))
  const metrics = (await c.app.inject({ method: 'GET', url: '/metrics', headers: auth })).body
  t.match(metrics, new RegExp(`telltale_agent_clock_offset_seconds\\{agent="${ahead.agentId}"\\} 7[12]\\d\\d`))
  t.notMatch(metrics, new RegExp(`telltale_agent_clock_offset_seconds\\{agent="${old.agentId}"\\}`))
  t.match(metrics, /telltale_ingest_total\{counter="ingest_bad_sent_at_header_total"\} 1\n/, 'the malformed header is counted')
})

t.test('the agent sends its clock with every request', async (t) => {
  const srv = await startFakeCollector()
  t.teardown(() => srv.close())
  const tr = new HttpTransport({ url: srv.url, connections: 1, requestTimeoutMs: 5000, keepAliveTimeoutMs: 4000, authorization: 'Bearer x.y', userAgent: 'telltale-agent/test' })
  tr.start()
  t.teardown(() => tr.stop())
  const before = Date.now() * 1000
  const body = gzipSync(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a1', epoch: 1, seq: 1 }))
  t.equal((await tr.send({ body, epoch: 1, seq: 1 })).kind, 'ok')
  const sent = srv.headers[0]?.[SENT_AT_HEADER] as string | undefined
  const us = Number(sent)
  t.ok(us >= before && us <= Date.now() * 1000, `sent at ${sent}`)
})

t.test('the agent compares its clock with the ack and logs more than a minute off once an hour', async (t) => {
  const warns: string[] = []
  const log = { warn: (_o: unknown, m: string) => { warns.push(m) }, error: () => undefined } as never
  let now = 10_000_000
  let serverUs = now * 1000
  const ok = (): SendResult => ({ kind: 'ok', status: 200, ack: { agentId: 'a', epoch: 1, seq: 1, duplicate: false, serverTimeUs: serverUs, protocolVersion: 1 } as never })
  const r = new RetryingTransport({ send: async () => ok() }, {}, { log, now: () => now })
  const req = { body: new Uint8Array(0), epoch: 1, seq: 1 }
  await r.send(req)
  t.equal(r.clockOffsetMs, 0)
  t.equal(warns.length, 0, 'in sync: silent')
  serverUs = (now - 90_000) * 1000
  await r.send(req)
  t.equal(r.clockOffsetMs, 90_000)
  t.equal(warns.length, 1)
  t.match(warns[0], /this machine's clock is 90 s ahead of the collector's/)
  now += 60_000
  serverUs = (now - 90_000) * 1000
  await r.send(req)
  t.equal(warns.length, 1, 'not again within the hour')
  now += 3_600_000
  serverUs = (now + 3_600_000) * 1000
  await r.send(req)
  t.equal(warns.length, 2)
  t.match(warns[1], /3600 s behind the collector's/)
})

t.test('an agent clock running ahead does not pin hosts and edges in the future; the flow keeps its own time', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 4, 'nonce-dddddddddddddddd')
  const yearUs = 365 * 24 * 3_600_000_000
  const futureUs = Date.now() * 1000 + yearUs
  const before = Date.now() * 1000
  const r = await post(c, a.secret, gz(batch(a.agentId, 1, 0, { flows: [flow(1, futureUs)], hostObservations: [{ tsUs: futureUs, ip: Buffer.from([10, 9, 9, 9]), name: 'printer.example', nameSource: 1 }] })), { 'content-encoding': 'gzip' })
  t.equal(r.statusCode, 200, r.body)
  await c.api.topology.settle()
  const auth = { authorization: `Bearer ${ADMIN}` }
  const limit = Date.now() * 1000 + 5 * 60 * 1_000_000
  const hosts = (await c.app.inject({ method: 'GET', url: '/api/v1/hosts?limit=100', headers: auth })).json() as { hosts: Array<{ ips: string[]; first_seen_us: number; last_seen_us: number }> }
  t.equal(hosts.hosts.length, 3, 'both ends of the flow and the named host')
  for (const h of hosts.hosts) {
    t.ok(h.last_seen_us <= limit && h.last_seen_us >= before, `${h.ips[0]}: last seen ${h.last_seen_us} held to the receive time (+5 min), not a year ahead`)
    t.ok(h.first_seen_us <= limit, `${h.ips[0]}: first seen held too`)
  }
  const topo = (await c.app.inject({ method: 'GET', url: '/api/v1/topology', headers: auth })).json() as { edges: Array<{ last_seen_us?: number; last_seen?: string }> }
  t.equal(topo.edges.length, 1)
  const edgeLast = topo.edges[0]!.last_seen_us ?? Date.parse(topo.edges[0]!.last_seen ?? '') * 1000
  t.ok(edgeLast <= limit, `edge last seen ${edgeLast} held too`)
  const flows = (await c.app.inject({ method: 'GET', url: `/api/v1/flows?from=${new Date(futureUs / 1000 - 60_000).toISOString()}&to=${new Date(futureUs / 1000 + 60_000).toISOString()}`, headers: auth })).json() as { flows: Array<{ ts_us?: number; ts?: string }> }
  t.equal(flows.flows.length, 1, 'the stored flow keeps the time the agent stamped')
})
