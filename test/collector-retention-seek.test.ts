// Retention reads each postings table group by group up to a time (postingsThrough): the
// keys it yields are exactly the table's keys with min_ts ≤ the bound, in every group, for
// every table layout (bucket, address, service text, port), whatever the mix of times.
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelDb } from '../collector/storage/level-db.js'
import { keys, KEY_PREFIX, minTsOfPostingsKey, prefixRange } from '../collector/storage/keys.js'
import { postingsThrough } from '../collector/storage/retention.js'

const SERVICES = ['d', 'dns', 'dnsx', 'http', 'ssl', 'é']

t.test('postingsThrough yields exactly the keys at or before the bound, per table', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-retention-seek-'))
  const db = new LevelDb(join(dir, 'store'), false)
  await db.open()
  t.teardown(async () => { await db.close(); rmSync(dir, { recursive: true, force: true }) })
  const entry = fc.record({ group: fc.nat(40), minTs: fc.oneof(fc.nat(20), fc.constant(2 ** 53 - 1)), n: fc.nat(1000) })
  await fc.assert(fc.asyncProperty(fc.array(entry, { maxLength: 120 }), fc.nat(21), async (entries, bound) => {
    const ops: Array<{ type: 'put'; key: Buffer; value: Buffer }> = []
    for (const e of entries) {
      const addr = Buffer.alloc(16)
      addr[15] = e.group
      for (const key of [
        keys.flowHostBucket(e.group % 64, e.minTs, e.n),
        keys.flowByHost(addr, e.minTs, e.n),
        keys.flowByService(SERVICES[e.group % SERVICES.length]!, e.minTs, e.n),
        keys.flowByPort(e.group % 3, e.group * 1000, e.minTs, e.n),
      ]) ops.push({ type: 'put', key, value: Buffer.alloc(0) })
    }
    await db.write(ops)
    for (const p of [KEY_PREFIX.flowHostBucket, KEY_PREFIX.flowByHost, KEY_PREFIX.flowByService, KEY_PREFIX.flowByPort] as const) {
      const want: string[] = []
      for await (const k of db.keys(prefixRange(p))) if (minTsOfPostingsKey(k) <= bound) want.push(k.toString('hex'))
      const got: string[] = []
      for await (const k of postingsThrough(db, p, bound)) got.push(k.toString('hex'))
      if (got.join() !== want.join()) return false
    }
    const dels: Array<{ type: 'del'; key: Buffer }> = []
    for await (const k of db.keys({})) dels.push({ type: 'del', key: k })
    await db.write(dels)
    return true
  }), { numRuns: 80, seed: 0x5ee1 })
  t.pass('equal to a full scan in every run')
})
