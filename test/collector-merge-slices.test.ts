// The topology merge works in slices (topology.merge_slice_ms): other work runs between the
// slices of a large batch, the result is the same as one piece, and a flush asked for in the middle of a merge persists whole batches only (the
// watermark stays exact across a restart).
import t from 'tap'
import { encodeBatch } from '../protocol/index.js'
import { batch, enrollAgent, post, startCollector, topologyTotals } from './collector-fixtures.js'

const snapshot = topologyTotals

t.test('a sliced merge yields to the event loop and equals a merge in one piece', async (t) => {
  const sliced = await startCollector({ 'topology.merge_slice_ms': 0 })
  const whole = await startCollector({ 'topology.merge_slice_ms': 1000 })
  t.teardown(async () => { await sliced.close(); await whole.close() })
  const a = await enrollAgent(sliced, 1)
  const b = await enrollAgent(whole, 1)
  let ticks = 0
  let ticking = true
  const tick = (): void => { ticks++; if (ticking) setImmediate(tick) }
  setImmediate(tick)
  for (let s = 1; s <= 3; s++) t.equal((await post(sliced, a.secret, encodeBatch(batch(a.agentId, s, 3000)))).statusCode, 200)
  await sliced.api.topology.idle()
  ticking = false
  for (let s = 1; s <= 3; s++) t.equal((await post(whole, b.secret, encodeBatch(batch(b.agentId, s, 3000)))).statusCode, 200)
  t.ok(sliced.api.topology.counters.merge_yields >= 3 * Math.floor(2999 / 128), `yielded between slices (${sliced.api.topology.counters.merge_yields})`)
  t.ok(ticks > sliced.api.topology.counters.merge_yields / 2, `other callbacks ran during the merges (${ticks})`)
  t.equal(sliced.api.topology.counters.batches_merged, 3, 'every acked batch is merged')
  const x = await snapshot(sliced)
  t.equal(x.unique, 9000)
  t.same(x, await snapshot(whole), 'same hosts, edges, unique flows and bytes')
})

t.test('a flush asked for during a sliced merge waits for the whole batch: exact after a restart', async (t) => {
  let c = await startCollector({ 'topology.merge_slice_ms': 0, 'topology.flush_interval_ms': 60_000 })
  const dir = c.dir
  const a = await enrollAgent(c, 1)
  t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, 1, 2000)))).statusCode, 200)
  const pending = post(c, a.secret, encodeBatch(batch(a.agentId, 2, 4000)))
  // Ask for a flush while batch 2 is being merged.
  let flushed: Promise<void> | undefined
  const ask = (): void => { if (c.api.topology.counters.merge_yields > 0) flushed = c.api.topology.flush(); else setImmediate(ask) }
  setImmediate(ask)
  t.equal((await pending).statusCode, 200)
  await c.api.topology.idle()
  t.ok(flushed !== undefined, 'the flush was asked for between slices')
  await flushed
  const before = await snapshot(c)
  t.equal(before.unique, 6000)
  await c.app.close()
  c = await startCollector({}, dir)
  t.teardown(async () => { await c.close() })
  // (unique_flows counts merges since the process started; hosts, edges and bytes are stored.)
  const after = await snapshot(c)
  t.same({ ...after, unique: before.unique }, before, 'the restart neither lost nor replayed a part of a batch')
  t.equal(after.bytes, 6000 * 2800, 'every flow\'s bytes counted once')
})
