/**
 * The real `telltale-agent run` (no capture: a log source only) enrolled with a real
 * collector, under a fake service manager ($NOTIFY_SOCKET read by a small Perl receiver,
 * $WATCHDOG_USEC set): READY=1, watchdog pings with STATUS=, `telltale-agent status` over
 * the socket in the state directory, SIGHUP with a valid changed config (a second log
 * source) and with an invalid one (refused, previous kept), SIGTERM → STOPPING=1, exit 0.
 *
 * Not covered here (needs live capture in a network namespace): that a SIGHUP which
 * changes the capture filter keeps the flows in progress.
 */
import t from 'tap'
import { execFile, spawn, spawnSync } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { CollectorProcess } from './helpers/ship-e2e.js'
import { AGENT_BIN } from './helpers/paths.js'

const run = promisify(execFile)
const haveTools = spawnSync('sh', ['-c', 'command -v systemd-notify && command -v perl']).status === 0
const RECEIVER = `
use strict; use IO::Socket::UNIX; use Socket;
my $path = shift; unlink $path;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "socket: $!";
$| = 1; print "LISTENING\\n";
while (1) { my $buf; defined($s->recv($buf, 65536)) or last; $buf =~ s/\\n/|/g; print "$buf\\n"; }
`

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)) })
  })
}

t.test('agent run: READY, pings, status, reload ok and refused, stop', { skip: haveTools ? false : 'needs systemd-notify and perl', timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-agent-svc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const collector = new CollectorProcess(join(dir, 'collector'), await freePort())
  await collector.start()
  t.teardown(() => collector.stop())
  const token = await collector.enrollToken()

  const logA = join(dir, 'a.log')
  const logB = join(dir, 'b.log')
  writeFileSync(logA, '')
  writeFileSync(logB, '')
  const conf = join(dir, 'agent.yaml')
  const config = (files: string): string => `state_dir: ${join(dir, 'state')}\nlog_level: info\ncollector:\n  url: ${collector.url}\n  enroll_token: ${token}\nlogs:\n  files:\n${files}`
  writeFileSync(conf, config(`    - name: a\n      include: [${logA}]\n`))

  const sock = join(dir, 'notify.sock')
  const recv = spawn('perl', ['-e', RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { recv.kill() })
  const msgs = createInterface({ input: recv.stdout })[Symbol.asyncIterator]()
  const next = async (skipPings = false): Promise<string> => {
    for (;;) {
      const r = await msgs.next()
      if (r.done) throw new Error('receiver ended')
      const v = r.value as string
      if (v === 'BARRIER=1' || (skipPings && v.startsWith('WATCHDOG=1'))) continue
      return v
    }
  }
  t.equal(await next(), 'LISTENING')

  const agent = spawn(process.execPath, [AGENT_BIN, 'run', '--config', conf], {
    env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '2000000' }, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  let stdout = ''
  agent.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  agent.stdout.on('data', (b: Buffer) => { stdout += b.toString() })
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)))
  t.teardown(() => { agent.kill('SIGKILL') })

  t.equal(await next(), 'READY=1|STATUS=running', 'READY=1 after start-up')
  t.match(await next(), /^WATCHDOG=1\|STATUS=running: no capture, 0 flows, spool \d+ batches\/[0-9.]+ \w?i?B, collector /, 'ping with live figures')
  t.match(await next(), /^WATCHDOG=1\|/, 'pings go on')

  const st = await run(process.execPath, [AGENT_BIN, 'status', '--config', conf, '--json'])
  const doc = JSON.parse(st.stdout) as { state: string; healthy: boolean; capture: unknown[]; collector: { url: string } }
  t.match(doc, { state: 'running', healthy: true, capture: [], collector: { url: collector.url } }, 'status over the socket in the state directory')

  // A valid change: a second log source.
  writeFileSync(conf, config(`    - name: a\n      include: [${logA}]\n    - name: b\n      include: [${logB}]\n`))
  agent.kill('SIGHUP')
  t.match(await next(true), /^RELOADING=1\|MONOTONIC_USEC=\d+\|STATUS=reloading configuration$/)
  t.equal(await next(true), 'READY=1|STATUS=configuration reloaded')

  // An invalid change: refused, the running config kept, the reason visible.
  writeFileSync(conf, `${config('')}no_such_key: 1\n`)
  agent.kill('SIGHUP')
  t.match(await next(true), /^RELOADING=1\|/)
  t.match(await next(true), /^READY=1\|STATUS=reload failed, running with the previous config: .*no_such_key/)
  const st2 = await run(process.execPath, [AGENT_BIN, 'status', '--config', join(dir, 'missing.yaml'), '--socket', join(dir, 'state', 'status.sock')])
  t.match(st2.stdout, /reloads: 1 ok, 1 failed \(last: .*no_such_key/)
  appendFileSync(logB, 'Jan  1 00:00:00 host sshd[1]: hello\n')

  agent.kill('SIGTERM')
  t.match(await next(true), /^STOPPING=1\|STATUS=stopping/)
  t.equal(await exited, 0, `exit 0 (stderr: ${stderr.slice(-2000)})`)
  // One JSON object per line, each with ONE component key: a child of a component's logger
  // repeated the key ("component":"agent","component":"spool"), which log stores that reject
  // duplicate keys (Elasticsearch) refuse.
  const lines = (stdout + stderr).split('\n').filter((l) => l.startsWith('{'))
  const components = new Set(lines.map((l) => (JSON.parse(l) as { component?: string }).component))
  t.ok(components.has('spool') && components.has('agent'), `component loggers log (${[...components].join(', ')})`)
  t.same(lines.filter((l) => (l.match(/"component":/g) ?? []).length > 1), [], 'no log line repeats the component key')
})

t.test('agent run capturing on a quiet link: a reload naming a missing interface keeps lo; SIGTERM ends the process (a closed pcap handle does not hold it)', {
  skip: process.getuid?.() === 0 ? false : 'needs root (live capture on lo)', timeout: 120_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-agent-quiet-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const collector = new CollectorProcess(join(dir, 'collector'), await freePort())
  await collector.start()
  t.teardown(() => collector.stop())
  const conf = join(dir, 'agent.yaml')
  // A filter nothing on lo matches: after close, no packet ever comes to release the handle.
  writeFileSync(conf, `state_dir: ${join(dir, 'state')}\ncollector:\n  url: ${collector.url}\n  enroll_token: ${await collector.enrollToken()}\ncapture:\n  interfaces: [lo]\n  filter: "tcp port ${await freePort()} and host 127.0.0.9"\n`)
  const agent = spawn(process.execPath, [AGENT_BIN, 'run', '--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  agent.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = new Promise<number | null>((resolve) => agent.once('exit', (code) => resolve(code)))
  t.teardown(() => { agent.kill('SIGKILL') })
  let capturing = false
  for (let i = 0; i < 100 && !capturing; i++) {
    await new Promise((r) => setTimeout(r, 200))
    const st = await run(process.execPath, [AGENT_BIN, 'status', '--socket', join(dir, 'state', 'status.sock'), '--json']).catch(() => undefined)
    capturing = st !== undefined && (JSON.parse(st.stdout) as { capture: unknown[] }).capture.length === 1
  }
  t.ok(capturing, `capturing on lo (stderr: ${stderr.slice(-500)})`)
  // A reload naming an interface that is not there: refused, and lo is still captured (the
  // old capture was stopped before the new one failed to open, and stayed stopped).
  const good = readFileSync(conf, 'utf8')
  writeFileSync(conf, good.replace('interfaces: [lo]', 'interfaces: [telltale-none0]'))
  agent.kill('SIGHUP')
  let refused = false
  for (let i = 0; i < 100 && !refused; i++) {
    await new Promise((r) => setTimeout(r, 200))
    refused = /capture settings not applied, still capturing with the previous ones: .*telltale-none0/.test(stderr)
  }
  t.ok(refused, `the reload is refused with the reason (stderr: ${stderr.slice(-800)})`)
  const after = await run(process.execPath, [AGENT_BIN, 'status', '--socket', join(dir, 'state', 'status.sock'), '--json'])
  t.same((JSON.parse(after.stdout) as { capture: Array<{ iface: string }> }).capture.map((c) => c.iface), ['lo'], 'still capturing on lo')
  agent.kill('SIGTERM')
  // Bounded wait for a hang (it never exited before), not a timing measurement.
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running after 60 s'), 60_000).unref())])
  t.equal(code, 0, `exit 0 after SIGTERM (stderr: ${stderr.slice(-1000)})`)
})
