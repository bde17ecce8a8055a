/**
 * The real `telltale-collector serve` under a fake service manager: $NOTIFY_SOCKET points
 * at a datagram socket read by a small Perl receiver, $WATCHDOG_USEC asks for pings.
 * Expected, in order: READY=1 once listening, WATCHDOG=1 pings with STATUS=, RELOADING=1
 * then READY=1 on SIGHUP (the process survives it), STOPPING=1 on SIGTERM, exit 0.
 */
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { COLLECTOR_BIN } from './helpers/paths.js'

const haveTools = spawnSync('sh', ['-c', 'command -v systemd-notify && command -v perl']).status === 0
const RECEIVER = `
use strict; use IO::Socket::UNIX; use Socket;
my $path = shift; unlink $path;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $path) or die "socket: $!";
$| = 1; print "LISTENING\\n";
while (1) { my $buf; defined($s->recv($buf, 65536)) or last; $buf =~ s/\\n/|/g; print "$buf\\n"; }
`

t.test('collector serve: READY, watchdog pings, reload, stop', { skip: haveTools ? false : 'needs systemd-notify and perl', timeout: 60_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tt-collector-notify-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const sock = join(dir, 'notify.sock')
  const recv = spawn('perl', ['-e', RECEIVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { recv.kill() })
  const msgs = createInterface({ input: recv.stdout })[Symbol.asyncIterator]()
  const next = async (): Promise<string> => {
    for (;;) {
      const r = await msgs.next()
      if (r.done) throw new Error('receiver ended')
      if (r.value !== 'BARRIER=1') return r.value as string
    }
  }
  t.equal(await next().catch(() => ''), 'LISTENING')
  // (LISTENING is not BARRIER, so next() returned it.)

  const proc = spawn(process.execPath, [COLLECTOR_BIN, 'serve', '--data-dir', join(dir, 'data'), '--listen', '127.0.0.1:0', '--log-level', 'warn'], {
    env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: '2000000', TELLTALE_STORAGE_SYNC: 'false' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  proc.stderr.on('data', (b: Buffer) => { stderr += b.toString() })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  t.teardown(() => { proc.kill('SIGKILL') })

  t.match(await next(), /^READY=1\|STATUS=listening on http:\/\/127\.0\.0\.1:\d+$/, 'READY=1 once listening')
  t.match(await next(), /^WATCHDOG=1\|STATUS=listening on .*: 0 batches \(0\.0\/s\), 0 flows, 0 duplicates, 0 rejected$/, 'first ping right after READY')
  t.match(await next(), /^WATCHDOG=1\|/, 'pings go on (every WATCHDOG_USEC/2)')

  proc.kill('SIGHUP')
  let m = await next()
  while (m.startsWith('WATCHDOG=1')) m = await next()
  t.match(m, /^RELOADING=1\|MONOTONIC_USEC=\d+\|STATUS=reloading configuration$/)
  m = await next()
  while (m.startsWith('WATCHDOG=1')) m = await next()
  t.equal(m, 'READY=1|STATUS=configuration reloaded')
  t.match(await next(), /^WATCHDOG=1\|/, 'still alive after SIGHUP')

  proc.kill('SIGTERM')
  m = await next()
  while (m.startsWith('WATCHDOG=1')) m = await next()
  t.equal(m, 'STOPPING=1|STATUS=stopping: finishing requests in flight')
  t.equal(await exited, 0, `exit 0 (stderr: ${stderr})`)
})
