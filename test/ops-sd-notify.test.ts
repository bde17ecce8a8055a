/**
 * sd_notify through systemd-notify: message format, ordering, the bounded coalescing
 * queue (fake sender), and real datagrams received on a unix socket (path and abstract
 * name) by a small Perl receiver, as systemd would receive them. The agent and collector
 * copies of the module must stay identical.
 */
import t, { type Test } from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { formatNotifyLines, notifierFromEnv, NullNotifier, SdNotifier } from '../agent/ops/sd-notify.js'
import { REPO_ROOT } from './helpers/paths.js'

t.test('agent/ops and collector/ops hold identical copies', async (t) => {
  for (const f of ['sd-notify.ts', 'watchdog.ts']) {
    t.equal(readFileSync(join(REPO_ROOT, 'collector/ops', f), 'utf8'), readFileSync(join(REPO_ROOT, 'agent/ops', f), 'utf8'), f)
  }
})

t.test('KEY=VALUE lines; newlines cannot inject another assignment; bad keys dropped', async (t) => {
  t.same(formatNotifyLines({ READY: 1, STATUS: 'a\nWATCHDOG=1' }), ['READY=1', 'STATUS=a WATCHDOG=1'])
  t.same(formatNotifyLines({ 'bad key': 1, lower: 2, MAINPID: 3 }), ['MAINPID=3'])
})

t.test('messages go out one at a time, in order; routine ones coalesce; the queue is bounded', async (t) => {
  const sent: string[][] = []
  let release: (() => void) | undefined
  const n = new SdNotifier({ socket: '/x', maxQueue: 3 }, {
    send: async (_s, lines) => { sent.push([...lines]); await new Promise<void>((r) => { release = r }) },
  })
  n.notify({ READY: 1 })                // in flight
  n.notify({ STATUS: 'a' })             // queued
  n.notify({ WATCHDOG: 1, STATUS: 'b' }) // replaces 'a'
  n.notify({ RELOADING: 1 })            // queued
  n.notify({ STATUS: 'c' })             // queued (previous is not routine)
  n.notify({ STOPPING: 1 })             // queue full (3): dropped
  t.equal(sent.length, 1)
  for (let i = 0; i < 4 && release; i++) { const r = release; release = undefined; r(); await new Promise((r2) => setImmediate(r2)) }
  await n.flush()
  t.same(sent, [['READY=1'], ['WATCHDOG=1', 'STATUS=b'], ['RELOADING=1'], ['STATUS=c']])
  t.match(n.counters(), { notify_sent_total: 4, notify_coalesced_total: 1, notify_dropped_total: 1, notify_errors_total: 0 })
})

t.test('a failing sender is counted, not thrown', async (t) => {
  const n = new SdNotifier({ socket: '/x' }, { send: async () => { throw new Error('systemd-notify: No such file') } })
  n.notify({ READY: 1 })
  await n.flush()
  t.equal(n.counters().notify_errors_total, 1)
  t.match(n.lastFailure, /No such file/)
})

t.test('notifierFromEnv: no socket → does nothing; a socket is taken out of the environment', async (t) => {
  t.type(notifierFromEnv({}), NullNotifier)
  const env: NodeJS.ProcessEnv = { NOTIFY_SOCKET: '/run/systemd/notify' }
  const n = notifierFromEnv(env, { send: async () => {} })
  t.ok(n.enabled)
  t.equal(env.NOTIFY_SOCKET, undefined, 'children will not inherit it')
})

const haveTools = spawnSync('sh', ['-c', 'command -v systemd-notify && command -v perl']).status === 0
const RECEIVER = `
use strict; use IO::Socket::UNIX; use Socket;
my $path = shift; $path =~ s/^@/\\0/; unlink $path unless $path =~ /^\\0/;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "socket: $!";
$| = 1; print "LISTENING\\n";
while (1) { my $buf; defined($s->recv($buf, 65536)) or last; $buf =~ s/\\n/|/g; print "$buf\\n"; }
`

async function receive(t: Test, socket: string, send: (n: SdNotifier) => void, count: number): Promise<string[]> {
  const p = spawn('perl', ['-e', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { p.kill() })
  const lines = createInterface({ input: p.stdout! })[Symbol.asyncIterator]()
  t.equal((await lines.next()).value, 'LISTENING')
  const n = new SdNotifier({ socket })
  send(n)
  await n.flush()
  t.equal(n.counters().notify_errors_total, 0, n.lastFailure)
  const got: string[] = []
  while (got.length < count) {
    const r = await lines.next()
    if (r.done) break
    if (r.value !== 'BARRIER=1') got.push(r.value as string)
  }
  return got
}

t.test('real datagrams through systemd-notify, to a socket path', { skip: haveTools ? false : 'needs systemd-notify and perl' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-notify-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const got = await receive(t, join(dir, 'notify.sock'), (n) => {
    n.notify({ READY: 1, STATUS: 'running' })
    n.notify({ WATCHDOG: 1, STATUS: '12 pps, 3 flows' })
    n.notify({ STOPPING: 1 })
  }, 3)
  t.same(got, ['READY=1|STATUS=running', 'WATCHDOG=1|STATUS=12 pps, 3 flows', 'STOPPING=1'])
})

t.test('real datagrams to an abstract socket (@name)', { skip: haveTools ? false : 'needs systemd-notify and perl' }, async (t) => {
  const got = await receive(t, `@telltale-test-${process.pid}`, (n) => n.notify({ READY: 1 }), 1)
  t.same(got, ['READY=1'])
})
