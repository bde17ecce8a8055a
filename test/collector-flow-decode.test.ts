// The hand-written flow segment decoder (collector/ingest/flow-decode.ts): the same records
// as protobufjs's Batch.decode(segment).flows on generated flows, and on random or mutated
// bytes it never throws and never gives records protobufjs would not.
import t from 'tap'
import fc from 'fast-check'
import { Batch, encodeBatch, PROTOCOL_VERSION, type FlowProperties } from '../protocol/index.js'
import { joinEntries } from '../collector/ingest/batch-scan.js'
import { decodeFlowSegment, fastDecodeFlows, type FlowRecord } from '../collector/ingest/flow-decode.js'
import { batch } from './collector-fixtures.js'

const FIELDS: (keyof FlowRecord)[] = [
  'tsUs', 'origH', 'origP', 'respH', 'respP', 'proto', 'connState', 'history', 'durationUs', 'origBytes', 'respBytes', 'origPkts',
  'origIpBytes', 'respPkts', 'respIpBytes', 'uid', 'communityId', 'ipProto', 'service', 'localOrig', 'localResp', 'missedBytes',
  'tunnelParents', 'vlan', 'innerVlan', 'origL2Addr', 'respL2Addr', 'iface', 'lastDeltaUs', 'interim', 'reason', 'communityIdDerived',
]

/** The first field where two records differ, or undefined. */
function differs(a: FlowRecord, b: FlowRecord): string | undefined {
  for (const k of FIELDS) {
    const x = a[k] as unknown
    const y = b[k] as unknown
    if (x instanceof Uint8Array && y instanceof Uint8Array) { if (Buffer.compare(x, y) !== 0) return k; continue }
    if (Array.isArray(x) && Array.isArray(y)) { if (x.length !== y.length || x.some((v, i) => v !== y[i])) return k; continue }
    if (x !== y) return `${k}: ${String(x)} vs ${String(y)}`
  }
  return undefined
}

/** protobufjs's records (instances of the generated Flow). */
const refFlows = (seg: Buffer): FlowRecord[] => Batch.decode(seg).flows as unknown as FlowRecord[]

/** The flow segment of an encoded batch, as ingest stores it. */
/**
 * The batch's `flows = 6` entries, as ingest stores them. Found by a plain walk, not by
 * scanBatch: ingest refuses times outside 0..2^53-1 µs, but the decoder must still read any
 * int64 (stores written before that check), so the generated times cover the whole range.
 */
function segmentOf(body: Uint8Array): Buffer {
  const b = Buffer.from(body)
  const entries: Array<{ start: number; end: number }> = []
  let pos = 0
  const varint = (): number => { let v = 0; let m = 1; let x: number; do { x = b[pos++]!; v += (x & 0x7f) * m; m *= 128 } while (x & 0x80); return v }
  while (pos < b.length) {
    const start = pos
    const tag = varint()
    const wt = tag & 7
    if (wt === 0) varint()
    else if (wt === 2) { const len = varint(); pos += len } else if (wt === 1) pos += 8
    else if (wt === 5) pos += 4
    else throw new Error(`wire type ${wt}`)
    if (tag >>> 3 === 6) entries.push({ start, end: pos })
  }
  return joinEntries(b, entries)
}

const u64 = fc.oneof(fc.constant(0), fc.nat(1000), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }))
const text = fc.oneof(fc.constant(''), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 40 }))
const addr = fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 }))
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined })
const flowArb: fc.Arbitrary<FlowProperties> = fc.record({
  tsUs: fc.integer({ min: -(2 ** 53) + 1, max: Number.MAX_SAFE_INTEGER }),
  origH: addr, origP: fc.nat(65535), respH: addr, respP: fc.nat(65535),
  proto: fc.integer({ min: -2, max: 5 }), connState: fc.integer({ min: 0, max: 15 }), history: text,
  durationUs: opt(u64), origBytes: opt(u64), respBytes: opt(u64), origPkts: u64, origIpBytes: u64, respPkts: u64, respIpBytes: u64,
  uid: text, communityId: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 20, maxLength: 20 })),
  ipProto: fc.nat(255), service: text, localOrig: opt(fc.boolean()), localResp: opt(fc.boolean()), missedBytes: u64,
  tunnelParents: fc.array(text, { maxLength: 3 }), vlan: opt(fc.nat(4095)), innerVlan: opt(fc.nat(0xffffffff)),
  origL2Addr: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 6, maxLength: 6 })),
  respL2Addr: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 6, maxLength: 6 })),
  iface: text, lastDeltaUs: opt(u64), interim: fc.boolean(), reason: fc.integer({ min: 0, max: 6 }), communityIdDerived: fc.boolean(),
}, { requiredKeys: ['tsUs'] })

t.test('generated flows: the same records as protobufjs', async (t) => {
  let decoded = 0
  fc.assert(fc.property(fc.array(flowArb, { maxLength: 20 }), (flows) => {
    const seg = segmentOf(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a', epoch: 1, seq: 1, sentAtUs: 0, flows }))
    const ref = seg.length === 0 ? [] : refFlows(seg)
    const fast = fastDecodeFlows(seg)
    if (fast === undefined) return false // every generated segment is one the fast path reads
    if (fast.length !== ref.length) return false
    for (let i = 0; i < ref.length; i++) {
      const d = differs(fast[i]!, ref[i]!)
      if (d !== undefined) throw new Error(`flow ${i}: ${d}`)
    }
    decoded += fast.length
    return true
  }), { numRuns: 400, seed: 0x7e21 })
  t.ok(decoded > 1000, `${decoded} flows compared field by field`)
})

t.test('the collector fixtures\' flows and an empty segment', async (t) => {
  const seg = segmentOf(encodeBatch(batch('agt_x', 1, 50)))
  const ref = refFlows(seg)
  const got = decodeFlowSegment(seg)
  t.equal(got.length, 50)
  t.equal(got.map((f, i) => differs(f, ref[i]!)).filter((d) => d !== undefined).length, 0)
  t.same(decodeFlowSegment(Buffer.alloc(0)), [])
  t.same(fastDecodeFlows(Buffer.alloc(0)), [])
})

t.test('what the fast path leaves to protobufjs', async (t) => {
  const seg = segmentOf(encodeBatch(batch('agt_x', 1, 2)))
  // An unknown field (99, varint) inside the first flow: protobufjs keeps it in $unknowns.
  const flowLen = seg[1]!
  const withUnknown = Buffer.concat([Buffer.from([seg[0]!, flowLen + 3]), seg.subarray(2, 2 + flowLen), Buffer.from([0x98, 0x06, 0x01]), seg.subarray(2 + flowLen)])
  t.equal(fastDecodeFlows(withUnknown), undefined)
  t.equal(decodeFlowSegment(withUnknown).length, 2, 'decoded by protobufjs instead')
  // Another Batch field than flows in the segment.
  t.equal(fastDecodeFlows(Buffer.concat([seg, Buffer.from([0x08, 0x01])])), undefined)
  // Invalid UTF-8 in a string: protobufjs's strict reader throws, so does decodeFlowSegment.
  const bad = segmentOf(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a', epoch: 1, seq: 1, sentAtUs: 0, flows: [{ tsUs: 1, service: 'ab\u00e9' }] }))
  const at = bad.indexOf(0xc3)
  bad[at] = 0xff
  t.equal(fastDecodeFlows(bad), undefined)
  t.throws(() => decodeFlowSegment(bad))
  // Truncated.
  t.equal(fastDecodeFlows(seg.subarray(0, seg.length - 1)), undefined)
})

t.test('random and mutated bytes: never throws, never records protobufjs would not give', async (t) => {
  const good = segmentOf(encodeBatch(batch('agt_x', 1, 10)))
  let agreed = 0
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 1024 }),
      fc.tuple(fc.nat(good.length - 1), fc.nat(255), fc.nat(good.length)).map(([at, v, cut]) => { const b = Buffer.from(good); b[at] = v; return b.subarray(0, Math.max(at + 1, cut)) }),
      fc.array(flowArb, { maxLength: 3 }).chain((flows) => {
        const seg = segmentOf(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a', epoch: 1, seq: 1, sentAtUs: 0, flows }))
        return seg.length === 0 ? fc.constant(seg) : fc.tuple(fc.nat(seg.length - 1), fc.nat(255)).map(([at, v]) => { const b = Buffer.from(seg); b[at] = v; return b })
      }),
    ),
    (bytes) => {
      const seg = Buffer.from(bytes)
      const fast = fastDecodeFlows(seg) // must not throw
      if (fast === undefined) return true
      const ref = refFlows(seg) // must not throw either: the fast path only reads what protobufjs reads
      if (ref.length !== fast.length) return false
      for (let i = 0; i < ref.length; i++) if (differs(fast[i]!, ref[i]!) !== undefined) return false
      agreed++
      return true
    },
  ), { numRuns: 3000, seed: 0x7e22 })
  t.ok(agreed > 100, `${agreed} inputs decoded by both, the same records`)
})
