// hasAddr (collector/detection/net-match.ts) answers as CidrSet.has(addrText(bytes)) — the
// text path parses with ipaddr.js; the byte path is what detection uses per flow.
import t from 'tap'
import fc from 'fast-check'
import { addrText, CidrSet, DEFAULT_LOCAL_NETS, hasAddr } from '../collector/detection/net-match.js'
import { ip4Text } from '../collector/util/ip4-text.js'

const SETS = [
  DEFAULT_LOCAL_NETS, ['10.0.0.0/8'], ['2001:db8::/33', '::ffff:0:0/96', 'fe80::1'], ['::/0'],
  ['2001:db8:8000::/35', '1.2.3.4'], ['::/1', 'fc00::/7', '2001:db8::/127'], [],
].map((c) => new CidrSet(c))

t.test('the same answer as the text path', async (t) => {
  // Bytes drawn mostly from values that sit on the nets' edges, some addresses IPv4-mapped.
  const byte = fc.oneof(fc.constantFrom(0, 0, 0xff, 0xfc, 0xfd, 0xfe, 0x80, 0x20, 0x01, 0x0d, 0xb8, 10), fc.integer({ min: 0, max: 255 }))
  const addr = fc.oneof(
    fc.array(byte, { minLength: 4, maxLength: 4 }),
    fc.array(byte, { minLength: 16, maxLength: 16 }),
    fc.array(byte, { minLength: 4, maxLength: 4 }).map((v4) => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4]),
    fc.array(byte, { minLength: 0, maxLength: 6 }),
  )
  fc.assert(fc.property(addr, (a) => {
    const b = Uint8Array.from(a)
    for (const s of SETS) if (hasAddr(s, b) !== s.has(addrText(b))) return false
    return true
  }), { numRuns: 20_000 })
  t.pass()
})

t.test('IPv4 text from the cache is the dotted text', async (t) => {
  for (const [a, b, c, d] of [[0, 0, 0, 0], [10, 0, 2, 255], [255, 255, 255, 255], [192, 168, 1, 7]] as const) {
    t.equal(ip4Text(a, b, c, d), `${a}.${b}.${c}.${d}`)
    t.equal(addrText(Uint8Array.of(a, b, c, d)), `${a}.${b}.${c}.${d}`)
  }
})
