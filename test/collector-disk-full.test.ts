// The collector's disk fills up: ingest answers 507 with Retry-After (nothing stored, agents
// retry), /readyz says why it is not ready, and once space is back ingest works again with
// nothing lost or stored twice. The data directory is a 1 MiB tmpfs this test mounts
// (root only; skipped with the reason otherwise).
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, batch, enrollAgent, gz, post, startCollector } from './collector-fixtures.js'

function mountTmpfs(dir: string, size: string): string | null {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' })
    return null
  } catch (err) {
    return `cannot mount a tmpfs here (${((err as { stderr?: Buffer }).stderr?.toString() ?? (err as Error).message).trim()}); needs root`
  }
}

t.test('disk full: 507 + Retry-After, /readyz not ready, and after space is back every batch stored once', async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'telltale-disk-full-'))
  const skip = mountTmpfs(mnt, '1m')
  if (skip !== null) { rmSync(mnt, { recursive: true, force: true }); t.pass(`skipped: ${skip}`); return }
  t.teardown(() => { try { execFileSync('umount', ['-l', mnt]) } catch { /* already gone */ } rmSync(mnt, { recursive: true, force: true }) })
  const c = await startCollector({}, join(mnt, 'data'))
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const ready = async (): Promise<{ statusCode: number; body: string }> => c.app.inject({ method: 'GET', url: '/readyz' })
  t.equal((await ready()).statusCode, 200, 'ready before')
  // Batches of incompressible-enough flows until the disk refuses one.
  let seq = 0
  let full: Awaited<ReturnType<typeof post>> | undefined
  while (seq < 200) {
    const r = await post(c, a.secret, gz(batch(a.agentId, ++seq, 2000)), { 'content-encoding': 'gzip' })
    if (r.statusCode !== 200) { full = r; break }
  }
  t.ok(full, `the 1 MiB disk filled up after ${seq - 1} batches`)
  t.equal(full?.statusCode, 507, full?.body ?? '')
  t.equal(full?.json().code, 'COLLECTOR_ERR_STORAGE_FULL')
  t.equal(full?.headers['retry-after'], '30', 'agents are asked to wait')
  const nr = await ready()
  t.equal(nr.statusCode, 503, 'not ready while the disk is full')
  t.match(nr.body, /disk is full/)
  const metrics = async (): Promise<string> => (await c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${ADMIN}` } })).body
  t.match(await metrics(), /telltale_store_write_failing\{reason="disk_full"\} 1/, 'the metric an alert can watch')
  // Space is back (the tmpfs grows); the refused batch is sent again, then one more.
  execFileSync('mount', ['-o', 'remount,size=64m', mnt])
  const again = await post(c, a.secret, gz(batch(a.agentId, seq, 2000)), { 'content-encoding': 'gzip' })
  t.equal(again.statusCode, 200, 'the refused batch is stored when sent again')
  t.equal((await post(c, a.secret, gz(batch(a.agentId, ++seq, 2000)), { 'content-encoding': 'gzip' })).statusCode, 200)
  t.equal((await ready()).statusCode, 200, 'ready again once a write worked')
  t.match(await metrics(), /telltale_store_write_failing\{reason="disk_full"\} 0/)
  const agent = (await c.app.inject({ method: 'GET', url: `/api/v1/agents/${a.agentId}`, headers: { authorization: `Bearer ${ADMIN}` } })).json() as { flows: number; batches: number }
  t.equal(agent.batches, seq, 'every batch stored exactly once')
  t.equal(agent.flows, seq * 2000, 'and every flow')
})
