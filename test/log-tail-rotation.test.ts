import t, { type Test } from 'tap'
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { FileSource } from '../agent/logs/tail/file-source.js'
import { fileSourceConfig } from '../agent/logs/tail/file-source-config.js'
import type { LogEvent } from '../agent/logs/log-event.js'
import { drain, lines, numbers, sleep } from './helpers/log-tail-harness.js'

/** Real files in a temp dir; a FileSource with an in-test acknowledging sink. */
function setup(t: Test): { dir: string; state: string; make: (globs: string[], extra?: object) => FileSource } {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-tail-'))
  const state = join(dir, 'state')
  const sources: FileSource[] = []
  t.teardown(async () => {
    for (const s of sources) await s.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    dir,
    state,
    make: (globs, extra = {}) => {
      const s = new FileSource(fileSourceConfig({ name: 't', include: globs, stateDir: state, pollIntervalMs: 20, globIntervalMs: 50, partialLineTimeoutMs: 300, rotatedKeepMs: 500, ...extra }))
      sources.push(s)
      return s
    },
  }
}


function assertExactly(t: Test, got: LogEvent[], prefix: string, n: number): void {
  const nums = numbers(got, prefix)
  t.equal(nums.length, n, `${prefix}: ${n} lines in, ${nums.length} events out`)
  t.same([...nums].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), `${prefix}: each line exactly once`)
  const ids = new Set(got.map((e) => e['event.id']))
  t.equal(ids.size, got.length, 'event ids (fingerprint:offset) are unique')
}

t.test('rename-and-create rotation: old file read to its end, new file picked up', async (t) => {
  const { dir, make } = setup(t)
  const p = join(dir, 'app.log')
  writeFileSync(p, lines('a', 0, 100))
  const src = make([join(dir, '*.log')])
  await src.start()
  const got: LogEvent[] = []
  await drain(src, got, () => numbers(got, 'a').length >= 100)
  appendFileSync(p, lines('a', 100, 50))
  renameSync(p, join(dir, 'app.log.1')) // not matched by the glob any more
  appendFileSync(join(dir, 'app.log.1'), lines('a', 150, 50)) // writer still holds the old file
  writeFileSync(p, lines('a', 200, 100)) // new file under the old name
  await drain(src, got, () => numbers(got, 'a').length >= 300)
  assertExactly(t, got, 'a', 300)
  t.ok(src.counters.get('log_source_rotations_total') >= 1, 'rotation counted')
})

t.test('copytruncate and truncation: restart at 0, nothing lost after the truncation', async (t) => {
  const { dir, make } = setup(t)
  const p = join(dir, 'ct.log')
  writeFileSync(p, lines('c', 0, 100))
  const src = make([p])
  await src.start()
  const got: LogEvent[] = []
  await drain(src, got, () => numbers(got, 'c').length >= 100)
  // copytruncate: copy to a name the glob does not match, truncate in place, keep writing.
  writeFileSync(join(dir, 'ct.log.1'), readFileSync(p))
  truncateSync(p, 0)
  appendFileSync(p, lines('c', 100, 80))
  await drain(src, got, () => numbers(got, 'c').length >= 180)
  assertExactly(t, got, 'c', 180)
  t.equal(src.counters.get('log_source_truncations_total'), 1, 'truncation counted')
})

t.test('copytruncate written past the old read position before the next look: still seen, nothing lost', async (t) => {
  const { dir, make } = setup(t)
  const p = join(dir, 'ct2.log')
  writeFileSync(p, lines('d', 0, 20))
  const src = make([p])
  await src.start()
  const got: LogEvent[] = []
  await drain(src, got, () => numbers(got, 'd').length >= 20)
  // In one synchronous step (no look in between): truncate, then write MORE than the file
  // held, so its size is past the read position and only the changed head shows it.
  const before = readFileSync(p).length
  truncateSync(p, 0)
  appendFileSync(p, lines('d', 20, 40))
  t.ok(readFileSync(p).length > before, 'the rewritten file is longer than the old read position')
  await drain(src, got, () => numbers(got, 'd').length >= 60)
  assertExactly(t, got, 'd', 60)
  t.equal(src.counters.get('log_source_truncations_total'), 1, 'truncation counted')
  // Plain growth afterwards is not mistaken for another truncation.
  appendFileSync(p, lines('d', 60, 10))
  await drain(src, got, () => numbers(got, 'd').length >= 70)
  assertExactly(t, got, 'd', 70)
  t.equal(src.counters.get('log_source_truncations_total'), 1, 'growth is not a truncation')
})

t.test('files that appear later, deleted-but-open files, gzip rotations, partial lines, CRLF, long lines, invalid UTF-8', async (t) => {
  const { dir, make } = setup(t)
  const src = make([join(dir, '*')], { maxLineBytes: 64 })
  await src.start()
  await sleep(100)
  writeFileSync(join(dir, 'late.log'), lines('l', 0, 20))
  writeFileSync(join(dir, 'old.log.2.gz'), gzipSync(lines('z', 0, 20)))
  const del = join(dir, 'del.log')
  writeFileSync(del, lines('d', 0, 10))
  const got: LogEvent[] = []
  await drain(src, got, () => numbers(got, 'd').length >= 10 && numbers(got, 'l').length >= 20)
  appendFileSync(del, lines('d', 10, 10))
  unlinkSync(del)
  writeFileSync(join(dir, 'misc.log'), Buffer.concat([
    Buffer.from('crlf line\r\n'),
    Buffer.from(`${'x'.repeat(200)}\n`),
    Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x0a]),
    Buffer.from('partial without newline'),
  ]))
  await drain(src, got, () => numbers(got, 'd').length >= 20 && got.some((e) => e.message === 'partial without newline'))
  assertExactly(t, got.filter((e) => e.message.startsWith('d ')), 'd', 20)
  t.equal(numbers(got, 'l').length, 20, 'late file read')
  t.equal(numbers(got, 'z').length, 0, 'gzip rotation not read')
  t.ok(got.some((e) => e.message === 'crlf line'), 'CR removed')
  const long = got.find((e) => e.message.startsWith('xxxx'))
  t.equal(long?.message.length, 64, 'long line cut at maxLineBytes')
  t.equal(long?.['telltale.truncated'], true, 'and marked')
  const bad = got.find((e) => e.message.startsWith('bad'))
  t.equal(bad?.['telltale.invalid_utf8'], true, 'invalid UTF-8 kept and marked')
  t.equal(bad?.['telltale.parse_failure'], true, 'unparseable line kept raw and marked')
  t.ok(src.counters.get('log_source_parse_failures_total') > 0, 'parse failures counted')
})

t.test('checkpoints advance only on ack: an unacked batch is re-sent after restart, acked ones are not', async (t) => {
  const { dir, make } = setup(t)
  const p = join(dir, 'ck.log')
  writeFileSync(p, lines('k', 0, 50))
  const a = make([p], { queueCapacity: 10, readChunkBytes: 32 })
  await a.start()
  const first = await a.read(10, 2000)
  t.ok(first, 'first batch')
  await a.ack(first!.upTo)
  const second = await a.read(10, 2000) // handed out, never acknowledged
  t.ok(second, 'second batch')
  await sleep(300)
  const snap = a.snapshot()
  t.ok(snap.log_source_queued_events! <= 10 + 4, `queue held at capacity (+ at most one read chunk): ${snap.log_source_queued_events}`)
  t.ok(snap.log_source_lines_total! < 50, `reading paused (backpressure), ${snap.log_source_lines_total} of 50 lines read`)
  t.ok(snap.log_source_lag_bytes! > 0, 'lag grows while paused')
  t.ok(a.counters.get('log_source_backpressure_waits_total') > 0, 'backpressure counted')
  await a.stop()
  const b = make([p])
  await b.start()
  const got: LogEvent[] = [...first!.events]
  await drain(b, got, () => numbers(got, 'k').length >= 50)
  assertExactly(t, got, 'k', 50)
  const n1 = first!.events.length
  t.same(numbers(got, 'k').slice(n1, n1 + second!.events.length), numbers(second!.events, 'k'), 'the unacknowledged batch is the one re-sent')
})

t.test('start says once whether the globs matched anything (a typo is visible, not silent)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-tail-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'a.log'), 'x\n')
  const said: Array<[string, string]> = []
  const log = { warn: (_o: object, m: string) => said.push(['warn', m]), info: (_o: object, m: string) => said.push(['info', m]), debug: () => {}, error: () => {} }
  const none = new FileSource(fileSourceConfig({ name: 'none', include: [join(dir, 'nomatch-*.log')], stateDir: join(dir, 's1') }), { log: log as never })
  await none.start()
  await none.stop()
  const some = new FileSource(fileSourceConfig({ name: 'some', include: [join(dir, '*.log')], stateDir: join(dir, 's2') }), { log: log as never })
  await some.start()
  await some.stop()
  t.same(said, [['warn', 'no file matches this log source yet; files that appear later are picked up'], ['info', 'tailing log files']])
})
