/**
 * End to end with real processes: `telltale-agent replay --collector` ships a generated
 * capture of 100 000 flows to a `telltale-collector serve` that is kill -9'ed and restarted
 * at random moments (≥ 10 times); afterwards the collector holds exactly the flows a local
 * replay of the same capture produces — none missing, none twice. Then: the collector down
 * for the whole replay and started later (everything arrives), and a spool too small for
 * the outage (the gap records account exactly for what was dropped).
 */
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateCapture } from '../bench/generate-capture.js'
import { replayFiles } from '../agent/cli/commands/replay.js'
import { CollectorProcess, flowKey, prng, readStored, runAgent } from './helpers/ship-e2e.js'

const FLOWS = 100_000
const dir = mkdtempSync(join(tmpdir(), 'telltale-e2e-ship-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const capture = join(dir, 'capture.pcap')
const gen = generateCapture(capture, { flows: FLOWS, seed: 5 })
let expected: Map<string, number>
let expectedCount = 0
const basePort = 18_300 + (process.pid % 500) * 3

t.before(async () => {
  expected = new Map()
  await replayFiles([capture], { quiet: true, ignoreChecksums: true }, { onConn: (r) => { expectedCount++; const k = flowKey(r); expected.set(k, (expected.get(k) ?? 0) + 1) } })
})

function compare(t: { equal: (a: unknown, b: unknown, m: string) => unknown }, flows: ReturnType<typeof flowKey>[], what: string): void {
  const got = new Map<string, number>()
  for (const k of flows) got.set(k, (got.get(k) ?? 0) + 1)
  let missing = 0
  let extra = 0
  for (const [k, n] of expected) { const g = got.get(k) ?? 0; if (g < n) missing += n - g }
  for (const [k, n] of got) { const e = expected.get(k) ?? 0; if (n > e) extra += n - e }
  t.equal(missing, 0, `${what}: no flow missing`)
  t.equal(extra, 0, `${what}: no flow twice or unknown`)
}

const shipEnv = { TELLTALE_SHIP_MAX_BATCH_RECORDS: '100', TELLTALE_SHIP_RETRY_INITIAL_MS: '20', TELLTALE_SHIP_RETRY_MAX_MS: '300' }

t.test('kill -9 of the collector at random points, ≥ 10 times: exactly once', async (t) => {
  t.ok(gen.flows >= 100_000, `capture holds ${gen.flows} flows`)
  t.equal(expectedCount, gen.flows, 'the local replay produces one record per generated flow')
  const coll = new CollectorProcess(join(dir, 'kill-collector'), basePort)
  await coll.start()
  t.teardown(() => coll.kill9())
  const token = await coll.enrollToken()
  const stateDir = join(dir, 'kill-agent')
  const enroll = runAgent(['enroll', '--collector', coll.url, '--token', token, '--state-dir', stateDir], {})
  await enroll.done
  t.equal(enroll.code, 0, enroll.stderr)
  const agent = runAgent(['replay', capture, '-C', '--collector', coll.url, '--state-dir', stateDir], shipEnv)
  t.teardown(() => { agent.child.kill('SIGKILL') })
  const rand = prng(42)
  let kills = 0
  const deadline = Date.now() + 240_000
  while (agent.code === null && kills < 15 && Date.now() < deadline) {
    await Promise.race([new Promise((r) => setTimeout(r, 80 + rand() * 500)), agent.done])
    if (agent.code !== null) break
    await coll.kill9()
    kills++
    await new Promise((r) => setTimeout(r, rand() * 300))
    await coll.start()
  }
  // The collector stays up from here: the agent delivers the rest (bounded apart from the kill
  // phase, so a slow, loaded machine is not taken for lost data).
  await Promise.race([agent.done, new Promise((r) => setTimeout(r, 300_000))])
  t.equal(agent.code, 0, `agent exit 0 (${agent.stderr.slice(-500)})`)
  t.ok(kills >= 10, `collector killed ${kills} times while the agent shipped`)
  t.match(agent.stdout, new RegExp(`${gen.flows} flows produced, ${gen.flows} acknowledged`))
  await coll.stop()
  const agentId = /as (agt_\S+):/.exec(agent.stdout)?.[1] ?? ''
  const stored = await readStored(coll.dataDir, agentId)
  t.equal(stored.flows.length, gen.flows, 'the collector holds as many flows as were produced')
  t.equal(new Set(stored.flows.map((f) => f.uid)).size, stored.flows.length, 'no uid twice')
  compare(t, stored.flows.map(flowKey), 'after kills')
  t.equal(stored.gapFlows, 0, 'nothing was dropped')
})

t.test('collector down during the whole replay, started later: everything arrives', async (t) => {
  const coll = new CollectorProcess(join(dir, 'down-collector'), basePort + 1)
  await coll.start()
  const token = await coll.enrollToken()
  const stateDir = join(dir, 'down-agent')
  const enroll = runAgent(['enroll', '--collector', coll.url, '--token', token, '--state-dir', stateDir], {})
  await enroll.done
  t.equal(enroll.code, 0, enroll.stderr)
  await coll.stop()
  const agent = runAgent(['replay', capture, '-C', '--collector', coll.url, '--state-dir', stateDir], shipEnv)
  t.teardown(() => { agent.child.kill('SIGKILL') })
  await Promise.race([agent.done, new Promise((r) => setTimeout(r, 8000))])
  t.equal(agent.code, null, 'the agent waits while the collector is down')
  await coll.start()
  t.teardown(() => coll.kill9())
  await Promise.race([agent.done, new Promise((r) => setTimeout(r, 180_000))])
  t.equal(agent.code, 0, agent.stderr.slice(-500))
  await coll.stop()
  const agentId = /as (agt_\S+):/.exec(agent.stdout)?.[1] ?? ''
  const stored = await readStored(coll.dataDir, agentId)
  t.equal(stored.flows.length, gen.flows)
  compare(t, stored.flows.map(flowKey), 'after the outage')
})

t.test('spool overflow: the gap records account exactly for what was dropped', async (t) => {
  const coll = new CollectorProcess(join(dir, 'overflow-collector'), basePort + 2)
  await coll.start()
  const token = await coll.enrollToken()
  const stateDir = join(dir, 'overflow-agent')
  const enroll = runAgent(['enroll', '--collector', coll.url, '--token', token, '--state-dir', stateDir], {})
  await enroll.done
  await coll.stop()
  const agent = runAgent(['replay', capture, '-C', '--collector', coll.url, '--state-dir', stateDir], { ...shipEnv, TELLTALE_SHIP_MAX_BATCH_RECORDS: '500', TELLTALE_SHIP_SPOOL_MAX_BYTES: String(1024 * 1024) })
  t.teardown(() => { agent.child.kill('SIGKILL') })
  await Promise.race([agent.done, new Promise((r) => setTimeout(r, 10_000))])
  t.equal(agent.code, null, 'still waiting for the collector')
  await coll.start()
  t.teardown(() => coll.kill9())
  await Promise.race([agent.done, new Promise((r) => setTimeout(r, 180_000))])
  t.equal(agent.code, 1, 'exit 1: not everything was acknowledged')
  t.match(agent.stderr, /dropped \(reported as gaps\)/)
  await coll.stop()
  const agentId = /as (agt_\S+):/.exec(agent.stderr)?.[1] ?? ''
  const stored = await readStored(coll.dataDir, agentId)
  t.ok(stored.gapFlows > 0, `${stored.gapFlows} flows reported dropped in ${stored.gaps} gap records`)
  t.ok(stored.flows.length > 0, `${stored.flows.length} flows stored`)
  t.equal(stored.flows.length + stored.gapFlows, gen.flows, 'stored + gap counts = produced')
  t.equal(new Set(stored.flows.map(flowKey)).size, stored.flows.length, 'none twice')
})
