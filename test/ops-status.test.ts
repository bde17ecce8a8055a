/**
 * The status socket and `telltale-agent status` with a fake source of figures (the same
 * AgentService the run command wires): the JSON document, packet rates and last ack
 * derived from counters, the human output and exit codes (0 healthy, 1 degraded,
 * 3 not running), stale-socket cleanup and refusing a second agent on the same socket;
 * `telltale-collector status` against a local HTTP server.
 */
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createServer as createHttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pino from 'pino'
import type { AgentStatsProperties } from '../protocol/index.js'
import { AgentService } from '../agent/ops/agent-service.js'
import { AgentStatusTracker, formatAgentStatus, statusLine, type AgentStatusDoc } from '../agent/ops/agent-status.js'
import { buildAgentStats } from '../agent/ship/agent-stats.js'
import { fetchStatus, StatusServer, statusSocketPath } from '../agent/ops/status-socket.js'
import type { Notifier, NotifyFields } from '../agent/ops/sd-notify.js'
import type { WatchdogClock } from '../agent/ops/watchdog.js'
import { AGENT_BIN, COLLECTOR_BIN } from './helpers/paths.js'

const log = pino({ level: 'silent' })
const run = promisify(execFile)

function stats(over: { received?: number; acked?: number; ok?: number; netErr?: number; spool?: number } = {}): AgentStatsProperties {
  return {
    version: '9.9.9', uptimeS: 120,
    capture: [{ iface: 'eth1', received: over.received ?? 1000, dropped: 3, ifDropped: 1 }],
    flowTableSize: 42, flowTableEvictions: 0, spoolBytes: over.spool ?? 2048, spoolBatches: 2, spoolOldestAgeMs: 5000, logLagBytes: 10,
    anomalies: {},
    counters: { shipper_batches_acked_total: over.acked ?? 0, transport_ok_total: over.ok ?? 0, transport_network_errors_total: over.netErr ?? 0 },
  }
}

class Clock implements WatchdogClock {
  nowMs = 5_000_000
  now(): number { return this.nowMs }
  setInterval(): unknown { return 1 }
  clearInterval(): void {}
}

class Recorder implements Notifier {
  readonly enabled = true
  readonly sent: Array<Record<string, string | number>> = []
  notify(f: NotifyFields): void { this.sent.push({ ...f }) }
  async flush(): Promise<void> {}
  counters(): Record<string, number> { return {} }
}

function tmp(t: Tap): string {
  const d = mkdtempSync(join(tmpdir(), 'tt-status-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}
type Tap = { teardown(fn: () => void): void }

t.test('tracker: pps from the previous sample, last ack and reachability from counter moves', async (t) => {
  const tr = new AgentStatusTracker()
  const extra = { url: 'http://c:8270', pid: 1, state: 'running' as const, healthy: true, reasons: [], reloads: { ok: 0, failed: 0, last_error: '' } }
  let d = tr.report(stats(), 0, extra)
  t.equal(d.collector.reachable, null, 'unknown before any request')
  t.equal(d.collector.last_ack_age_s, null)
  tr.observe(stats({ received: 1000 }), 0)
  d = tr.report(stats({ received: 3000, acked: 1, ok: 1 }), 10_000, extra)
  t.equal(d.capture[0]!.pps, 200, '2000 packets in 10 s')
  t.equal(d.collector.reachable, true)
  t.equal(d.collector.last_ack_age_s, 0)
  tr.observe(stats({ received: 3000, acked: 1, ok: 1 }), 10_000)
  tr.observe(stats({ received: 3000, acked: 1, ok: 1, netErr: 4 }), 40_000)
  d = tr.report(stats({ received: 3000, acked: 1, ok: 1, netErr: 4 }), 70_000, extra)
  t.equal(d.collector.reachable, false, 'errors after the last success')
  t.equal(d.collector.last_ack_age_s, 60)
  t.equal(d.collector.last_error_age_s, 30)
  t.match(statusLine(d), /^running: 0 pps, 4 dropped, 42 flows, spool 2 batches\/2\.0 KiB, collector UNREACHABLE$/)
  t.match(formatAgentStatus(d), /eth1: 3000 packets, 0 pps, kernel dropped 3, interface dropped 1/)
  const failed = tr.report(stats(), 80_000, { ...extra, reloads: { ok: 0, failed: 1, last_error: 'invalid configuration:\n  a.yaml:4: capture.filter: bad\n  a.yaml:9: x: y' } })
  t.match(formatAgentStatus(failed), /reloads: 0 ok, 1 failed \(last: invalid configuration: a\.yaml:4: capture\.filter: bad; a\.yaml:9: x: y\)\n/, 'a multi-line reload error on one line')
  // A capture device that failed and is being reopened (LiveCapture stats() up: false → heartbeat down: true).
  const heartbeat = buildAgentStats({ version: '9.9.9', startedAtMs: 0, capture: () => [{ iface: 'eth1', received: 5, kernelDropped: 0, ifDropped: 0, up: false }, { iface: 'eth2', received: 7, kernelDropped: 0, ifDropped: 0, up: true }] })
  t.same(heartbeat.capture?.map((c) => c.down ?? false), [true, false], 'the heartbeat says which device is down')
  const down = tr.report({ ...stats(), capture: heartbeat.capture! }, 90_000, extra)
  t.same(down.capture.map((c) => c.down), [true, false])
  t.match(statusLine(down), /, eth1 DOWN, /, 'STATUS= names it')
  t.match(formatAgentStatus(down), /eth1: DOWN \(the device failed; reopened every 5 s\), 5 packets/)
  // The collector refuses the credential (ShipStack snapshot gauge ship_credential_refused).
  t.equal(d.collector.credential_refused, false)
  const s = stats()
  const refused = tr.report({ ...s, counters: { ...s.counters, ship_credential_refused: 1 } }, 95_000, extra)
  t.equal(refused.collector.credential_refused, true)
  t.match(statusLine(refused), /collector REFUSES the credential \(enroll again\)$/)
  t.match(formatAgentStatus(refused), /REFUSES this agent's credential \(revoked or unknown: run telltale-agent enroll --force, then restart; batches are kept in the spool\)/)
})

t.test('socket path: runtime directory first, then the state directory', async (t) => {
  t.equal(statusSocketPath('/var/lib/telltale-agent', { RUNTIME_DIRECTORY: '/run/telltale-agent/eth1' }), '/run/telltale-agent/eth1/status.sock')
  t.equal(statusSocketPath('/var/lib/telltale-agent', {}), '/var/lib/telltale-agent/status.sock')
})

t.test('AgentService: READY/RELOADING/STOPPING, status document over the socket, the status command', async (t) => {
  const dir = tmp(t)
  const sock = join(dir, 'status.sock')
  const clock = new Clock()
  const notifier = new Recorder()
  let figures = stats()
  const svc = new AgentService({ statusSocket: sock, collectorUrl: 'http://127.0.0.1:1' }, { stats: () => figures, log, notifier, clock, env: { WATCHDOG_USEC: '60000000' } })
  await svc.start()
  const loop = svc.probe('flow-pipeline', 30_000)
  svc.ready()
  t.same(notifier.sent[0], { READY: 1, STATUS: 'running' })
  t.match(notifier.sent[1], { WATCHDOG: 1, STATUS: /^running: 0 pps, 4 dropped, 42 flows/ }, 'first ping right after READY')

  const r = await fetchStatus(sock)
  t.ok(r.ok)
  const doc = (r as { document: AgentStatusDoc }).document
  t.match(doc, { service: 'telltale-agent', version: '9.9.9', state: 'running', healthy: true, flows: { active: 42 }, spool: { bytes: 2048, batches: 2, oldest_age_s: 5 } })

  // CLI, healthy: exit 0.
  figures = stats({ ok: 1, acked: 1 })
  const ok = await run(process.execPath, [AGENT_BIN, 'status', '--socket', sock])
  t.match(ok.stdout, /^telltale-agent 9\.9\.9 \(pid \d+\) running, up 120 s, healthy/)
  t.match(ok.stdout, /collector: http:\/\/127\.0\.0\.1:1: reachable, last ack 0 s ago/)
  const json = await run(process.execPath, [AGENT_BIN, 'status', '--socket', sock, '--json'])
  t.match(JSON.parse(json.stdout), { capture: [{ iface: 'eth1' }] })

  // A stalled loop: unhealthy, exit 1, and the reason shown.
  clock.nowMs += 45_000
  const bad = await run(process.execPath, [AGENT_BIN, 'status', '--socket', sock]).then(() => undefined, (e: { code: number; stdout: string }) => e)
  t.equal(bad?.code, 1)
  t.match(bad?.stdout, /UNHEALTHY: flow-pipeline: no progress for 45 s/)
  loop.beat(clock.now())

  // The collector refuses the credential: degraded, exit 1, and what to do shown.
  const healthy = figures
  figures = { ...healthy, counters: { ...healthy.counters, ship_credential_refused: 1 } }
  const refused = await run(process.execPath, [AGENT_BIN, 'status', '--socket', sock]).then(() => undefined, (e: { code: number; stdout: string }) => e)
  t.equal(refused?.code, 1, 'a refused credential: exit 1')
  t.match(refused?.stdout, /REFUSES this agent's credential/)
  figures = healthy

  svc.reloading()
  svc.reloaded(new Error('invalid configuration:\n  agent.yaml:3: x'))
  t.match(notifier.sent.slice(-2), [{ RELOADING: 1, MONOTONIC_USEC: /^\d+$/ }, { READY: 1, STATUS: /^reload failed/ }])
  t.match(svc.document().reloads, { ok: 0, failed: 1, last_error: /invalid configuration/ })

  // A second agent on the same socket is refused while the first answers.
  const second = new StatusServer({ path: sock }, { document: () => ({}) })
  await t.rejects(second.start(), { code: 'AGENT_ERR_STATUS_SOCKET_FAILED', message: /another agent is running/ })

  svc.stopping()
  t.match(notifier.sent[notifier.sent.length - 1], { STOPPING: 1 })
  await svc.stop()
  t.notOk(existsSync(sock), 'socket removed on stop')

  const gone = await run(process.execPath, [AGENT_BIN, 'status', '--socket', sock]).then(() => undefined, (e: { code: number; stderr: string }) => e)
  t.equal(gone?.code, 3, 'not running: exit 3')
  t.match(gone?.stderr, /is it running\?/)
})

t.test('a stale socket from a crashed agent is replaced; a regular file is not', async (t) => {
  const dir = tmp(t)
  const sock = join(dir, 'status.sock')
  // A crashed agent: a process that listened and was killed, leaving the socket file.
  const child = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(sock)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
  child.kill('SIGKILL')
  await new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.ok(existsSync(sock), 'stale socket present')
  const srv = new StatusServer({ path: sock }, { document: () => ({ hello: 1 }) })
  await srv.start()
  const r = await fetchStatus(sock)
  t.same(r, { ok: true, document: { hello: 1 } })
  await srv.stop()

  const file = join(dir, 'plain')
  writeFileSync(file, 'x')
  await t.rejects(new StatusServer({ path: file }, { document: () => ({}) }).start(), /is not a socket/)
  await t.rejects(new StatusServer({ path: join(dir, 'x'.repeat(120)) }, { document: () => ({}) }).start(), /longer than 107 bytes/)
})

t.test('telltale-collector status: ready 0, not ready 1, not running 3', async (t) => {
  let ready = true
  const http = createHttpServer((req, res) => {
    if (req.url === '/healthz') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"status":"ok"}'); return }
    if (req.url === '/readyz') { res.writeHead(ready ? 200 : 503, { 'content-type': 'application/json' }); res.end(ready ? '{"status":"ready"}' : '{"code":"COLLECTOR_ERR_NOT_READY"}'); return }
    res.writeHead(404); res.end()
  })
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r))
  t.teardown(() => http.close())
  const port = (http.address() as { port: number }).port
  const url = `http://127.0.0.1:${port}`
  const ok = await run(process.execPath, [COLLECTOR_BIN, 'status', '--url', url])
  t.match(ok.stdout, /: ready/)
  ready = false
  const nr = await run(process.execPath, [COLLECTOR_BIN, 'status', '--url', url]).then(() => undefined, (e: { code: number; stdout: string }) => e)
  t.equal(nr?.code, 1)
  t.match(nr?.stdout, /NOT READY \(HTTP 503/)
  await new Promise<void>((r) => http.close(() => r()))
  const down = await run(process.execPath, [COLLECTOR_BIN, 'status', '--url', url]).then(() => undefined, (e: { code: number; stderr: string }) => e)
  t.equal(down?.code, 3)
  t.match(down?.stderr, /no collector answers/)
})
