/** A topology flush puts the bytes it always did (keys.*, UTF-8 values, varint /flows/top rows), built in one scratch buffer. */
import t from 'tap'
import fc from 'fast-check'
import { keys } from '../collector/storage/keys.js'
import type { LevelBatch } from '../collector/storage/level-db.js'
import { TopologyFlushBatch } from '../collector/storage/topology-store.js'

/** A batch that keeps copies of what is put (as level's native batch does). */
function recorder(): { b: LevelBatch; ops: string[] } {
  const ops: string[] = []
  const b: LevelBatch = {
    put: (k, v) => { ops.push(`put ${Buffer.from(k).toString('hex')} ${Buffer.from(v).toString('hex')}`) },
    putText: (k, v) => { ops.push(`put ${Buffer.from(k).toString('hex')} ${Buffer.from(v, 'utf8').toString('hex')}`) },
    del: (k) => { ops.push(`del ${Buffer.from(k).toString('hex')}`) },
    write: async () => undefined,
    close: async () => undefined,
  }
  return { b, ops }
}

/** The varints of earlier builds (storage/topology-store.ts). */
function varintsBefore(vals: number[]): Buffer {
  const out = Buffer.allocUnsafe(vals.length * 8)
  let p = 0
  for (let v of vals) {
    v = Math.max(0, Math.floor(v))
    while (v >= 0x80) { out[p++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80) }
    out[p++] = v
  }
  return out.subarray(0, p)
}

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constantFrom('', '10.0.0.1', 'mac:aa:bb:cc:dd:ee:ff', '\ud800x', 'x'.repeat(5000)))
const count = fc.oneof(fc.maxSafeNat(), fc.integer({ min: 0, max: 1000 }), fc.constantFrom(0, -1, 0.5, 127, 128, 2 ** 32, 2 ** 53 - 1))

t.test('hosts, edges and /flows/top rows: the same keys and values as built one by one', (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('host', 'edge', 'top'), text, text, fc.oneof(fc.maxSafeNat(), fc.constantFrom(-5, 0, 3_600_000_000)), fc.integer({ min: 0, max: 2 }), count, count, count), { maxLength: 12 }), (recs) => {
    const now = recorder()
    const before = recorder()
    const w = new TopologyFlushBatch(now.b)
    for (const [kind, id, value, bucketUs, group, flows, bytes, packets] of recs) {
      if (kind === 'host') { w.host(id, value); before.b.putText(keys.host(id), value) }
      else if (kind === 'edge') { w.edge(id, value); before.b.putText(keys.edge(id), value) }
      else { w.topRollup(bucketUs, group, id, { flows, bytes, packets }); before.b.put(keys.topRollup(bucketUs, group, id), varintsBefore([flows, bytes, packets])) }
    }
    return now.ops.length === before.ops.length && now.ops.every((o, i) => o === before.ops[i])
  }), { numRuns: 500 })
  t.pass('500 random flushes put the same bytes')
  t.end()
})
