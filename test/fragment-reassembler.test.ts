import t from 'tap'
import fc from 'fast-check'
import { FragmentReassembler, MAX_REASSEMBLED_PAYLOAD } from '../agent/decode/fragment-reassembler.js'

function payload(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    b[i] = x >>> 24
  }
  return b
}

/** Cuts `data` at the given offsets into [offset, more, view] fragments. */
function cut(data: Buffer, at: number[]): [number, boolean, Buffer][] {
  const edges = [0, ...at.filter((x) => x > 0 && x < data.length).sort((a, b) => a - b), data.length]
  const out: [number, boolean, Buffer][] = []
  for (let i = 0; i + 1 < edges.length; i++) {
    if (edges[i] === edges[i + 1]) continue
    out.push([edges[i]!, edges[i + 1]! < data.length, data.subarray(edges[i], edges[i + 1])])
  }
  return out
}

t.test('in order: complete on the last fragment, counters, nothing held afterwards', async (t) => {
  const r = new FragmentReassembler()
  const data = payload(3000)
  const frags = cut(data, [1480, 2960])
  t.equal(r.add('k', 1, frags[0]![0], frags[0]![1], frags[0]![2]), null)
  t.equal(r.add('k', 1, frags[1]![0], frags[1]![1], frags[1]![2]), null)
  const out = r.add('k', 1, frags[2]![0], frags[2]![1], frags[2]![2])
  t.same(out, data)
  t.equal(r.counters.get('fragments_received'), 3)
  t.equal(r.counters.get('datagrams_reassembled'), 1)
  t.equal(r.pending, 0)
  t.equal(r.heldBytes, 0)
})

t.test('out of order, and the caller may reuse its buffers (pieces are copied)', async (t) => {
  const r = new FragmentReassembler()
  const data = payload(2000, 7)
  const scratch = Buffer.alloc(2000)
  const frags = cut(data, [800, 1600]).reverse()
  let out: Buffer | null = null
  for (const [off, more, view] of frags) {
    view.copy(scratch, 0)
    out = r.add('k', 5, off, more, scratch.subarray(0, view.length))
    scratch.fill(0xee)
  }
  t.same(out, data)
})

t.test('separate keys do not mix', async (t) => {
  const r = new FragmentReassembler()
  const a = payload(100, 1)
  const b = payload(100, 2)
  t.equal(r.add('a', 0, 0, true, a.subarray(0, 48)), null)
  t.equal(r.add('b', 0, 48, false, b.subarray(48)), null)
  t.same(r.add('a', 0, 48, false, a.subarray(48)), a)
  t.same(r.add('b', 0, 0, true, b.subarray(0, 48)), b)
})

t.test('an unfragmented datagram (offset 0, no MF) is returned as a copy', async (t) => {
  const r = new FragmentReassembler()
  const d = payload(50)
  const out = r.add('k', 0, 0, false, d)
  t.same(out, d)
  t.not(out?.buffer, d.buffer)
})

t.test('IPv4 duplicates and overlaps: first data wins, Zeek weird names counted', async (t) => {
  const r = new FragmentReassembler()
  const data = payload(64, 3)
  t.equal(r.add('k', 0, 0, true, data.subarray(0, 32)), null)
  t.equal(r.add('k', 0, 0, true, data.subarray(0, 32)), null, 'exact duplicate')
  t.equal(r.counters.get('fragment_overlap'), 1)
  // Overlap [24, 40) with different bytes in the already-held part [24, 32).
  const evil = Buffer.from(data.subarray(24, 40))
  evil.fill(0xaa, 0, 8)
  t.equal(r.add('k', 0, 24, true, evil), null)
  t.equal(r.counters.get('fragment_inconsistency'), 1)
  const out = r.add('k', 0, 40, false, data.subarray(40))
  t.same(out, data, 'old bytes kept, the new fragment only filled [32, 40)')
})

t.test('IPv4: a fragment spanning a hole fills only the gaps', async (t) => {
  const r = new FragmentReassembler()
  const data = payload(100, 9)
  r.add('k', 0, 10, true, data.subarray(10, 20))
  r.add('k', 0, 40, true, data.subarray(40, 50))
  r.add('k', 0, 97, false, data.subarray(97))
  t.equal(r.add('k', 0, 0, true, data.subarray(0, 95)), null, 'covers 0..95 across held pieces')
  t.equal(r.counters.get('fragment_overlap'), 1)
  t.same(r.add('k', 0, 95, true, data.subarray(95, 97)), data)
})

t.test('IPv6 (RFC 5722): an overlap abandons the datagram; exact duplicates are tolerated', async (t) => {
  const r = new FragmentReassembler()
  const data = payload(96, 4)
  t.equal(r.add('v6', 0, 0, true, data.subarray(0, 48), true), null)
  t.equal(r.add('v6', 0, 0, true, data.subarray(0, 48), true), null, 'exact duplicate')
  t.equal(r.pending, 1, 'duplicate kept the datagram')
  t.same(r.add('v6', 0, 48, false, data.subarray(48), true), data)

  t.equal(r.add('v6b', 0, 0, true, data.subarray(0, 48), true), null)
  t.equal(r.add('v6b', 0, 40, false, data.subarray(40), true), null, 'overlapping (same bytes)')
  t.equal(r.counters.get('fragment_ipv6_overlap_dropped'), 1)
  t.equal(r.pending, 0, 'datagram discarded')
  t.equal(r.heldBytes, 0)
})

t.test('missing piece: nothing is returned, expire() drops it and counts fragment_timeout', async (t) => {
  const r = new FragmentReassembler({ timeoutSec: 30 })
  const data = payload(300)
  r.add('k', 100, 0, true, data.subarray(0, 100))
  r.add('k', 101, 200, false, data.subarray(200))
  r.expire(129)
  t.equal(r.pending, 1, 'not yet')
  r.expire(131)
  t.equal(r.pending, 0)
  t.equal(r.counters.get('fragment_timeout'), 1)
  t.equal(r.heldBytes, 0)
  t.equal(r.add('k', 132, 100, true, data.subarray(100, 200)), null, 'a late middle piece cannot complete it')
})

t.test('a fragment of a timed-out datagram starts a fresh one even without expire()', async (t) => {
  const r = new FragmentReassembler({ timeoutSec: 30 })
  const data = payload(100)
  r.add('k', 0, 0, true, data.subarray(0, 50))
  t.equal(r.add('k', 31, 50, false, data.subarray(50)), null)
  t.equal(r.counters.get('fragment_timeout'), 1)
})

t.test('memory bound: the oldest incomplete datagram is evicted and counted', async (t) => {
  const r = new FragmentReassembler({ maxBytes: 10_000 })
  const data = payload(4000)
  for (let i = 0; i < 10; i++) {
    r.add(`k${i}`, i, 0, true, data.subarray(0, 2000))
    t.ok(r.heldBytes <= 10_000, `held ${r.heldBytes} after ${i}`)
  }
  t.ok(r.counters.get('fragment_memory_evicted') >= 6)
  // The newest survive: k9 can complete, k0 cannot.
  t.same(r.add('k9', 10, 2000, false, data.subarray(2000)), data)
  t.equal(r.add('k0', 10, 2000, false, data.subarray(2000)), null)
})

t.test('datagram count bound: maxDatagrams', async (t) => {
  const r = new FragmentReassembler({ maxDatagrams: 3 })
  for (let i = 0; i < 5; i++) r.add(`k${i}`, i, 0, true, Buffer.alloc(8))
  t.equal(r.pending, 3)
  t.equal(r.counters.get('fragment_memory_evicted'), 2)
})

t.test('one datagram larger than the whole budget is dropped', async (t) => {
  const r = new FragmentReassembler({ maxBytes: 3000 })
  r.add('big', 0, 0, true, Buffer.alloc(1400))
  r.add('big', 0, 1400, true, Buffer.alloc(1400))
  t.equal(r.pending, 0)
  t.equal(r.counters.get('fragment_memory_evicted'), 1)
  t.ok(r.heldBytes <= 3000)
})

t.test('65535 limit: a fragment ending beyond it abandons the datagram', async (t) => {
  const r = new FragmentReassembler()
  r.add('k', 0, 0, true, Buffer.alloc(1000))
  t.equal(r.add('k', 0, 65528, false, Buffer.alloc(100)), null)
  t.equal(r.counters.get('excessively_large_fragment'), 1)
  t.equal(r.pending, 0)
  // Exactly at the limit is fine.
  const r2 = new FragmentReassembler()
  const big = payload(MAX_REASSEMBLED_PAYLOAD)
  r2.add('k', 0, 0, true, big.subarray(0, 65528))
  t.same(r2.add('k', 0, 65528, false, big.subarray(65528)), big)
})

t.test('conflicting last fragments: fragment_size_inconsistency, the larger length wins (Zeek)', async (t) => {
  const r = new FragmentReassembler()
  const data = payload(64)
  r.add('k', 0, 32, false, data.subarray(32, 48))
  r.add('k', 0, 48, false, data.subarray(48, 64))
  t.ok(r.counters.get('fragment_size_inconsistency') >= 1)
  t.same(r.add('k', 0, 0, true, data.subarray(0, 32)), data)
})

t.test('property: random fragmentation + shuffling (+ duplicates) reassembles the original', async (t) => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 1, maxLength: 4000 }),
    fc.array(fc.nat({ max: 4000 }), { maxLength: 20 }),
    fc.array(fc.nat(), { maxLength: 30 }),
    fc.boolean(),
    fc.array(fc.nat({ max: 30 }), { maxLength: 3 }),
    (bytes, cuts, order, ipv6, dups) => {
      const data = Buffer.from(bytes)
      const frags = cut(data, cuts)
      const list = [...frags]
      // Duplicates placed anywhere before the final position.
      for (const d of dups) list.splice(Math.min(d, list.length - 1), 0, frags[d % frags.length]!)
      // Fisher-Yates driven by `order`.
      for (let i = list.length - 1; i > 0; i--) {
        const j = (order[i % Math.max(order.length, 1)] ?? i) % (i + 1)
        const tmp = list[i]!
        list[i] = list[j]!
        list[j] = tmp
      }
      const r = new FragmentReassembler()
      const results: Buffer[] = []
      let completedAt = -1
      const seen = new Set<number>()
      let allSeenAt = -1
      list.forEach(([off, more, view], i) => {
        seen.add(off)
        if (allSeenAt < 0 && seen.size === frags.length) allSeenAt = i
        const out = r.add('k', 1, off, more, view, ipv6)
        if (out !== null) {
          results.push(out)
          if (completedAt < 0) completedAt = i
        }
      })
      // Complete exactly when the last distinct fragment arrived, with the original bytes.
      return results.length >= 1 && results[0]!.equals(data) && completedAt === allSeenAt
    },
  ), { numRuns: 300 })
  t.pass('300 random fragmentations reassembled')
})

t.test('property: random garbage never throws and memory stays bounded', async (t) => {
  const maxBytes = 20_000
  const maxDatagrams = 4
  fc.assert(fc.property(
    fc.array(fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'),
      dt: fc.double({ min: 0, max: 10, noNaN: true }),
      offset: fc.oneof(fc.nat({ max: 70_000 }), fc.integer({ min: -5, max: 100 })),
      more: fc.boolean(),
      len: fc.nat({ max: 3000 }),
      ipv6: fc.boolean(),
      expire: fc.boolean(),
    }), { maxLength: 60 }),
    (ops) => {
      const r = new FragmentReassembler({ maxBytes, maxDatagrams, timeoutSec: 20 })
      let ts = 0
      for (const op of ops) {
        ts += op.dt
        r.add(op.key, ts, op.offset, op.more, Buffer.alloc(op.len, 0x41), op.ipv6)
        if (op.expire) r.expire(ts)
        if (r.heldBytes > maxBytes || r.pending > maxDatagrams || r.heldBytes < 0) return false
        if (r.pending === 0 && r.heldBytes !== 0) return false
      }
      return true
    },
  ), { numRuns: 500 })
  t.pass('500 random sequences stayed within bounds')
})
