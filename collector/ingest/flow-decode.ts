/**
 * The flow segment of a stored batch (repeated `Batch.flows = 6` entries, as batch-scan.ts
 * joined them) → one FlowRecord per flow, for the topology merge and detection.
 *
 * Hand-written because protobufjs is slower here: its generic Reader, a `delete` for every
 * field at its default, and objects that keep defaults on the prototype, so flows with
 * different fields set get different shapes and every later read of them (merge, detection)
 * goes polymorphic. This decoder gives one monomorphic object per flow with every field set,
 * and the values protobufjs's `Batch.decode(segment).flows` gives, field for field
 * (64-bit fields as numbers: protocol/protobuf-runtime.ts; bytes fields as views of the
 * segment, as protobufjs's BufferReader gives them).
 *
 * `fastDecodeFlows` is pure and bounds-checked and never throws: for anything it does not
 * reproduce exactly (an unknown field or wire type, a string that is not plain ASCII and
 * that protobufjs's strict UTF-8 reader refuses, truncation, a varint over 10 bytes, another
 * field than flows in the segment) it returns undefined, and `decodeFlowSegment` decodes with
 * protobufjs instead — so odd input gets the library's own records, or its own error.
 */
import protobuf from '../../protocol/protobuf-runtime.js'
import { Batch, type Flow } from '../../protocol/index.js'

/** A decoded flow's fields (protobufjs's Flow without its methods): what both decoders give. */
export type FlowRecord = Omit<Flow, 'toJSON'>

const EMPTY_BYTES: Buffer = Buffer.alloc(0)
/** protobufjs's shared default of repeated fields (frozen). */
const EMPTY_LIST = protobuf.util.emptyArray as string[]
const readStrict = protobuf.util.utf8.readStrict

/** Every field set, in one order: one hidden class for all flows. */
class WireFlow implements FlowRecord {
  tsUs = 0
  origH: Uint8Array = EMPTY_BYTES
  origP = 0
  respH: Uint8Array = EMPTY_BYTES
  respP = 0
  proto = 0
  connState = 0
  history = ''
  durationUs: number | null = null
  origBytes: number | null = null
  respBytes: number | null = null
  origPkts = 0
  origIpBytes = 0
  respPkts = 0
  respIpBytes = 0
  uid = ''
  communityId: Uint8Array = EMPTY_BYTES
  ipProto = 0
  service = ''
  localOrig: boolean | null = null
  localResp: boolean | null = null
  missedBytes = 0
  tunnelParents: string[] = EMPTY_LIST
  vlan: number | null = null
  innerVlan: number | null = null
  origL2Addr: Uint8Array = EMPTY_BYTES
  respL2Addr: Uint8Array = EMPTY_BYTES
  iface = ''
  lastDeltaUs: number | null = null
  interim = false
  reason = 0
  communityIdDerived = false
}

// Varint reader state (module-level scratch: the decoder is synchronous and not re-entrant).
let vpos = 0
/** Low and high 32 bits, unsigned, as protobufjs's LongBits. */
let vlo = 0
let vhi = 0
/** Whether any of the varint's payload bits is set (protobufjs's bool() reads it so). */
let vany = 0

/** Reads a varint at `p` (as protobufjs's readLongVarint); false when truncated or over 10 bytes. */
function varint(b: Uint8Array, p: number, end: number): boolean {
  let lo = 0
  let any = 0
  for (let i = 0; i < 4; i++) {
    if (p >= end) return false
    const x = b[p++]!
    any |= x & 127
    lo = (lo | (x & 127) << (i * 7)) >>> 0
    if (x < 128) { vlo = lo; vhi = 0; vany = any; vpos = p; return true }
  }
  if (p >= end) return false
  let x = b[p++]!
  any |= x & 127
  lo = (lo | (x & 127) << 28) >>> 0
  let hi = (x & 127) >> 4
  if (x < 128) { vlo = lo; vhi = hi; vany = any; vpos = p; return true }
  for (let i = 0; i < 5; i++) {
    if (p >= end) return false
    x = b[p++]!
    any |= x & 127
    hi = (hi | (x & 127) << (i * 7 + 3)) >>> 0
    if (x < 128) { vlo = lo; vhi = hi; vany = any; vpos = p; return true }
  }
  return false
}

/** uint64 as protobufjs's LongBits.toNumber(true). */
const u64 = (): number => vlo + vhi * 4294967296

/** int64 as protobufjs's LongBits.toNumber(false). */
function i64(): number {
  if (vhi >>> 31 === 0) return vlo + vhi * 4294967296
  const lo = (~vlo + 1) >>> 0
  let hi = ~vhi >>> 0
  if (lo === 0) hi = (hi + 1) >>> 0
  return -(lo + hi * 4294967296)
}

/** Reads a length-delimited value's bounds at vpos: [vpos, vlo + vpos); false when it runs past `end`. */
function lengthAt(b: Uint8Array, p: number, end: number): boolean {
  if (!varint(b, p, end)) return false
  return vlo <= end - vpos
}

/** A string field's text, as protobufjs's stringVerify gives it; undefined where that would throw. */
function text(b: Buffer, s: number, e: number): string | undefined {
  if (s === e) return ''
  for (let i = s; i < e; i++) {
    if (b[i]! >= 0x80) {
      try {
        return readStrict(b, s, e)
      } catch {
        return undefined
      }
    }
  }
  return b.toString('latin1', s, e)
}

/** Wire type per Flow field (flow.proto): 0 varint, 2 length-delimited; -1 unknown. */
const WIRE = ((): Int8Array => {
  const w = new Int8Array(33).fill(-1)
  for (const f of [1, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 18, 20, 21, 22, 24, 25, 29, 30, 31, 32]) w[f] = 0
  for (const f of [2, 4, 8, 16, 17, 19, 23, 26, 27, 28]) w[f] = 2
  return w
})()

/** One Flow message in b[p, end); undefined where protobufjs would differ or throw. */
function decodeFlow(b: Buffer, p: number, end: number): WireFlow | undefined {
  const f = new WireFlow()
  while (p < end) {
    if (!varint(b, p, end) || vhi !== 0) return undefined
    const field = vlo >>> 3
    const wt = vlo & 7
    if (field > 32 || WIRE[field] !== wt) return undefined
    p = vpos
    if (wt === 0) {
      if (!varint(b, p, end)) return undefined
      p = vpos
      switch (field) {
        case 1: f.tsUs = i64(); break
        case 3: f.origP = vlo; break
        case 5: f.respP = vlo; break
        case 6: f.proto = vlo | 0; break
        case 7: f.connState = vlo | 0; break
        case 9: f.durationUs = u64(); break
        case 10: f.origBytes = u64(); break
        case 11: f.respBytes = u64(); break
        case 12: f.origPkts = u64(); break
        case 13: f.origIpBytes = u64(); break
        case 14: f.respPkts = u64(); break
        case 15: f.respIpBytes = u64(); break
        case 18: f.ipProto = vlo; break
        case 20: f.localOrig = vany !== 0; break
        case 21: f.localResp = vany !== 0; break
        case 22: f.missedBytes = u64(); break
        case 24: f.vlan = vlo; break
        case 25: f.innerVlan = vlo; break
        case 29: f.lastDeltaUs = u64(); break
        case 30: f.interim = vany !== 0; break
        case 31: f.reason = vlo | 0; break
        default: f.communityIdDerived = vany !== 0 // 32
      }
      continue
    }
    if (!lengthAt(b, p, end)) return undefined
    const s = vpos
    const e = s + vlo
    p = e
    if (field === 2 || field === 4 || field === 17 || field === 26 || field === 27) {
      const v = s === e ? EMPTY_BYTES : b.subarray(s, e)
      if (field === 2) f.origH = v
      else if (field === 4) f.respH = v
      else if (field === 17) f.communityId = v
      else if (field === 26) f.origL2Addr = v
      else f.respL2Addr = v
      continue
    }
    const t = text(b, s, e)
    if (t === undefined) return undefined
    if (field === 8) f.history = t
    else if (field === 16) f.uid = t
    else if (field === 19) f.service = t
    else if (field === 28) f.iface = t
    else if (f.tunnelParents === EMPTY_LIST) f.tunnelParents = [t] // 23
    else f.tunnelParents.push(t)
  }
  return f
}

/** The flows of a segment; undefined when the segment needs protobufjs (see the file's comment). Never throws. */
export function fastDecodeFlows(segment: Buffer): FlowRecord[] | undefined {
  const out: FlowRecord[] = []
  const end = segment.length
  let p = 0
  while (p < end) {
    if (!varint(segment, p, end) || vhi !== 0 || vlo !== ((6 << 3) | 2)) return undefined
    if (!lengthAt(segment, vpos, end)) return undefined
    const s = vpos
    p = s + vlo
    const f = decodeFlow(segment, s, p)
    if (f === undefined) return undefined
    out.push(f)
  }
  return out
}

/** The flows of a segment: the fast decoder, else protobufjs (which throws on bad bytes). */
export function decodeFlowSegment(segment: Buffer): FlowRecord[] {
  if (segment.length === 0) return []
  return fastDecodeFlows(segment) ?? (Batch.decode(segment).flows as Flow[])
}
