// FlowDedup (collector/topology/flow-dedup.ts): a Community ID with one entry is kept bare,
// several in an array; find picks the nearest start within the window (the first on ties),
// and eviction drops the oldest inserted entry whatever the shape, with the same results as a
// plain list per key.
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

t.test('one entry, several entries, window and ties', (t) => {
  const d = new FlowDedup(10, 100)
  const a = contrib(100, 1)
  d.add('x', a)
  t.equal(d.find('x', 105), a)
  t.equal(d.find('x', 111), undefined, 'outside the window')
  t.equal(d.find('y', 100), undefined)
  const b = contrib(108, 2)
  d.add('x', b)
  t.equal(d.find('x', 106), b, 'nearest start')
  t.equal(d.find('x', 104), a, 'equal distance: the first added')
  t.equal(d.entries, 2)
  t.end()
})

t.test('eviction drops the oldest entry, bare or in a list', (t) => {
  const d = new FlowDedup(1000, 3)
  const a = contrib(1, 1); const b = contrib(2, 2); const c = contrib(3, 3); const e = contrib(4, 4)
  d.add('x', a); d.add('x', b); d.add('y', c)
  d.add('z', e) // evicts a (oldest), x keeps b
  t.equal(d.find('x', 1), b)
  d.add('z', contrib(5, 5)) // evicts b: x is gone
  t.equal(d.find('x', 2), undefined)
  t.equal(d.find('y', 3), c)
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
      if (isAdd) { const c = contrib(ts, tag++); d.add(cid, c); l.add(cid, c) } else if (d.find(cid, ts) !== l.find(cid, ts)) return false
    }
    for (let k = 0; k < 5; k++) for (let ts = 0; ts <= 50; ts += 5) if (d.find(`c${k}`, ts) !== l.find(`c${k}`, ts)) return false
    return true
  }), { numRuns: 300 })
  t.end()
})
