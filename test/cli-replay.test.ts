/**
 * `telltale-agent replay` as a real process: outputs, flags and the one-line errors with
 * their exit codes (1 = runtime failure, 2 = usage).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_BIN } from './helpers/paths.js'
import { Trace } from './helpers/flow-fixtures.js'
import { buildPcap } from './helpers/pcap-writer.js'

const dir = mkdtempSync(join(tmpdir(), 'telltale-replay-'))
const pcap = join(dir, 'trace.pcap')
const tr = new Trace().tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001)
  .tcp('C', 'PA', 1001, 5001, 10).tcp('S', 'PA', 5001, 1011, 20).tcp('C', 'FA', 1011, 5021).tcp('S', 'FA', 5021, 1012).tcp('C', 'A', 1012, 5022)
writeFileSync(pcap, buildPcap(tr.frames))

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  // Bounded: a hang (the recursive-mkdir spin below) fails the test instead of holding it.
  const r = spawnSync(process.execPath, [AGENT_BIN, ...args], { encoding: 'utf8', timeout: 60_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

t.test('writes a Zeek conn.log with the header and one row', async (t) => {
  const out = join(dir, 'zeek')
  const r = run(['replay', pcap, '--log-dir', out])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stderr, /replayed 8 packets from 1 file\(s\).*1 connections/)
  const log = readFileSync(join(out, 'conn.log'), 'utf8').split('\n')
  t.equal(log[0], '#separator \\x09')
  t.match(log[6], /^#fields\tts\tuid\tid\.orig_h/)
  const rows = log.filter((l) => l && !l.startsWith('#'))
  t.equal(rows.length, 1)
  t.match(rows[0], /\t10\.0\.0\.1\t40000\t192\.0\.2\.9\t8080\ttcp\t/)
  t.match(rows[0], /\tSF\t/)
  t.match(log.at(-2), /^#close\t/)
})

t.test('--json writes NDJSON with Zeek JSON field names', async (t) => {
  const out = join(dir, 'json')
  t.equal(run(['replay', pcap, '--json', '--community-id', '--log-dir', out]).status, 0)
  const rec = JSON.parse(readFileSync(join(out, 'conn.log'), 'utf8').split('\n')[0]!) as Record<string, unknown>
  t.equal(rec['id.orig_h'], '10.0.0.1')
  t.equal(rec.conn_state, 'SF')
  t.match(String(rec.community_id), /^1:/)
})

t.test('--filter applies BPF to files', async (t) => {
  const r = run(['replay', pcap, '--filter', 'tcp port 9999', '-q', '--log-dir', join(dir, 'f')])
  t.equal(r.status, 0, r.stderr)
  t.equal(readFileSync(join(dir, 'f', 'conn.log'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).length, 0)
})

t.test('errors are one clear line and a non-zero exit', async (t) => {
  const missing = run(['replay', join(dir, 'nope.pcap')])
  t.equal(missing.status, 1)
  t.match(missing.stderr, /^telltale-agent: cannot read capture file .*nope\.pcap/)
  t.equal(missing.stderr.trim().split('\n').length, 1, 'one line, no stack trace')

  const notCapture = join(dir, 'text.pcap')
  writeFileSync(notCapture, 'hello, this is not a capture\n')
  const bad = run(['replay', notCapture])
  t.equal(bad.status, 1)
  t.match(bad.stderr, /not a .*capture|supported formats/i)

  const badFilter = run(['replay', pcap, '--filter', 'tcp port nonsense'])
  t.not(badFilter.status, 0)
  t.match(badFilter.stderr, /filter/i)
  t.notMatch(badFilter.stderr, /\n\s+at /, 'no stack trace')

  const badFlag = run(['replay', pcap, '--max-flows', 'lots'])
  t.equal(badFlag.status, 2)
  t.match(badFlag.stderr, /--max-flows expects a positive integer/)

  const noArgs = run(['replay'])
  t.equal(noArgs.status, 2)

  // Flags that shape files or shipping were silently ignored without --log-dir / --collector.
  const jsonNoDir = run(['replay', pcap, '--json', '--community-id'])
  t.equal(jsonNoDir.status, 2)
  t.match(jsonNoDir.stderr, /^telltale-agent: --json, --community-id shape the logs written to --log-dir: give --log-dir DIR/)
  const tokenNoCollector = run(['replay', pcap, '--enroll-token', 'x', '--log-dir', join(dir, 'tok')])
  t.equal(tokenNoCollector.status, 2)
  t.match(tokenNoCollector.stderr, /--enroll-token only matters when shipping: give --collector URL/)

  const fileAsDir = run(['replay', pcap, '--log-dir', join(pcap, 'logs')])
  t.equal(fileAsDir.status, 1)
  t.match(fileAsDir.stderr, /^telltale-agent: cannot create log directory .*ENOTDIR/)
})

// procfs answers ENOENT for a child of /proc, which sent Node's recursive mkdir into an
// endless loop at 100 % CPU (`replay --log-dir /proc/x` never returned).
t.test('a log directory that cannot exist fails at once', { skip: existsSync('/proc/self') ? false : 'needs procfs (Linux)' }, async (t) => {
  const logDir = run(['replay', pcap, '--log-dir', '/proc/telltale-nope/logs'])
  t.equal(logDir.status, 1, 'replay exits 1 (it hung before)')
  t.match(logDir.stderr, /^telltale-agent: cannot create log directory \/proc\/telltale-nope\/logs: ENOENT/)
})
