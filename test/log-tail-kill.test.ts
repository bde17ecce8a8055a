import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_BIN } from './helpers/paths.js'
import { lines, sleep } from './helpers/log-tail-harness.js'

/**
 * A real `telltale-agent tail-logs` process is killed with SIGKILL several times while the
 * log grows; after the last restart every line is in the NDJSON output, and after dedup by
 * event id (fingerprint:offset) each exactly once. Duplicates before dedup are bounded by
 * one batch per kill (the written-but-unacknowledged batch).
 */
const BATCH = 50
const KILLS = 4
const PER_ROUND = 400

function readOut(path: string): Array<{ id: string; msg: string }> {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.length > 0).flatMap((l) => {
    try {
      const e = JSON.parse(l) as { 'event.id': string; message: string }
      return [{ id: e['event.id'], msg: e.message }]
    } catch {
      return [] // a torn last line from the kill: its batch was never acknowledged, it is re-sent
    }
  })
}

t.test('kill -9 of tail-logs neither loses nor (after dedup) repeats lines', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-kill-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const log = join(dir, 'app.log')
  const out = join(dir, 'out.ndjson')
  const state = join(dir, 'state')
  let child: ChildProcess | null = null
  const startAgent = (): ChildProcess => spawn(process.execPath, [AGENT_BIN, 'tail-logs', join(dir, '*.log'), '--state-dir', state, '--out', out, '--batch', String(BATCH)], { stdio: ['ignore', 'ignore', 'pipe'] })
  let written = 0
  for (let round = 0; round < KILLS; round++) {
    child = startAgent()
    for (let k = 0; k < 4; k++) {
      appendFileSync(log, lines('k', written, PER_ROUND / 4))
      written += PER_ROUND / 4
      await sleep(40 + round * 15)
    }
    child.kill('SIGKILL')
    await new Promise((r) => child!.once('exit', r))
  }
  child = startAgent()
  const deadline = Date.now() + 20000
  while (Date.now() < deadline) {
    const ids = new Set(readOut(out).map((e) => e.id))
    if (ids.size >= written) break
    await sleep(100)
  }
  child.kill('SIGTERM')
  await new Promise((r) => child!.once('exit', r))
  const events = readOut(out)
  const byId = new Map(events.map((e) => [e.id, e.msg]))
  const nums = [...byId.values()].map((m) => Number(m.slice(7))).sort((a, b) => a - b)
  t.equal(byId.size, written, `${written} lines in, ${byId.size} distinct events out`)
  t.same(nums, Array.from({ length: written }, (_, i) => i), 'every line exactly once after dedup by event id')
  const dups = events.length - byId.size
  t.ok(dups <= KILLS * BATCH, `duplicates before dedup (${dups}) ≤ one batch per kill (${KILLS * BATCH})`)
  t.comment(`kill -9 ×${KILLS}: ${written} lines, ${events.length} events written, ${dups} re-sent after kills`)
})
