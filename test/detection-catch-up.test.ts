// Detection skips nothing that was acked: when its in-memory queue is full it reads the
// batches it has not examined back from the store until it has caught up, and after a
// restart it reads back what was acked after its last save. A port scan spread over many
// small batches must come out as one alert either way.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { encodeBatch, PROTOCOL_VERSION, type FlowProperties } from '../protocol/index.js'
import { keys } from '../collector/storage/index.js'
import { ADMIN, enrollAgent, post, startCollector, type TestCollector } from './collector-fixtures.js'

const T0 = 1_700_000_000_000_000
const S = 1_000_000
const auth = { authorization: `Bearer ${ADMIN}` }

/** A half-open connection attempt from the scanner to port `port` (S0: no answer). */
function probe(port: number, s: number): FlowProperties {
  return {
    tsUs: T0 + s * S, origH: Buffer.from([10, 0, 0, 66]), respH: Buffer.from([10, 0, 0, 2]), origP: 50000, respP: port, proto: 1, connState: 1, history: 'S',
    durationUs: 0, origPkts: 1, origIpBytes: 44, respPkts: 0, respIpBytes: 0, uid: `Cp${port}`, ipProto: 6, communityIdDerived: true,
  }
}

/** Batch `seq` (1-based) of the scan: two probes each, 40 ports over 20 batches. */
const scanBatch = (agentId: string, seq: number) =>
  encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq, sentAtUs: T0, flows: [probe(1000 + 2 * (seq - 1), seq), probe(1001 + 2 * (seq - 1), seq + 0.5)] })

async function scanAlerts(c: TestCollector): Promise<{ src: string; count: number }[]> {
  await c.detection.detection.idle()
  return ((await c.app.inject({ method: 'GET', url: '/api/v1/alerts?type=port_scan&limit=100', headers: auth })).json() as { alerts: { src: string; count: number }[] }).alerts
}

t.test('a full queue: the batches it could not hold are read back from the store, none skipped', async (t) => {
  const c = await startCollector({ 'detection.queue_batches': 1 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  // Twenty batches acked while detection looks away; then handed over in one go, as a burst
  // of ingest does: the queue holds one, the rest are deferred to the store.
  const svc = c.detection.detection
  const handed: Parameters<typeof svc.enqueue>[0][] = []
  const enqueue = svc.enqueue.bind(svc)
  svc.enqueue = (b) => { handed.push(b) }
  for (let s = 1; s <= 20; s++) t.equal((await post(c, a.secret, scanBatch(a.agentId, s))).statusCode, 200)
  svc.enqueue = enqueue
  for (const b of handed) svc.enqueue(b)
  const alerts = await scanAlerts(c)
  const d = c.detection.detection.counters
  t.equal(d.get('detection_batches_total'), 20, 'every acked batch examined')
  t.equal(d.get('detection_dropped_batches_total'), 0)
  t.ok(d.get('detection_deferred_batches_total') > 0, 'the queue was full')
  t.ok(d.get('detection_caught_up_batches_total') > 0, 'and batches were read back')
  t.equal(alerts.length, 1, 'one port scan incident')
  t.equal(alerts[0]?.src, '10.0.0.66')
  t.equal(c.detection.detection.examined.watermark, 20, 'every number examined in order')
  t.equal(c.detection.detection.backlog, 0)
  // Caught up: later batches are handed over live again.
  t.equal((await post(c, a.secret, scanBatch(a.agentId, 21))).statusCode, 200)
  await c.detection.detection.idle()
  t.equal(d.get('detection_batches_total'), 21)
})

t.test('after a restart, what was acked but not examined before it is read back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-catch-up-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const c1 = await startCollector({}, dir)
  const a = await enrollAgent(c1, 1)
  t.equal((await post(c1, a.secret, scanBatch(a.agentId, 1))).statusCode, 200)
  await c1.detection.detection.idle()
  await c1.close() // saves the learned state and marks: batch 1 examined

  // The process dies after acking batches 2–20 and before detection examined them.
  const c2 = await startCollector({}, dir)
  c2.detection.detection.enqueue = () => {}
  for (let s = 2; s <= 20; s++) t.equal((await post(c2, a.secret, scanBatch(a.agentId, s))).statusCode, 200)
  t.same(await scanAlerts(c2), [], 'nothing examined in that life')
  // Retention took batch 11 (its record is gone): a number never to be read back.
  await c2.store.db.write([{ type: 'del', key: keys.batch(11) }])
  await c2.close()

  const c3 = await startCollector({}, dir)
  t.teardown(() => c3.close())
  const alerts = await scanAlerts(c3)
  t.equal(c3.detection.detection.counters.get('detection_caught_up_batches_total'), 18, 'batches 2–20 read back at start, but 11')
  t.equal(c3.detection.detection.counters.get('detection_passed_batches_total'), 1, 'the expired number passed')
  t.equal(alerts.length, 1, 'the scan is found')
  t.equal(c3.detection.detection.examined.watermark, 20)

  // Without kept state (state_save_interval_s 0) a restart starts at the newest batch.
  await c3.close()
  const c4 = await startCollector({ 'detection.state_save_interval_s': 0 }, dir)
  t.teardown(() => c4.close())
  await c4.detection.detection.idle()
  t.equal(c4.detection.detection.counters.get('detection_caught_up_batches_total'), 0)
  t.equal(c4.detection.detection.examined.watermark, 20)
})

t.test('detection disabled passes batches: enabling it later starts at the newest', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-catch-up-off-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const off = await startCollector({ 'detection.enabled': false }, dir)
  const a = await enrollAgent(off, 1)
  for (let s = 1; s <= 5; s++) t.equal((await post(off, a.secret, scanBatch(a.agentId, s))).statusCode, 200)
  t.equal(off.detection.detection.examined.watermark, 5, 'passed, not owed')
  await off.close()
  const on = await startCollector({}, dir)
  t.teardown(() => on.close())
  await on.detection.detection.idle()
  t.equal(on.detection.detection.counters.get('detection_caught_up_batches_total'), 0)
})
