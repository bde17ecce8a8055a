/**
 * A refused credential (401, or 403 for a revoked agent) pauses shipping instead of parking
 * every batch: the batches stay in the spool, `replay` stops waiting and says how to enroll
 * again, and after `enroll --force` on the same machine the spooled batches are sealed again
 * under the new identity and delivered. A spool from another machine is still reset.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { encodeBatch, PROTOCOL_VERSION } from '../protocol/index.js'
import { CredentialRefusal } from '../agent/ship/credential-refusal.js'
import { HttpTransport } from '../agent/ship/http-transport.js'
import { isCredentialRefusal } from '../agent/ship/retry-policy.js'
import { RetryingTransport } from '../agent/ship/retrying-transport.js'
import { Batcher } from '../agent/ship/batcher.js'
import { BatchBodyWriter } from '../agent/ship/batch-encoder.js'
import { Shipper } from '../agent/ship/shipper.js'
import { Spool } from '../agent/ship/spool.js'
import type { BatchTransport, SendResult } from '../agent/ship/transport.js'
import { ADMIN, enrollmentToken, startCollector } from './collector-fixtures.js'
import { Trace } from './helpers/flow-fixtures.js'
import { ipv4, IPPROTO_TCP, tcp } from './helpers/packet-builder.js'
import { buildPcap } from './helpers/pcap-writer.js'
import { startFakeCollector } from './helpers/ship-fake-collector.js'
import { decodeSpooled } from './helpers/batch-body.js'
import { makeConn } from './helpers/ship-records.js'
import { runAgentCli } from './helpers/agent-cli.js'

t.test('which refusals are about the credential', async (t) => {
  t.ok(isCredentialRefusal(401, 'COLLECTOR_ERR_UNKNOWN_AGENT'))
  t.ok(isCredentialRefusal(401, undefined), 'a proxy\'s 401')
  t.ok(isCredentialRefusal(403, 'COLLECTOR_ERR_REVOKED_AGENT'))
  t.ok(isCredentialRefusal(403, 'COLLECTOR_ERR_REVOKED_CREDENTIAL'))
  t.ok(isCredentialRefusal(403, undefined), 'a proxy\'s 403')
  t.notOk(isCredentialRefusal(403, 'COLLECTOR_ERR_AGENT_MISMATCH'), 'a batch naming another agent is the batch\'s fault')
  for (const s of [400, 404, 409, 413, 415]) t.notOk(isCredentialRefusal(s, undefined), `${s}`)
})

t.test('http transport: 401/403 are `refused`, a 403 agent mismatch and a 400 are `rejected`', async (t) => {
  const srv = await startFakeCollector()
  t.teardown(() => srv.close())
  const tr = new HttpTransport({ url: srv.url, connections: 1, requestTimeoutMs: 5000, keepAliveTimeoutMs: 4000, authorization: 'Bearer x.y', userAgent: 'telltale-agent/test' })
  tr.start()
  t.teardown(() => tr.stop())
  srv.script.push(
    { status: 403, body: '{"message":"the agent was revoked","code":"COLLECTOR_ERR_REVOKED_AGENT"}' },
    { status: 401, body: '{"message":"unknown agent","code":"COLLECTOR_ERR_UNKNOWN_AGENT"}' },
    { status: 403, body: '{"message":"other agent","code":"COLLECTOR_ERR_AGENT_MISMATCH"}' },
    { status: 400, body: '{"message":"bad","code":"COLLECTOR_ERR_MALFORMED_BATCH"}' },
  )
  const req = { body: gzipSync(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a1', epoch: 1, seq: 1 })), epoch: 1, seq: 1 }
  t.match(await tr.send(req), { kind: 'refused', status: 403, reason: /revoked \(COLLECTOR_ERR_REVOKED_AGENT\)/ })
  t.match(await tr.send(req), { kind: 'refused', status: 401 })
  t.match(await tr.send(req), { kind: 'rejected', status: 403 })
  t.match(await tr.send(req), { kind: 'rejected', status: 400 })
  t.equal(tr.counters.get('transport_credential_refused_total'), 2)
})

t.test('retrying wrapper: a refusal pauses at the longest delay, is recorded, and clears on success', async (t) => {
  const results: SendResult[] = [
    { kind: 'refused', status: 403, reason: 'HTTP 403: revoked' },
    { kind: 'refused', status: 403, reason: 'HTTP 403: revoked' },
    { kind: 'retryable', reason: 'ECONNREFUSED' },
    { kind: 'ok', status: 200, ack: { agentId: 'a', epoch: 1, seq: 1, duplicate: false, serverTimeUs: 0, protocolVersion: 1 } as never },
  ]
  const credential = new CredentialRefusal()
  const seen: (number | undefined)[] = []
  const errors: string[] = []
  const log = { error: (_o: unknown, m: string) => { errors.push(m) }, warn: () => undefined } as never
  let now = 1000
  const r = new RetryingTransport({ send: async () => results.shift()! }, { initialDelayMs: 10, maxDelayMs: 5000, jitter: 0 }, {
    credential, log, now: () => now,
    sleep: async (ms) => { seen.push(credential.current?.status); now += ms; sleeps.push(ms) },
  })
  const sleeps: number[] = []
  const refusedFirst = credential.whenRefused()
  const res = await r.send({ body: new Uint8Array(0), epoch: 1, seq: 1 })
  t.equal(res.kind, 'ok', 'never given up for a refused credential')
  t.same(sleeps, [5000, 5000, 40], 'refusals wait the longest delay; the backoff then goes on from its attempt number')
  t.same(seen, [403, 403, 403], 'the refusal is current while paused')
  t.equal(credential.current, undefined, 'cleared by the ack')
  t.match(await refusedFirst, { status: 403, sinceMs: 1000 })
  t.equal(errors.length, 1, 'logged once a minute, not per attempt')
  t.match(errors[0], /refuses this agent's credential/)
  t.equal(r.counters.get('retry_credential_refused_total'), 2)
})

t.test('shipper: refused batches stay in the spool, nothing is parked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-refused-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const spool = new Spool({ dir, maxBytes: 1 << 24, sync: false, protectHead: 2, gzipLevel: 1, agentId: 'a1', machineIdHash: 'm1' })
  await spool.start()
  t.teardown(() => spool.stop())
  const b = new Batcher({ maxBatchRecords: 1 }, { append: (i) => spool.append(i), addGap: (g) => spool.addGap(g) })
  for (let i = 1; i <= 3; i++) b.addConn(makeConn(i))
  await b.flush()
  const credential = new CredentialRefusal()
  const inner: BatchTransport = { send: async () => ({ kind: 'refused', status: 403, reason: 'HTTP 403: revoked' }) }
  const shipper = new Shipper({ maxInFlight: 2 }, { spool, transport: new RetryingTransport(inner, { maxDelayMs: 5 }, { credential }) })
  shipper.start()
  await credential.whenRefused()
  await new Promise((r) => setTimeout(r, 50))
  await shipper.stop()
  t.equal(spool.batches, 3, 'every batch kept')
  t.equal(spool.parkedBatches, 0, 'none parked')
  t.equal(spool.pendingGapCount, 0, 'no gap: nothing was lost')
})

t.test('spool: a new identity on the same machine re-seals the batches; another machine\'s resets', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-reseal-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let clock = 1_000_000
  const open = async (agentId: string, machineIdHash: string | undefined): Promise<Spool> => {
    const s = new Spool({ dir, maxBytes: 1 << 24, sync: false, protectHead: 1, gzipLevel: 1, agentId, ...(machineIdHash ? { machineIdHash } : {}) }, { now: () => clock })
    await s.start()
    return s
  }
  const s1 = await open('agt_old', 'm1')
  const b = new Batcher({ maxBatchRecords: 2 }, { append: (i) => s1.append(i), addGap: (g) => s1.addGap(g) })
  for (let i = 1; i <= 5; i++) b.addConn(makeConn(i))
  await b.flush()
  await s1.park(1, 'HTTP 400: bad')
  const oldEpoch = s1.epoch
  t.same(s1.seqsAfter(0, 10), [2, 3])
  await s1.stop()

  clock += 5000
  const s2 = await open('agt_new', 'm1')
  t.equal(s2.batches, 2, 'unacknowledged batches kept')
  t.equal(s2.parkedBatches, 0, 'the old identity\'s parked batch is deleted')
  t.not(s2.epoch, oldEpoch, 'a new epoch')
  t.equal(s2.epoch, clock)
  t.equal(s2.counters.get('spool_resealed_batches_total'), 2)
  t.same(s2.seqsAfter(0, 10), [2, 3], 'the same seq numbers')
  for (const seq of [2, 3]) {
    const sb = (await s2.read(seq))!
    const batch = decodeSpooled(sb.body)
    t.equal(batch.agentId, 'agt_new', `batch ${seq} names the new agent`)
    t.equal(Number(batch.epoch), s2.epoch, `batch ${seq} carries the new epoch`)
    t.equal(Number(batch.seq), seq)
    t.ok(batch.flows.length > 0, 'its flows are still there')
  }
  // The pending gap of the parked batch (the old identity's) is still owed and rides along.
  t.ok(s2.pendingGapCount > 0, 'gaps owed are kept')
  const next = await s2.append({ body: new BatchBodyWriter().finish(), contents: new BatchBodyWriter().contents })
  t.equal(next, 4, 'numbering goes on')
  await s2.stop()

  const s3 = await open('agt_clone', 'm2')
  t.equal(s3.batches, 0, 'another machine\'s identity: the spool is reset')
  t.equal(s3.counters.get('spool_resets_total'), 1)
  await s3.stop()
})

t.test('spool: a spool written without a machine id (older version) is reset on a new identity', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-reseal-old-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const s1 = new Spool({ dir, maxBytes: 1 << 24, sync: false, protectHead: 1, gzipLevel: 1, agentId: 'agt_old' })
  await s1.start()
  const b = new Batcher({ maxBatchRecords: 1 }, { append: (i) => s1.append(i), addGap: (g) => s1.addGap(g) })
  b.addConn(makeConn(1))
  await b.flush()
  await s1.stop()
  const s2 = new Spool({ dir, maxBytes: 1 << 24, sync: false, protectHead: 1, gzipLevel: 1, agentId: 'agt_new', machineIdHash: 'm1' })
  await s2.start()
  t.equal(s2.batches, 0)
  t.equal(s2.counters.get('spool_resets_total'), 1)
  await s2.stop()
})

const run = runAgentCli

t.test('revoked agent: replay keeps the flows and says what to do; after enroll --force they arrive once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-revoked-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const machineId = join(dir, 'machine-id')
  writeFileSync(machineId, '0123456789abcdef0123456789abcdef\n')
  const env = { TELLTALE_MACHINE_ID_FILE: machineId, TELLTALE_LOG_LEVEL: 'fatal' }
  const capture = (name: string, clients: string[]): string => {
    const tr = new Trace()
    for (const [i, client] of clients.entries()) {
      const server = '10.40.0.100'
      tr.raw(ipv4({ src: client, dst: server, protocol: IPPROTO_TCP }, tcp({ src: client, dst: server, sport: 41000 + i, dport: 443, seq: 100, ack: 0, flags: 'S' }, Buffer.alloc(0))))
        .raw(ipv4({ src: server, dst: client, protocol: IPPROTO_TCP }, tcp({ src: server, dst: client, sport: 443, dport: 41000 + i, seq: 500, ack: 101, flags: 'SA' }, Buffer.alloc(0))))
    }
    const p = join(dir, name)
    writeFileSync(p, buildPcap(tr.frames))
    return p
  }
  const first = capture('first.pcap', ['10.40.0.1', '10.40.0.2'])
  const second = capture('second.pcap', ['10.40.0.3', '10.40.0.4', '10.40.0.5'])
  const third = capture('third.pcap', ['10.40.0.6'])
  const c = await startCollector()
  t.teardown(() => c.close())
  const url = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const state = join(dir, 'state')
  const token = await enrollmentToken(c)

  const r1 = await run(['replay', first, '--collector', url, '--enroll-token', token, '--state-dir', state], env)
  t.equal(r1.status, 0, r1.stderr)
  const oldId = (JSON.parse(readFileSync(join(state, 'identity.json'), 'utf8')) as { agent_id: string }).agent_id
  const del = await c.app.inject({ method: 'DELETE', url: `/api/v1/agents/${oldId}`, headers: { authorization: `Bearer ${ADMIN}` } })
  t.ok(del.statusCode < 300, `revoked: ${del.statusCode} ${del.body}`)

  const r2 = await run(['replay', second, '--collector', url, '--state-dir', state], env)
  t.equal(r2.status, 1, 'a replay whose credential is refused does not claim success')
  t.match(r2.stderr, /refuses this agent's credential/, r2.stderr)
  t.match(r2.stderr, /batches stay in the spool/, r2.stderr)
  t.match(r2.stderr, /telltale-agent enroll --force --collector/, r2.stderr)
  t.notMatch(r2.stderr, /refused\b.*parked/, 'nothing parked')

  const en = await run(['enroll', '--force', '--collector', url, '--token', token, '--state-dir', state], env)
  t.equal(en.status, 0, en.stderr)
  const newId = (JSON.parse(readFileSync(join(state, 'identity.json'), 'utf8')) as { agent_id: string }).agent_id
  t.not(newId, oldId, 'a revoked agent enrolls as a new agent')

  const r3 = await run(['replay', third, '--collector', url, '--state-dir', state], env)
  t.equal(r3.status, 0, r3.stderr)
  t.match(r3.stdout, /1 flows produced, 4 acknowledged/, r3.stdout)
  t.match(r3.stdout, /include 3 flows/, r3.stdout)

  const flows = (await c.app.inject({ method: 'GET', url: '/api/v1/flows?limit=100', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { flows: Array<{ orig_h: string }> }
  t.same(flows.flows.map((f) => f.orig_h).sort(), ['10.40.0.1', '10.40.0.2', '10.40.0.3', '10.40.0.4', '10.40.0.5', '10.40.0.6'], 'every flow arrived, once')
  const agent = (await c.app.inject({ method: 'GET', url: `/api/v1/agents/${newId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json() as { flows?: number; gap_records?: Record<string, number> }
  t.equal(agent.flows, 4, 'the new identity delivered the spooled flows and its own')
})
