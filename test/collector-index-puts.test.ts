// IndexPuts writes the port postings from one scratch buffer: the same keys and values as
// keys.flowByPort with encodePostings (its host buckets: collector-host-buckets.test.ts). And
// the index ingest builds has one entry per address, whether the agent sent it in 4 bytes or
// IPv4-mapped in 16.
import t from 'tap'
import fc from 'fast-check'
import { IndexPuts } from '../collector/storage/index-puts.js'
import { keys } from '../collector/storage/keys.js'
import { decodePostings, encodePostings } from '../collector/storage/postings.js'
import { levelBatchRecorder } from './helpers/level-batch-recorder.js'
import { buildFlowIndex } from '../collector/ingest/flow-index.js'
import { scanBatch } from '../collector/ingest/batch-scan.js'
import { encodeBatch, PROTOCOL_VERSION } from '../protocol/index.js'
import { flow } from './collector-fixtures.js'

const ascending = fc.uniqueArray(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 300 }).map((a) => a.sort((x, y) => x - y))

t.test('the same bytes as keys.* and encodePostings', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 65535 }), ascending), { maxLength: 20 }),
    fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 2 ** 40 }),
    (portList, minTs, n) => {
      const ports = new Map(portList.map(([tr, p, ids]) => [(tr << 16) | p, ids] as [number, number[]]))
      const { b, puts } = levelBatchRecorder()
      new IndexPuts(b).ports(ports, minTs, n)
      const hex = (k: Buffer, ids: number[]): [string, string] => [k.toString('hex'), encodePostings(ids).toString('hex')]
      t.same(puts.map(([k, v]) => [k.toString('hex'), v.toString('hex')]), [...ports].map(([tp, ids]) => hex(keys.flowByPort(tp >>> 16, tp & 0xffff, minTs, n), ids)))
      // And the values decode to the flow indexes (independently of encodePostings).
      t.same(puts.map(([, v]) => decodePostings(v)), [...ports.values()])
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
