import t from 'tap'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { JournaldSource, journalEntryToEvent } from '../agent/logs/tail/journald-source.js'

/** journald: entry mapping always; a live follow only where journalctl and a journal exist. */
t.test('journal JSON entries map to events with the program parser applied', async (t) => {
  const e = journalEntryToEvent(JSON.stringify({
    __CURSOR: 's=abc;i=1', __REALTIME_TIMESTAMP: '1700000000123456', _HOSTNAME: 'h1', SYSLOG_IDENTIFIER: 'sshd', _PID: '42', PRIORITY: '6',
    MESSAGE: 'Failed password for root from 203.0.113.9 port 2222 ssh2',
  }))
  t.ok(e)
  t.equal(e!.cursor, 's=abc;i=1')
  t.equal(e!.event['event.dataset'], 'sshd')
  t.equal(e!.event['source.ip'], '203.0.113.9')
  t.equal(e!.event['process.pid'], 42)
  t.equal(e!.event['@timestamp'], '2023-11-14T22:13:20.123Z')
  t.equal(e!.event['event.id'], 'journal:s=abc;i=1')
  const bytes = journalEntryToEvent(JSON.stringify({ __CURSOR: 'c', MESSAGE: [104, 105, 255] }))
  t.equal(bytes!.event['telltale.invalid_utf8'], true, 'byte-array MESSAGE kept and marked')
  t.equal(journalEntryToEvent('not json'), null)
  t.equal(journalEntryToEvent('{"MESSAGE":"no cursor"}'), null)
})

function journalUsable(): string | false {
  try {
    const out = execFileSync('journalctl', ['-o', 'json', '-n', '1', '--no-pager'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 })
    return out.trim() ? false : 'journalctl has no journal entries on this machine'
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'journalctl not installed' : `journalctl unusable: ${(err as Error).message.split('\n')[0]}`
  }
}

const skip = journalUsable()
t.test('live journald follow with a persisted cursor', { skip: skip ? `skipped: ${skip}` : false }, async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'telltale-jd-'))
  t.teardown(() => rmSync(state, { recursive: true, force: true }))
  const src = new JournaldSource({ name: 'j', stateDir: state, matches: [], queueCapacity: 100, journalctlPath: 'journalctl', extraArgs: [] })
  await src.start()
  const d = await src.read(10, 5000)
  t.ok(d && d.events.length > 0, 'entries read')
  await src.ack(d!.upTo)
  await src.stop()
  t.match(readFileSync(join(state, 'j.journal-cursor'), 'utf8'), /\S/, 'cursor persisted on ack')
})

t.test('journalctl exiting under the source is started again after the last entry read: nothing lost, nothing twice', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-jd-fake-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // A journalctl that prints the 3 entries after --after-cursor (or from the start) and then
  // dies, the way a killed journalctl or a vacuumed journal file ends the follow.
  const fake = join(dir, 'journalctl')
  writeFileSync(fake, `#!/usr/bin/env node
const after = process.argv.find((a) => a.startsWith('--after-cursor='))
const from = after ? Number(after.slice('--after-cursor=c:'.length)) + 1 : 1
for (let i = from; i < from + 3; i++) console.log(JSON.stringify({ __CURSOR: 'c:' + i, MESSAGE: 'entry ' + i, SYSLOG_IDENTIFIER: 'app', __REALTIME_TIMESTAMP: String(1700000000000000 + i) }))
console.error('Journal file was removed under us')
process.exit(1)
`)
  chmodSync(fake, 0o755)
  const warnings: Array<{ msg: string; stderr?: string }> = []
  const log = pino({ level: 'warn' }, { write: (l: string) => { warnings.push(JSON.parse(l) as { msg: string; stderr?: string }) } })
  const src = new JournaldSource({ name: 'j', stateDir: dir, matches: [], queueCapacity: 100, journalctlPath: fake, extraArgs: [] }, { log })
  await src.start()
  const got: string[] = []
  const deadline = Date.now() + 15_000
  while (got.length < 6 && Date.now() < deadline) {
    const d = await src.read(10, 200)
    if (!d) continue
    got.push(...d.events.map((e) => e.message))
    await src.ack(d.upTo)
  }
  await src.stop()
  t.same(got, ['entry 1', 'entry 2', 'entry 3', 'entry 4', 'entry 5', 'entry 6'], 'the second journalctl continued after entry 3')
  t.ok(src.counters.get('journald_restarts_total') >= 1, 'the restart is counted')
  t.match(warnings[0], { msg: 'journalctl exited; starting it again after the last entry read', stderr: 'Journal file was removed under us' })
  t.equal(readFileSync(join(dir, 'j.journal-cursor'), 'utf8').trim(), 'c:6', 'the cursor follows the acks')
})
