// ip6Text (collector/util/ip6-text.ts) writes every IPv6 address as ipaddr.js's toString().
import t from 'tap'
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import { ip6Text } from '../collector/util/ip6-text.js'

const ref = (b: Uint8Array): string => ipaddr.fromByteArray(Array.from(b)).toString()

t.test('the same text as ipaddr.js', async (t) => {
  // Zero runs are what the compression is about: groups drawn mostly from 0.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.constant(1), fc.integer({ min: 0, max: 0xffff }))
  fc.assert(fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), fc.nat(8), (groups, off) => {
    const b = new Uint8Array(16 + off)
    groups.forEach((g, i) => { b[off + 2 * i] = g >> 8; b[off + 2 * i + 1] = g & 0xff })
    return ip6Text(b, off) === ref(b.subarray(off, off + 16))
  }), { numRuns: 20_000, seed: 0x7e31 })
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => ip6Text(b) === ref(b)), { numRuns: 5000, seed: 0x7e32 })
  for (const s of ['::', '::1', '1::', '2001:db8::1:0:0:1', '2001:db8:0:1:1:1:1:1', '1:0:0:2:0:0:0:3', '0:0:1:0:0:1:0:0', '::ffff:1.2.3.4', 'fe80::1']) {
    const b = new Uint8Array(ipaddr.parse(s).toByteArray())
    t.equal(ip6Text(b), ref(b), s)
  }
})
