import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_BIN } from './helpers/paths.js'

t.test('parse-log prints one NDJSON event per line, raw events for unknown lines, counts on stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-parse-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const f = join(dir, 'mixed.log')
  writeFileSync(f, 'Dec 31 23:59:59 h sshd[7]: Invalid user bob from 198.51.100.7 port 4242\r\nnot a log line at all\n')
  const r = spawnSync(process.execPath, [AGENT_BIN, 'parse-log', f, '--year', '2024', '--utc'], { encoding: 'utf8' })
  t.equal(r.status, 0)
  const evs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(evs.length, 2)
  t.equal(evs[0]!['@timestamp'], '2024-12-31T23:59:59.000Z')
  t.equal(evs[0]!['source.ip'], '198.51.100.7')
  t.equal(evs[0]!['user.name'], 'bob')
  t.equal(evs[0]!['log.offset'], 0)
  t.equal(evs[1]!['telltale.parse_failure'], true)
  t.match(r.stderr, /2 lines, 1 parsed, 1 not understood/)
})

t.test('parse-log usage errors exit 2 with a clear message; unreadable file exits 1', async (t) => {
  for (const args of [['x', '--type', 'nope'], ['x', '--year', 'soon']]) {
    try {
      execFileSync(process.execPath, [AGENT_BIN, 'parse-log', ...args], { stdio: 'pipe', encoding: 'utf8' })
      t.fail('should fail')
    } catch (err) {
      const e = err as { status: number; stderr: string }
      t.equal(e.status, 2)
      t.match(e.stderr, /--(type|year) must be/)
    }
  }
  const r = spawnSync(process.execPath, [AGENT_BIN, 'parse-log', '/nonexistent/file.log'], { encoding: 'utf8' })
  t.equal(r.status, 1)
  t.match(r.stderr, /cannot read \/nonexistent\/file.log/)
})
