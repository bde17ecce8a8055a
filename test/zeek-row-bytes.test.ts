/**
 * ZeekRowEncoder (the application logs' rows written straight into bytes) must produce exactly
 * the row of the generic path, formatZeekRow over the values in field order, and never write
 * past the room maxBytes asked for; ZeekAsciiWriter.writeRecord (which uses it) must write the
 * same file as write().
 */
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ZeekRowEncoder } from '../agent/output/zeek-row-bytes.js'
import { formatZeekRow, ZeekAsciiWriter, type ZeekField } from '../agent/output/zeek-ascii-writer.js'
import type { ZeekType } from '../agent/output/zeek-value-format.js'

const TYPES: ZeekType[] = [
  'time', 'interval', 'string', 'addr', 'port', 'enum', 'count', 'int', 'double', 'bool',
  'set[string]', 'vector[string]', 'set[enum]', 'vector[addr]', 'vector[interval]',
]

const text = fc.oneof(
  fc.constantFrom('', '-', '(empty)', '#x', 'a,b', 'back\\slash', 'tab\there', '10.0.0.1', 'FD00:0::1', '::ffff:1.2.3.4', 'höst', '\u{1f600}', '\ud800'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }),
)
const bytes = fc.oneof(
  fc.uint8Array({ maxLength: 12 }),
  fc.constantFrom(Buffer.from('-'), Buffer.from('(empty)'), Buffer.from('(emptx)'), new Uint8Array([192, 168, 0, 1]), Buffer.from('a,b'), Buffer.from([0xc3, 0xa9])),
)
const num = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(0, -0, 1700000000.5, 1700000000.0000005, 0.0000005, 2 ** 53, 2 ** 53 + 2, -1.5, 1e21, 1e300, NaN, Infinity, -Infinity),
)
const scalar = fc.oneof(text, bytes, num, fc.boolean(), fc.constantFrom(undefined, null, 0n, 12345678901234567890n))
const value = fc.oneof(scalar, fc.array(scalar, { maxLength: 4 }))

t.test('encode writes formatZeekRow(fields, values) + newline, within maxBytes', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.constantFrom(...TYPES), value), { minLength: 1, maxLength: 8 }),
    (cols) => {
      const fields: ZeekField[] = cols.map(([type], i) => ({ name: `f${i}`, type }))
      const row: Record<string, unknown> = {}
      cols.forEach(([, v], i) => { row[`f${i}`] = v })
      const enc = new ZeekRowEncoder(fields)
      const max = enc.maxBytes(row)
      const b = Buffer.alloc(max + 16, 0xee)
      const end = enc.encode(b, 0)
      if (end > max) return false
      let got = b.subarray(0, end)
      if (got[0] === 0x23) got = Buffer.concat([Buffer.from('\\x23'), got.subarray(1)])
      const want = Buffer.from(formatZeekRow(fields, fields.map((f) => row[f.name])) + '\n', 'utf8')
      return got.equals(want)
    },
  ), { numRuns: 3000 })
  t.pass('equal')
})

t.test('writeRecord writes the same file as write, across buffer flushes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'zeek-row-bytes-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const fields: ZeekField[] = TYPES.map((type, i) => ({ name: `c${i}`, type }))
  const rows = fc.sample(fc.array(value, { minLength: TYPES.length, maxLength: TYPES.length }), 2000)
  const a = join(dir, 'a.log')
  const b = join(dir, 'b.log')
  const opts = { openTime: new Date(0), now: () => new Date(0), flushBytes: 4096 }
  const wa = new ZeekAsciiWriter(a, 'x', fields, opts)
  const wb = new ZeekAsciiWriter(b, 'x', fields, opts)
  for (const vals of rows) {
    const r: Record<string, unknown> = {}
    fields.forEach((f, i) => { r[f.name] = vals[i] })
    wa.writeRecord(r)
    wb.write(vals)
  }
  await wa.close()
  await wb.close()
  t.ok(readFileSync(a).equals(readFileSync(b)))
  t.equal(wa.rows, rows.length)
})
