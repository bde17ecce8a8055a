// FlowDedup (collector/topology/flow-dedup.ts): entries kept in columns by slot; a Community
// ID with one entry is kept bare, several in an array; find picks the nearest start within
// the window (the first on ties), and eviction drops the oldest inserted entry whatever the
// shape, with the same results as a plain list of entry objects per key.
import t from 'tap'
import fc from 'fast-check'
import { FlowDedup, type Contribution } from '../collector/topology/flow-dedup.js'

const contrib = (tsUs: number, tag: number): Contribution => ({
  agentId: `a${tag}`, tsUs, edgeId: 'e', src: 's', dst: 'd', bytesOut: tag, bytesIn: 0, packets: 1, missedBytes: 0, degraded: false, observers: undefined, dims: [],
})

/** The same behaviour as a list per Community ID (what FlowDedup kept before). */
class ListDedup {
  private readonly byCid = new Map<string, Contribution[]>()
  private readonly order: string[] = []
  constructor(readonly windowUs: number, readonly maxEntries: number) {}
  find(cid: string, tsUs: number): Contribution | undefined {
    let best: Contribution | undefined
    let bestD = Infinity
    for (const c of this.byCid.get(cid) ?? []) { const d = Math.abs(c.tsUs - tsUs); if (d <= this.windowUs && d < bestD) { best = c; bestD = d } }
    return best
  }
  add(cid: string, c: Contribution): void {
    if (this.order.length === this.maxEntries) {
      const old = this.order.shift()!
      const l = this.byCid.get(old)!
      l.shift()
      if (l.length === 0) this.byCid.delete(old)
    }
    const l = this.byCid.get(cid)
    if (l === undefined) this.byCid.set(cid, [c]); else l.push(c)
    this.order.push(cid)
  }
}

/** The tag (bytesOut) of the entry find gives, or undefined. */
const found = (d: FlowDedup, cid: string, tsUs: number): number | undefined => { const s = d.find(cid, tsUs); return s < 0 ? undefined : d.get(s).bytesOut }

t.test('one entry, several entries, window and ties', (t) => {
  const d = new FlowDedup(10, 100)
  const a = contrib(100, 1)
  d.add('x', a)
  t.same(d.get(d.find('x', 105)), a, 'every field kept')
  t.equal(d.find('x', 111), -1, 'outside the window')
  t.equal(d.find('y', 100), -1)
  const b = contrib(108, 2)
  d.add('x', b)
  t.equal(found(d, 'x', 106), 2, 'nearest start')
  t.equal(found(d, 'x', 104), 1, 'equal distance: the first added')
  t.equal(d.entries, 2)
  t.end()
})

t.test('eviction drops the oldest entry, bare or in a list', (t) => {
  const d = new FlowDedup(1000, 3)
  const a = contrib(1, 1); const b = contrib(2, 2); const c = contrib(3, 3); const e = contrib(4, 4)
  d.add('x', a); d.add('x', b); d.add('y', c)
  d.add('z', e) // evicts a (oldest), x keeps b
  t.equal(found(d, 'x', 1), b.bytesOut)
  d.add('z', contrib(5, 5)) // evicts b: x is gone
  t.equal(found(d, 'x', 2), undefined)
  t.equal(found(d, 'y', 3), c.bytesOut)
  t.equal(found(d, 'z', 4), e.bytesOut, 'an evicted slot reused')
  t.equal(found(d, 'z', 5), 5)
  t.equal(d.evicted, 2)
  t.equal(d.entries, 3)
  t.end()
})

t.test('same answers as a list per Community ID (random operations)', (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 50 })), { maxLength: 300 }), fc.integer({ min: 1, max: 12 }), (ops, max) => {
    const d = new FlowDedup(10, max)
    const l = new ListDedup(10, max)
    let tag = 0
    for (const [isAdd, k, ts] of ops) {
      const cid = `c${k}`
      if (isAdd) { const c = contrib(ts, tag++); d.add(cid, c); l.add(cid, c) } else if (found(d, cid, ts) !== l.find(cid, ts)?.bytesOut) return false
    }
    for (let k = 0; k < 5; k++) for (let ts = 0; ts <= 50; ts += 5) if (found(d, `c${k}`, ts) !== l.find(`c${k}`, ts)?.bytesOut) return false
    return true
  }), { numRuns: 300 })
  t.end()
})

t.test('set and setObservers change the entry in place; columns grow past 1024 entries', (t) => {
  const d = new FlowDedup(10, 5000)
  for (let i = 0; i < 3000; i++) d.add(`k${i}`, contrib(i * 100, i))
  const s = d.find('k2500', 250_000)
  t.equal(d.get(s).bytesOut, 2500, 'found after the columns grew')
  d.set(s, { ...contrib(250_000, 7), degraded: true, missedBytes: 3, packets: 9, dims: ['', 'p:tcp'] })
  d.setObservers(s, ['a1', 'a2'])
  t.same(d.get(d.find('k2500', 250_000)), { ...contrib(250_000, 7), degraded: true, missedBytes: 3, packets: 9, dims: ['', 'p:tcp'], observers: ['a1', 'a2'] })
  t.equal(d.get(d.find('k0', 0)).bytesOut, 0, 'the first entry kept through growth')
  d.clear()
  t.equal(d.find('k0', 0), -1)
  t.equal(d.entries, 0)
  t.end()
})
