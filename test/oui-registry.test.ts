/**
 * MAC vendors from the IEEE registry (protocol/oui-registry.ts): the byte index of
 * `oui-data`'s JSON answers what the package parsed the ordinary way says, with the longest
 * registered prefix (MA-S, MA-M, MA-L) winning; the flat-object scanner finds every value of
 * any JSON object of strings and never throws on other bytes.
 */
import t from 'tap'
import fc from 'fast-check'
import { createRequire } from 'node:module'
import { indexFlatJsonObject, macVendor } from '../protocol/oui-registry.js'

const table = createRequire(import.meta.url)('oui-data') as Record<string, string>
const firstLine = (v: string): string => v.split('\n', 1)[0]!.trim()

/** The vendor as a plain reading of the parsed package gives it: longest listed prefix. */
function expected(hex: string): string | undefined {
  if (parseInt(hex.slice(0, 2), 16) & 0x03) return undefined
  for (const bits of [9, 7, 6]) {
    const v = table[hex.slice(0, bits)]
    if (v !== undefined) return firstLine(v) || undefined
  }
  return undefined
}

const spelled = (hex: string, how: number): string => {
  const pairs = hex.match(/../g)!
  return how === 0 ? pairs.join(':').toLowerCase() : how === 1 ? pairs.join('-') : hex.toLowerCase()
}

t.test('every listed prefix: the same vendor as the parsed package, in any spelling', async (t) => {
  const keys = Object.keys(table)
  t.ok(keys.length > 40_000, `registry has ${keys.length} entries`)
  let checked = 0
  let mismatches = 0
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!
    // Pad to 48 bits with digits that vary with the entry (so longer listed blocks are hit too).
    const hex = (key + ((i * 2654435761) >>> 0).toString(16).toUpperCase().padStart(8, '0') + '000').slice(0, 12)
    const want = expected(hex)
    const got = macVendor(spelled(hex, i % 3))
    if (got !== want && mismatches++ < 5) t.equal(got, want, `${hex} (entry ${key})`)
    checked++
  }
  t.equal(mismatches, 0, `${checked} addresses, none differ`)
})

t.test('a 28-bit block is named by its own entry, not the 24-bit registration authority', async (t) => {
  const ma = Object.keys(table).find((k) => k.length === 7 && table[k.slice(0, 6)] !== undefined &&
    firstLine(table[k.slice(0, 6)]!) !== firstLine(table[k]!) && !(parseInt(k.slice(0, 2), 16) & 3))
  t.ok(ma !== undefined, 'oui-data lists 28-bit blocks under a listed 24-bit prefix')
  t.equal(macVendor(`${ma!}00000`), firstLine(table[ma!]!))
})

t.test('no vendor: locally administered, multicast, too short, not hex', async (t) => {
  t.equal(macVendor('02:00:00:00:00:01'), undefined)
  t.equal(macVendor('01:00:5e:00:00:01'), undefined)
  t.equal(macVendor('00:0'), undefined)
  t.equal(macVendor('zz:zz:zz:zz:zz:zz'), undefined)
  t.equal(macVendor(''), undefined)
})

t.test('flat-object index: every value of any JSON object of strings, at its offset', async (t) => {
  fc.assert(fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), fc.integer({ min: 0, max: 2 }), (obj, indent) => {
    const buf = Buffer.from(JSON.stringify(obj, null, indent))
    const idx = indexFlatJsonObject(buf)
    if (idx === undefined) return false
    // Keys are upper-cased by the index (registry prefixes are hex): compare those that stay distinct.
    for (const [k, v] of Object.entries(obj)) {
      const at = idx.get(k.toUpperCase())
      if (at === undefined) return false
      if (Object.keys(obj).filter((o) => o.toUpperCase() === k.toUpperCase()).length > 1) continue
      let end = at + 1
      while (buf[end] !== 0x22) end += buf[end] === 0x5c ? 2 : 1
      if (JSON.parse(buf.toString('utf8', at, end + 1)) !== v) return false
    }
    return idx.size === new Set(Object.keys(obj).map((k) => k.toUpperCase())).size
  }), { numRuns: 500 })
  t.pass('500 objects indexed')
})

t.test('flat-object index: other bytes give undefined or a map, never a throw', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    const r = indexFlatJsonObject(Buffer.from(bytes))
    return r === undefined || r instanceof Map
  }), { numRuns: 2000 })
  const sample = Buffer.from(JSON.stringify({ '00AA00': 'X\nY', '00BB00': 'Z' }))
  for (let cut = 0; cut < sample.length; cut++) {
    t.doesNotThrow(() => indexFlatJsonObject(sample.subarray(0, cut)))
  }
  t.equal(indexFlatJsonObject(Buffer.from('[1,2]')), undefined)
  t.equal(indexFlatJsonObject(Buffer.from('{"a":1}')), undefined, 'a value that is not a string')
})
