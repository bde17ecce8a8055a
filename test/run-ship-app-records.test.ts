// `telltale-agent run` ships the analyzers' application-log rows: capturing on lo, a DNS
// query and its answer become an AppRecord in a batch the collector receives (a fake
// collector that decodes and acknowledges every Batch), and the heartbeat's counters
// report the batcher's app-record counters.
import t from 'tap'
import { spawn } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AppRecord } from '../protocol/index.js'
import { machineIdHash, saveIdentity } from '../agent/ship/identity.js'
import { dnsMessage, QUERY, rdA, RESPONSE } from './helpers/dns-builder.js'
import { AGENT_BIN } from './helpers/paths.js'
import { startFakeCollector } from './helpers/ship-fake-collector.js'

/** An address on lo nothing else talks to. */
const SERVER = '127.0.0.9'

async function until<T>(what: string, f: () => T | undefined, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = f()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

t.test('run: a DNS lookup on the captured link reaches the collector as an AppRecord', {
  skip: process.getuid?.() === 0 ? false : 'needs root (live capture on lo, a server on port 53)', timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-run-app-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const fc = await startFakeCollector()
  t.teardown(() => fc.close())
  const state = join(dir, 'state')
  saveIdentity(state, { agent_id: 'agent-run-app', secret: 'secret', machine_id_hash: machineIdHash(), nonce: 'n', collector: fc.url, enrolled_at: new Date().toISOString() })
  const conf = join(dir, 'agent.yaml')
  writeFileSync(conf, [
    `state_dir: ${state}`, 'log_level: warn', `collector:\n  url: ${fc.url}`,
    `capture:\n  interfaces: [lo]\n  filter: "udp and host ${SERVER} and port 53"`,
    'heartbeat:\n  interval_s: 1', 'ship:\n  max_delay_ms: 100', '',
  ].join('\n'))
  const agent = spawn(process.execPath, [AGENT_BIN, 'run', '--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  agent.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)))
  t.teardown(() => { agent.kill('SIGKILL') })
  const batches = (): import('../protocol/index.js').Batch[] => [...fc.batches.values()].sort((a, b) => a.seq - b.seq)
  // The heartbeat starts after the capture: its first batch says the agent is capturing.
  await until(`a heartbeat (stderr: ${stderr.slice(-500)})`, () => batches().find((b) => b.stats !== null && b.stats !== undefined))

  const server = createSocket('udp4')
  t.teardown(() => server.close())
  await new Promise<void>((resolve) => server.bind(53, SERVER, resolve))
  const question = { name: 'printer.example', type: 1 }
  server.on('message', (msg, from) => {
    server.send(dnsMessage({ id: msg.readUInt16BE(0), flags: RESPONSE, questions: [question], answers: [{ name: 'printer.example', type: 1, ttl: 60, rdata: rdA('10.1.2.3') }] }), from.port, from.address)
  })
  const client = createSocket('udp4')
  t.teardown(() => client.close())
  await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve))
  const answered = new Promise((resolve) => client.once('message', resolve))
  client.send(dnsMessage({ id: 4242, flags: QUERY, questions: [question] }), 53, SERVER)
  await answered

  const rec = await until('an AppRecord', () => batches().flatMap((b) => b.appRecords as AppRecord[]).find((r) => r.log === 'dns'))
  const row = JSON.parse(rec.zeekJson) as Record<string, unknown>
  t.equal(row.query, 'printer.example')
  t.same(row.answers, ['10.1.2.3'])
  t.equal(rec.uid, row.uid)
  t.ok(rec.uid.length > 0)
  t.same([...rec.origH], [127, 0, 0, 1])
  t.same([...rec.respH], [127, 0, 0, 9])
  t.equal(rec.respP, 53)
  t.equal(Number(rec.tsUs), Math.round((row.ts as number) * 1e6))
  const counters = await until('a heartbeat counting it, received and acknowledged', () => batches().map((b) => b.stats?.counters ?? undefined)
    .find((c) => Number(c?.batcher_app_records_received_total ?? 0) >= 1 && Number(c?.shipper_app_records_acked_total ?? 0) >= 1))
  t.equal(Number(counters.batcher_app_records_dropped_total ?? 0), 0)
  agent.kill('SIGTERM')
  t.equal(await exited, 0, stderr)
})
