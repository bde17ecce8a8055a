// The flow host index in buckets (`fb`, collector/storage/host-buckets.ts): every address of
// a batch is found in its bucket with exactly its postings, at most 64 keys per batch, a
// damaged value never throws, and a store written with the older one-key-per-address `fh`
// index answers host and CIDR queries and expires as before.
import t from 'tap'
import fc from 'fast-check'
import { IndexPuts } from '../collector/storage/index-puts.js'
import { keys } from '../collector/storage/keys.js'
import { bucketEntries, HOST_BUCKETS, hostBucket, indexAddressOf16, postingsInRange, postingsOfAddress, type IndexAddress } from '../collector/storage/host-buckets.js'
import { encodePostings } from '../collector/storage/postings.js'
import { levelBatchRecorder } from './helpers/level-batch-recorder.js'
import { ADMIN, batch, enrollAgent, post, startCollector } from './collector-fixtures.js'
import { encodeBatch, type AppRecordProperties } from '../protocol/index.js'

const addr16 = (a: IndexAddress): Buffer => {
  if (typeof a === 'string') return Buffer.from(a, 'latin1')
  const out = Buffer.alloc(16); out[10] = 0xff; out[11] = 0xff; out.writeUInt32BE(a >>> 0, 12); return out
}
const ascending = fc.uniqueArray(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 200 }).map((a) => a.sort((x, y) => x - y))
// IPv6 addresses that are not IPv4-mapped (those are IPv4 numbers in the index).
const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((a) => a[0] !== 0).map((a) => Buffer.from(a).toString('latin1'))
const address = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), v6)

t.test('every address is in its bucket with exactly its postings; one key per non-empty bucket', async (t) => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.tuple(address, ascending), { selector: ([a]) => a, maxLength: 300 }),
    address,
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 2 ** 40 }),
    (list, other, minTs, n) => {
      const hosts = new Map(list)
      const { b, puts } = levelBatchRecorder()
      new IndexPuts(b).hostBuckets(0x66, 0x62, hosts, minTs, n)
      const buckets = new Set([...hosts.keys()].map(hostBucket))
      if (puts.length !== buckets.size || puts.length > HOST_BUCKETS) return false
      const byKey = new Map(puts.map(([k, v]) => [k.toString('hex'), v]))
      for (const [a, ids] of hosts) {
        const v = byKey.get(keys.flowHostBucket(hostBucket(a), minTs, n).toString('hex'))
        if (v === undefined) return false
        t.same(postingsOfAddress(v, a), ids)
      }
      // Every entry stored is one of the batch's addresses with its postings, nothing else.
      const all = puts.flatMap(([, v]) => bucketEntries(v))
      t.equal(all.length, hosts.size)
      for (const e of all) {
        const a = indexAddressOf16(e.addr16)!
        t.same(e.indexes, hosts.get(a))
        t.equal(encodePostings(e.indexes).length > 0, true)
      }
      if (!hosts.has(other)) {
        const v = byKey.get(keys.flowHostBucket(hostBucket(other), minTs, n).toString('hex'))
        if (v !== undefined && postingsOfAddress(v, other) !== undefined) return false
      }
      return true
    }), { numRuns: 150 })
})

t.test('an IPv4 address is one index address whether given in 4 or IPv4-mapped 16 bytes', (t) => {
  const mapped = Buffer.from('00000000000000000000ffffc0000207', 'hex')
  t.equal(indexAddressOf16(mapped), 0xc0000207)
  t.equal(hostBucket(indexAddressOf16(mapped)!), hostBucket(0xc0000207))
  const v6a = Buffer.from('20010db8000000000000000000000001', 'hex')
  t.equal(indexAddressOf16(v6a), v6a.toString('latin1'))
  t.equal(indexAddressOf16(Buffer.alloc(4)), undefined, 'not a 16-byte form')
  // The buckets are spread: 10,000 consecutive client addresses fill all 64.
  const seen = new Set<number>()
  for (let i = 0; i < 10_000; i++) seen.add(hostBucket(0x0a000000 + i))
  t.equal(seen.size, HOST_BUCKETS)
  t.end()
})

t.test('postingsInRange returns the entries whose address lies in the block', (t) => {
  fc.assert(fc.property(fc.uniqueArray(fc.tuple(address, ascending), { selector: ([a]) => a, maxLength: 60 }), address, address, (list, x, y) => {
    const [lo, hi] = Buffer.compare(addr16(x), addr16(y)) <= 0 ? [addr16(x), addr16(y)] : [addr16(y), addr16(x)]
    const { b, puts } = levelBatchRecorder()
    new IndexPuts(b).hostBuckets(0x66, 0x62, new Map(list), 1, 1)
    const got = puts.flatMap(([, v]) => postingsInRange(v, lo, hi)).map((l) => l.join(',')).sort()
    const want = list.filter(([a]) => Buffer.compare(addr16(a), lo) >= 0 && Buffer.compare(addr16(a), hi) <= 0).map(([, ids]) => ids.join(',')).sort()
    t.same(got, want)
    return true
  }), { numRuns: 100 })
  t.end()
})

t.test('damaged bucket values never throw', (t) => {
  const { b, puts } = levelBatchRecorder()
  new IndexPuts(b).hostBuckets(0x66, 0x62, new Map<IndexAddress, number[]>([[1, [0, 5]], ['\u0020'.repeat(16), [3]], [7, [1, 2, 900]]]), 1, 1)
  const real = puts.map(([, v]) => v)
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.tuple(fc.constantFrom(...real), fc.nat(), fc.nat(255)).map(([v, i, x]) => { const c = Buffer.from(v); if (c.length > 0) c[i % c.length] = x; return c }), fc.tuple(fc.constantFrom(...real), fc.nat()).map(([v, i]) => v.subarray(0, i % (v.length + 1)))), address, (v, a) => {
    postingsOfAddress(v, a)
    postingsInRange(v, Buffer.alloc(16), Buffer.alloc(16, 0xff))
    bucketEntries(v)
    return true
  }), { numRuns: 2000 })
  t.end()
})

t.test('a store with the older `fh` index answers host and CIDR queries the same, and expires it', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  for (let s = 1; s <= 3; s++) t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, s, 700)))).statusCode, 200)
  const auth = { authorization: `Bearer ${ADMIN}` }
  const ask = async (q: string): Promise<string[]> => {
    const r = (await c.app.inject({ method: 'GET', url: `/api/v1/flows?${q}&limit=1000`, headers: auth })).json() as { flows: Array<{ uid: string }> }
    return r.flows.map((f) => f.uid)
  }
  const queries = ['host=10.0.134.160', 'host=192.0.2.3', 'cidr=10.0.134.0/24', 'cidr=192.0.2.0/31', 'host=10.9.9.9']
  const before = await Promise.all(queries.map(ask))
  t.ok(before[0]!.length > 0 && before[1]!.length > 250 && before[2]!.length > 50, `the queries find flows: ${before.map((b) => b.length).join(' ')}`)
  t.equal(before[4]!.length, 0)
  // Rewrite batch 2's buckets as the older format: one `fh` key per address.
  const db = c.store.db
  const ops: Array<{ type: 'put' | 'del'; key: Buffer; value?: Buffer }> = []
  let rewritten = 0
  for await (const [k, v] of db.entries({ gte: Buffer.from('fb\u0000', 'latin1'), lt: Buffer.from('fb\u0001', 'latin1') })) {
    const n = k.readUInt32BE(k.length - 4)
    if (n !== 2) continue
    const minTs = k.readUInt32BE(4) * 2 ** 32 + k.readUInt32BE(8)
    for (const e of bucketEntries(v)) { ops.push({ type: 'put', key: keys.flowByHost(e.addr16, minTs, n), value: encodePostings(e.indexes) }); rewritten++ }
    ops.push({ type: 'del', key: k })
  }
  const wb = db.batch()
  for (const op of ops) { if (op.type === 'put') wb.put(op.key, op.value!); else wb.del(op.key) }
  await wb.write(); await wb.close()
  t.ok(rewritten > 300, `${rewritten} addresses of batch 2 moved to fh keys`)
  c.store.flows.clearCaches()
  t.same(await Promise.all(queries.map(ask)), before, 'the same answers from a mixed store')
  const server = Buffer.from('00000000000000000000ffffc0000203', 'hex')
  const seen: number[] = []
  for await (const p of c.store.flows.postingsStream({ kind: 'host', addr16: server }, 0, Number.MAX_SAFE_INTEGER)) seen.push(p.n)
  t.same(seen.sort(), [1, 2, 3], 'the host postings stream reads both forms')
  await c.store.retention.expireFlows(Number.MAX_SAFE_INTEGER)
  t.equal(await c.store.flows.countKeys('fh'), 0, 'fh expired')
  t.equal(await c.store.flows.countKeys('fb'), 0, 'fb expired')
})

t.test('app rows: `ab` buckets, and a store with the older `ah` postings pages the same', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const T0 = 1_700_000_000_000_000
  const ip = (b: Buffer): string => [...b].join('.')
  const rec = (s: number, i: number): AppRecordProperties => {
    const orig = Buffer.from([10, 0, s, i % 40]); const resp = Buffer.from([10, 0, 0, 53 + (i % 3)])
    return { log: 'dns', tsUs: T0 + s * 1_000_000 + i, uid: `C${s}x${i}`, origH: orig, respH: resp, respP: 53, zeekJson: JSON.stringify({ ts: (T0 + s * 1_000_000 + i) / 1e6, uid: `C${s}x${i}`, 'id.orig_h': ip(orig), 'id.resp_h': ip(resp), 'id.resp_p': 53 }) }
  }
  for (let s = 1; s <= 3; s++) t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, s, 0, { appRecords: Array.from({ length: 120 }, (_, i) => rec(s, i)) })))).statusCode, 200)
  t.ok(await c.store.flows.countKeys('ab') > 0 && await c.store.flows.countKeys('ab') <= 3 * HOST_BUCKETS, 'at most 64 host keys per batch')
  const auth = { authorization: `Bearer ${ADMIN}` }
  // Every page of a host query, 7 rows a page (the cursor resumes inside the postings stream).
  const pages = async (host: string): Promise<string[]> => {
    const out: string[] = []
    let cursor = ''
    for (let i = 0; i < 200; i++) {
      const r = (await c.app.inject({ method: 'GET', url: `/api/v1/app-records?host=${host}&limit=7${cursor}`, headers: auth })).json() as { app_records: Array<{ uid: string }>; next_cursor: string | null }
      out.push(...r.app_records.map((x) => x.uid))
      if (r.next_cursor === null) break
      cursor = `&cursor=${encodeURIComponent(r.next_cursor)}`
    }
    return out
  }
  const hostsAsked = ['10.0.0.53', '10.0.2.7', '10.0.0.54', '10.0.9.9']
  const before = await Promise.all(hostsAsked.map(pages))
  t.equal(before[0]!.length, 120, '10.0.0.53 answers a third of the 360 rows')
  t.equal(before[1]!.length, 3, '10.0.2.7 is in batch 2 only')
  t.equal(before[3]!.length, 0)
  const db = c.store.db
  const wb = db.batch()
  let moved = 0
  for await (const [k, v] of db.entries({ gte: Buffer.from('ab\u0000', 'latin1'), lt: Buffer.from('ab\u0001', 'latin1') })) {
    if (k.readUInt32BE(k.length - 4) !== 2) continue
    const minTs = k.readUInt32BE(4) * 2 ** 32 + k.readUInt32BE(8)
    for (const e of bucketEntries(v)) { wb.put(keys.appByHost(e.addr16, minTs, 2), encodePostings(e.indexes)); moved++ }
    wb.del(k)
  }
  await wb.write(); await wb.close()
  t.ok(moved >= 40, `${moved} addresses of batch 2 moved to ah keys`)
  t.same(await Promise.all(hostsAsked.map(pages)), before, 'the same pages from a mixed store')
  await c.store.retention.expireAppRecords(Number.MAX_SAFE_INTEGER)
  t.equal(await c.store.flows.countKeys('ah'), 0, 'ah expired')
  t.equal(await c.store.flows.countKeys('ab'), 0, 'ab expired')
})
