import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
