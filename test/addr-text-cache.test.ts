/**
 * The address-text cache (flow/addr-text-cache.ts) must always answer formatAddr of the
 * address, whatever was cached before (collisions replace entries), and hand out one string
 * object per address while it stays cached.
 */
import t from 'tap'
import fc from 'fast-check'
import { addrTextOfWords } from '../agent/flow/addr-text-cache.js'
import { formatAddr } from '../agent/flow/addr-format.js'

function bytesOf(w: Int32Array, n: number): Uint8Array {
  const b = new Uint8Array(n * 4)
  for (let i = 0; i < n; i++) {
    const v = w[i]!
    b[i * 4] = v >>> 24; b[i * 4 + 1] = (v >>> 16) & 0xff; b[i * 4 + 2] = (v >>> 8) & 0xff; b[i * 4 + 3] = v & 0xff
  }
  return b
}

const words = fc.tuple(fc.boolean(), fc.array(fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constantFrom(0, 0xffff, -1)), { minLength: 5, maxLength: 5 }))

t.test('addrTextOfWords is formatAddr of the address bytes', async (t) => {
  fc.assert(fc.property(fc.array(words, { minLength: 1, maxLength: 50 }), (list) => {
    for (const [v6, ws] of list) {
      const w = Int32Array.from(ws)
      const n = v6 ? 4 : 1
      const want = formatAddr(bytesOf(w.subarray(1), n), 0, n * 4)
      if (addrTextOfWords(w, 1, v6) !== want) return false
    }
    return true
  }), { numRuns: 2000 })
  // The same four words as IPv4 (first word only) and IPv6 are different addresses.
  const w = Int32Array.from([0x0a000001, 0, 0, 0])
  t.equal(addrTextOfWords(w, 0, false), '10.0.0.1')
  t.equal(addrTextOfWords(w, 0, true), 'a00:1::')
  t.equal(addrTextOfWords(w, 0, false), '10.0.0.1')
  // 100k distinct addresses (many collisions), each checked.
  let bad = 0
  const one = new Int32Array(1)
  for (let i = 0; i < 100_000; i++) {
    one[0] = Math.imul(i, 2654435761)
    if (addrTextOfWords(one, 0, false) !== formatAddr(bytesOf(one, 1), 0, 4)) bad++
  }
  t.equal(bad, 0)
})
