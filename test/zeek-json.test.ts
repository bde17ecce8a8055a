// zeekJson's fast path (rows without byte strings or objects skip the replacer) writes the
// same text as the replacer path for every row: property-tested with random rows.
import t from 'tap'
import fc from 'fast-check'
import { zeekJson, zeekJsonReplacer } from '../agent/output/zeek-json.js'

const scalar = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(undefined), fc.constant(null), fc.constant(Number.NaN))
const bytes = fc.uint8Array({ maxLength: 12 }).map((a) => (a.length % 2 === 0 ? Buffer.from(a) : a))
const value = fc.oneof(scalar, bytes, fc.array(fc.oneof(scalar, bytes), { maxLength: 4 }), fc.array(fc.string(), { maxLength: 4 }), fc.dictionary(fc.string(), scalar, { maxKeys: 3 }))
const row = fc.dictionary(fc.oneof(fc.constantFrom('ts', 'uid', 'id.orig_h', 'query', 'answers', 'TTLs'), fc.string()), value, { maxKeys: 8 })

t.test('the fast path and the replacer path write the same text', async (t) => {
  fc.assert(fc.property(row, (r) => zeekJson(r) === JSON.stringify(r, zeekJsonReplacer)), { numRuns: 2000 })
  t.pass('2000 random rows')
  t.equal(zeekJson({ a: 1, q: 'x', l: ['a', 'b'], n: Number.NaN, u: undefined }), '{"a":1,"q":"x","l":["a","b"],"n":null}', 'plain row')
  t.equal(zeekJson({ q: Buffer.from([0x61, 0xff]) }), '{"q":"a\\\\xff"}', 'a byte string still goes through the replacer')
  t.equal(zeekJson({ l: [Buffer.from('ok')] }), '{"l":["ok"]}', 'a byte string inside an array too')
})
