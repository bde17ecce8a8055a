// IndexPuts writes the host and port postings from one scratch buffer: the same keys and
// values as keys.flowByHost / keys.appByHost / keys.flowByPort with encodePostings. And the
// index ingest builds has one entry per address, whether the agent sent it in 4 bytes or
// IPv4-mapped in 16.
import t from 'tap'
import fc from 'fast-check'
import { IndexPuts } from '../collector/storage/index-puts.js'
import { keys } from '../collector/storage/keys.js'
import { decodePostings, encodePostings } from '../collector/storage/postings.js'
import type { LevelBatch } from '../collector/storage/level-db.js'
import { buildFlowIndex } from '../collector/ingest/flow-index.js'
import { scanBatch } from '../collector/ingest/batch-scan.js'
import { encodeBatch, PROTOCOL_VERSION } from '../protocol/index.js'
import { flow } from './collector-fixtures.js'

/** A LevelBatch that keeps copies of what was put (as level's native batch does). */
function recorder(): { b: LevelBatch; puts: Array<[string, string]> } {
  const puts: Array<[string, string]> = []
  const b: LevelBatch = {
    put: (k, v) => { puts.push([Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]) },
    putText: () => { throw new Error('unused') },
    del: () => { throw new Error('unused') },
    write: async () => undefined,
    close: async () => undefined,
  }
  return { b, puts }
}

const ascending = fc.uniqueArray(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 300 }).map((a) => a.sort((x, y) => x - y))
const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((a) => a[0] !== 0).map((a) => Buffer.from(a).toString('latin1'))

t.test('the same bytes as keys.* and encodePostings', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), v6), ascending), { maxLength: 40 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 65535 }), ascending), { maxLength: 20 }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 2 ** 40 }),
    (hostList, portList, minTs, n) => {
      const hosts = new Map(hostList)
      const ports = new Map(portList.map(([tr, p, ids]) => [(tr << 16) | p, ids] as [number, number[]]))
      const { b, puts } = recorder()
      const idx = new IndexPuts(b)
      idx.hosts(0x66, 0x68, hosts, minTs, n)
      idx.hosts(0x61, 0x68, hosts, minTs, n)
      idx.ports(ports, minTs, n)
      const addr16 = (a: number | string): Buffer => {
        if (typeof a === 'string') return Buffer.from(a, 'latin1')
        const out = Buffer.alloc(16); out[10] = 0xff; out[11] = 0xff; out.writeUInt32BE(a >>> 0, 12); return out
      }
      const hex = (k: Buffer, ids: number[]): [string, string] => [k.toString('hex'), encodePostings(ids).toString('hex')]
      const want = [
        ...[...hosts].map(([a, ids]) => hex(keys.flowByHost(addr16(a), minTs, n), ids)),
        ...[...hosts].map(([a, ids]) => hex(keys.appByHost(addr16(a), minTs, n), ids)),
        ...[...ports].map(([tp, ids]) => hex(keys.flowByPort(tp >>> 16, tp & 0xffff, minTs, n), ids)),
      ]
      t.same(puts, want)
      // And the values decode to the flow indexes (independently of encodePostings).
      const lists = [...hosts.values(), ...hosts.values(), ...ports.values()]
      t.same(puts.map(([, v]) => decodePostings(Buffer.from(v, 'hex'))), lists)
      return true
    }), { numRuns: 200 })
})

t.test('one index entry per address: 4 bytes and IPv4-mapped 16 bytes are the same host', async (t) => {
  const a = flow(1)
  const b = { ...flow(2), origH: Buffer.concat([Buffer.alloc(10), Buffer.from([0xff, 0xff]), Buffer.from(a.origH as Uint8Array)]) }
  const v6h = Buffer.from('20010db8000000000000000000000001', 'hex')
  const c = { ...flow(3), origH: v6h, respH: v6h }
  const body = Buffer.from(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a', epoch: 1, seq: 1, flows: [a, b, c] }))
  const scan = scanBatch(body, { maxFlows: 10, maxEntries: 10 })
  if (!scan.ok) throw new Error(scan.reason)
  const fi = buildFlowIndex(body, scan.flows)
  t.same(fi.hosts.get((a.origH as Buffer).readUInt32BE(0)), [0, 1], 'the 4-byte and the mapped form share one posting list')
  t.same(fi.hosts.get(v6h.toString('latin1')), [2], 'an IPv6 address once, though it is both ends')
})
