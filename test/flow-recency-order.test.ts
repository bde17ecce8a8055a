/**
 * recencyOrder (agent/flow/recency-order.ts): indices by ascending stamp, the same order as a
 * plain comparator sort, whether the stamps pack into doubles (the fast path) or span too wide
 * a range for that (the comparator fallback).
 */
import t from 'tap'
import fc from 'fast-check'
import { recencyOrder } from '../agent/flow/recency-order.js'

function reference(stamps: number[]): number[] {
  return stamps.map((_s, i) => i).sort((a, b) => stamps[a]! - stamps[b]!)
}

t.test('same order as a comparator sort, packed or not', async (t) => {
  const stampSets = fc.oneof(
    // Packet-counter-like stamps: a narrow range, the packed path.
    fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { maxLength: 3000 }),
    // Offset far up: still packed (only the range counts).
    fc.uniqueArray(fc.integer({ min: 2 ** 40, max: 2 ** 40 + 100_000 }), { maxLength: 2000 }),
    // A range too wide to pack with the index below 2^53: the fallback.
    fc.uniqueArray(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2 ** 52, max: 2 ** 52 + 1000 })), { minLength: 2, maxLength: 500 }),
  )
  fc.assert(fc.property(stampSets, (stamps) => {
    const got = Array.from(recencyOrder(Float64Array.from(stamps)))
    const want = reference(stamps)
    return got.length === want.length && got.every((v, i) => v === want[i])
  }), { numRuns: 600 })
  t.pass('600 stamp sets')
})

t.test('edge sizes: empty, one, a power of two and one past it', async (t) => {
  t.same(Array.from(recencyOrder(new Float64Array(0))), [])
  t.same(Array.from(recencyOrder(Float64Array.from([7]))), [0])
  for (const n of [1024, 1025]) {
    const stamps = Array.from({ length: n }, (_v, i) => ((i * 7919) % n) * 3 + 5)
    t.same(Array.from(recencyOrder(Float64Array.from(stamps))), reference(stamps), `${n} stamps`)
  }
})
