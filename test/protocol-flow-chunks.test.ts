/**
 * Flow chunks (protocol version 2, protocol/flow-chunks.ts): runs of 256 `flows` entries,
 * compressed and inflated back to exactly the flows; a version-2 batch converted to version 1
 * (batchToV1) decodes to the same batch with the flows as entries; batchToV1 never throws.
 */
import t from 'tap'
import fc from 'fast-check'
import { gunzipSync, deflateRawSync } from 'node:zlib'
import {
  Batch, batchFlows, batchToV1, encodeBatch, encodeShippedBatch, Flow, FLOWS_PER_CHUNK, flowRuns, PROTOCOL_VERSION, type FlowProperties,
} from '../protocol/index.js'

const flowArb: fc.Arbitrary<FlowProperties> = fc.record({
  uid: fc.string({ maxLength: 18 }),
  tsUs: fc.integer({ min: 0, max: 2 ** 52 }),
  origH: fc.uint8Array({ minLength: 4, maxLength: 4 }),
  respH: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  origP: fc.integer({ min: 0, max: 65535 }),
  respP: fc.integer({ min: 0, max: 65535 }),
  service: fc.constantFrom('', 'dns', 'ssl,http'),
})

const plain = (fl: readonly FlowProperties[]): unknown[] => fl.map((f) => Flow.toObject(Flow.fromObject(f), { bytes: Array, defaults: false }))

t.test('runs of 256 flows; shipped batches give back exactly the flows, at any count', async (t) => {
  const flows = Array.from({ length: 600 }, (_, i) => ({ uid: `C${i}`, tsUs: i }))
  t.same(flowRuns(flows).map((r) => Batch.decode(r).flows.length), [FLOWS_PER_CHUNK, FLOWS_PER_CHUNK, 88])
  t.same(flowRuns([]), [])
  fc.assert(fc.property(fc.array(flowArb, { maxLength: 700 }), fc.integer({ min: 1, max: 9 }), (fl, level) => {
    const b = Batch.decode(gunzipSync(encodeShippedBatch({ agentId: 'a', epoch: 1, seq: 2, flows: fl, events: [{ message: 'e' }] }, level)))
    if (b.protocolVersion !== PROTOCOL_VERSION || b.flows.length !== 0) return false
    if (b.flowChunks.length !== Math.ceil(fl.length / FLOWS_PER_CHUNK)) return false
    t.same(plain(batchFlows(b)), plain(fl))
    return b.events.length === 1
  }), { numRuns: 60 })
})

t.test('batchToV1: the same batch as version 1, flows as entries, other fields kept', async (t) => {
  fc.assert(fc.property(fc.array(flowArb, { maxLength: 600 }), (fl) => {
    const v2 = gunzipSync(encodeShippedBatch({ agentId: 'agt', epoch: 7, seq: 9, sentAtUs: 5, flows: fl, events: [{ message: 'e' }], stats: { version: '1.2.3' } }))
    const v1 = batchToV1(v2)
    if (v1 === undefined) return false
    const b = Batch.decode(v1)
    t.same(plain(b.flows), plain(fl))
    return b.protocolVersion === 1 && b.flowChunks.length === 0 && b.agentId === 'agt' && b.epoch === 7 && b.seq === 9 && b.sentAtUs === 5 &&
      b.events[0]!.message === 'e' && b.stats!.version === '1.2.3'
  }), { numRuns: 40 })
  // A version-1 batch stays what it is (the version field is written once, first).
  const v1 = encodeBatch({ protocolVersion: 1, agentId: 'x', flows: [{ uid: 'C1' }] })
  t.same(Batch.toObject(Batch.decode(batchToV1(v1)!)), Batch.toObject(Batch.decode(v1)))
})

t.test('batchToV1 never throws: random and damaged bytes', async (t) => {
  const good = gunzipSync(encodeShippedBatch({ agentId: 'a', flows: Array.from({ length: 300 }, (_, i) => ({ uid: `C${i}` })) }))
  let undef = 0
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => { if (batchToV1(bytes) === undefined) undef++; return true }), { numRuns: 2000 })
  fc.assert(fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, v) => {
    const d = Buffer.from(good)
    d[at] = v
    batchToV1(d)
    batchToV1(d.subarray(0, at))
    return true
  }), { numRuns: 2000 })
  t.ok(undef > 0, `${undef} of 2000 random inputs refused`)
  t.equal(batchToV1(Buffer.from([13 << 3 | 2, 3, 1, 2, 3])), undefined, 'a chunk that is not DEFLATE')
  const chunk = deflateRawSync(Buffer.from([0x32, 2, 0x0a, 0]))
  t.ok(batchToV1(Buffer.concat([Buffer.from([13 << 3 | 2, chunk.length]), chunk])), 'a valid chunk converts')
})
