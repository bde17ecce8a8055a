/**
 * One pass over a decompressed Batch's bytes, without building a message object per flow.
 *
 * Flows are most of a batch and are stored byte for byte as the agent sent them, so they are
 * never decoded into objects here: each `flows = 6` entry is walked field by field (wire
 * types checked against flow.proto, lengths bounds-checked) and only what the indexes need
 * is read (ts, addresses, responder port, transport, service). Everything else in the batch
 * (events, observations, app records, stats, inventory, gaps) is small and copied into `rest`,
 * which the caller decodes with the generated Batch decoder. App records (`app_records = 12`)
 * are checked field by field for wire types first (app.proto), since the generated decoder
 * does not check them and would read a mistyped field as garbage.
 *
 * Flows that came as `flow_chunks = 13` (protocol version 2) are inflated first
 * (flow-chunk-inflate.ts) and their `flows` entries walked the same way in the inflated
 * bytes; the chunks themselves are handed back to be stored as they came when they are cut
 * every FLOWS_PER_CHUNK flows.
 *
 * Never throws on bad bytes; returns `{ ok: false, reason }` with the first problem.
 */

import { FLOWS_PER_CHUNK } from '../../protocol/index.js'
import { inflateChunksHere } from './flow-chunk-inflate.js'

/** Field numbers of telltale.v1.Batch that this scanner treats specially. */
export const BATCH_FIELD = { flows: 6, events: 7, observations: 8, gaps: 11, appRecords: 12, flowChunks: 13 } as const

/** Expected wire type per Flow field number (flow.proto); absent = a field this build does not know. */
const FLOW_WIRE: readonly (number | undefined)[] = (() => {
  const w: (number | undefined)[] = []
  const varint = [1, 3, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 18, 20, 21, 22, 24, 25, 29, 30, 31, 32]
  const len = [2, 4, 8, 16, 17, 19, 23, 26, 27, 28]
  for (const f of varint) w[f] = 0
  for (const f of len) w[f] = 2
  return w
})()

/** Expected wire type per AppRecord field number (app.proto). */
const APP_RECORD_WIRE: readonly (number | undefined)[] = [undefined, 2, 0, 2, 2, 2, 0, 2]

/** What the indexes need from one flow. Addresses are [start, end) offsets into the body. */
export interface ScannedFlows {
  count: number
  /** Per flow: ts_us (0 when unset; a flow outside 0..2^53-1 µs fails the scan). */
  ts: Float64Array
  origStart: Int32Array
  origLen: Uint8Array
  respStart: Int32Array
  respLen: Uint8Array
  respPort: Uint16Array
  transport: Uint8Array
  serviceStart: Int32Array
  serviceLen: Int32Array
}

export interface Range { start: number; end: number }

export interface BatchScan {
  ok: true
  /** The bytes `flowEntries` and the offsets in `flows` point into: the body, or the inflated chunks. */
  flowBytes: Buffer
  /** Each `flows` entry: the whole field (tag + length + message), in order. */
  flowEntries: Range[]
  /** The flow entries joined: a version-1 flow segment (decode with Batch.decode(…).flows). */
  flowSegment: Buffer
  /**
   * The batch's `flow_chunks` as the agent compressed them (raw DEFLATE, subarrays of the
   * body) when every chunk but the last holds exactly FLOWS_PER_CHUNK flows: stored as they
   * are. Undefined when the flows came as entries or the chunks are cut elsewhere.
   */
  flowChunks: Buffer[] | undefined
  flows: ScannedFlows
  /** Each `events` / `host_observations` / `gaps` / `app_records` entry (tag + length + message). */
  eventEntries: Range[]
  observationEntries: Range[]
  gapEntries: Range[]
  appRecordEntries: Range[]
  /** Every field except the flows, in order: decode with Batch.decode. */
  rest: Buffer
}

/**
 * `limit`: a configured count limit was passed (413); `too_large`: the flow chunks inflate
 * past maxInflatedBytes (413); `malformed`: not a valid Batch (400); `past_loop_budget`: the
 * flow chunks (`chunks`, value ranges in the body) inflate past what the event loop inflates
 * (flow-chunk-inflate.ts): inflate them on the pool and scan again with `inflated`.
 */
export type ScanFailure =
  | { ok: false; kind: 'limit' | 'too_large' | 'malformed'; reason: string }
  | { ok: false; kind: 'past_loop_budget'; reason: string; chunks: Range[] }

/**
 * Hard cap on flows per batch (also bounded by the decompressed size limit) and on the bytes
 * the batch's flow chunks inflate to (all chunks together: a chunk that is a DEFLATE bomb
 * stops inflating there). `inflated`: the chunks already inflated by the caller, in order.
 */
export interface ScanLimits { maxFlows: number; maxEntries: number; maxInflatedBytes?: number; inflated?: Buffer[] }

// Varint reader state (module-level scratch: the scanner is synchronous and not re-entrant).
let vpos = 0
let vval = 0

/** Reads a varint at `pos` into vval/vpos; false when truncated or longer than 10 bytes. Values above 2^53 lose precision. */
function readVarint(b: Uint8Array, pos: number, end: number): boolean {
  let result = 0
  let mul = 1
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return false
    const byte = b[pos++]!
    result += (byte & 0x7f) * mul
    if (byte < 0x80) {
      if (i === 9 && byte > 1) return false
      vval = result
      vpos = pos
      return true
    }
    mul *= 128
  }
  return false
}

/** Skips one field's value of wire type `wt` at `pos`; returns the new position or -1. */
function skipValue(b: Uint8Array, pos: number, end: number, wt: number): number {
  switch (wt) {
    case 0: return readVarint(b, pos, end) ? vpos : -1
    case 1: return pos + 8 <= end ? pos + 8 : -1
    case 2: {
      if (!readVarint(b, pos, end)) return -1
      const e = vpos + vval
      return vval <= end - vpos ? e : -1
    }
    case 5: return pos + 4 <= end ? pos + 4 : -1
    default: return -1 // groups (3, 4) are not used by telltale.v1; 6 and 7 do not exist
  }
}

function newFlows(capacity: number): ScannedFlows {
  return {
    count: 0,
    ts: new Float64Array(capacity),
    origStart: new Int32Array(capacity),
    origLen: new Uint8Array(capacity),
    respStart: new Int32Array(capacity),
    respLen: new Uint8Array(capacity),
    respPort: new Uint16Array(capacity),
    transport: new Uint8Array(capacity),
    serviceStart: new Int32Array(capacity),
    serviceLen: new Int32Array(capacity),
  }
}

/** The int64 varint that ends at b[last], as decimal text (for the error message only). */
function tsText(b: Uint8Array, last: number): string {
  let first = last
  while (first > 0 && (b[first - 1]! & 0x80) !== 0) first--
  let v = 0n
  for (let p = last; p >= first; p--) v = (v << 7n) | BigInt(b[p]! & 0x7f)
  return BigInt.asIntN(64, v).toString()
}

/** Walks one Flow message in b[start, end); fills slot `i`. Returns an error text or null. */
function scanFlow(b: Uint8Array, start: number, end: number, out: ScannedFlows, i: number): string | null {
  out.ts[i] = 0; out.origLen[i] = 0; out.respLen[i] = 0; out.respPort[i] = 0; out.transport[i] = 0; out.serviceLen[i] = 0
  let pos = start
  // One-byte varints (every tag of flow.proto, most values and lengths) are read inline:
  // this walk is the largest single cost of ingest's main thread.
  while (pos < end) {
    let tag = b[pos]!
    if (tag < 0x80) pos++
    else {
      if (!readVarint(b, pos, end)) return 'truncated field tag'
      tag = vval
      pos = vpos
    }
    const field = Math.floor(tag / 8)
    const wt = tag & 7
    if (field === 0) return 'field number 0'
    const expected = field < FLOW_WIRE.length ? FLOW_WIRE[field] : undefined
    if (expected !== undefined && expected !== wt) return `field ${field} has wire type ${wt}, expected ${expected}`
    if (wt === 0) {
      if (pos < end && b[pos]! < 0x80) { vval = b[pos]!; pos++ } else {
        if (!readVarint(b, pos, end)) return `truncated varint in field ${field}`
        pos = vpos
      }
      if (field === 1) {
        // A negative int64 reads as ~2^64. Times past 2^53 µs (year 2255) or before 1970 would
        // be stored where no query reaches them (the API's window is 0..2^53-1): refused.
        if (vval > Number.MAX_SAFE_INTEGER) return `ts_us ${tsText(b, pos - 1)} is outside 0..${Number.MAX_SAFE_INTEGER} µs (1970 to 2255)`
        out.ts[i] = vval
      }
      else if (field === 5) { if (vval > 0xffff) return `resp_p ${vval} is not a port`; out.respPort[i] = vval }
      else if (field === 6) out.transport[i] = vval > 255 ? 0 : vval
      continue
    }
    if (wt === 2) {
      let len: number
      let vs: number
      if (pos < end && b[pos]! < 0x80) { len = b[pos]!; vs = pos + 1 } else {
        if (!readVarint(b, pos, end)) return `truncated length in field ${field}`
        len = vval
        vs = vpos
      }
      if (len > end - vs) return `field ${field} length ${len} runs past the end of the flow`
      pos = vs + len
      if (field === 2 || field === 4) {
        if (len !== 0 && len !== 4 && len !== 16) return `address of ${len} bytes in field ${field}`
        if (field === 2) { out.origStart[i] = vs; out.origLen[i] = len } else { out.respStart[i] = vs; out.respLen[i] = len }
      } else if (field === 19) {
        out.serviceStart[i] = vs
        out.serviceLen[i] = len
      }
      continue
    }
    const next = skipValue(b, pos, end, wt)
    if (next < 0) return `bad value of wire type ${wt} in field ${field}`
    pos = next
  }
  return null
}

/**
 * Checks the wire type of every field of one AppRecord in b[start, end) against app.proto
 * (values are not judged: odd times, ports or address lengths are stored and clamped by the
 * reader). Returns an error text or null.
 */
function scanAppRecord(b: Uint8Array, start: number, end: number): string | null {
  let pos = start
  while (pos < end) {
    if (!readVarint(b, pos, end)) return 'truncated field tag'
    const field = Math.floor(vval / 8)
    const wt = vval & 7
    pos = vpos
    if (field === 0) return 'field number 0'
    const expected = field < APP_RECORD_WIRE.length ? APP_RECORD_WIRE[field] : undefined
    if (expected !== undefined && expected !== wt) return `field ${field} has wire type ${wt}, expected ${expected}`
    const next = skipValue(b, pos, end, wt)
    if (next < 0) return `bad value of wire type ${wt} in field ${field}`
    pos = next
  }
  return null
}

/** Scans a decompressed Batch. */
export function scanBatch(body: Buffer, limits: ScanLimits): BatchScan | ScanFailure {
  const end = body.length
  const flowEntries: Range[] = []
  const eventEntries: Range[] = []
  const observationEntries: Range[] = []
  const gapEntries: Range[] = []
  const appRecordEntries: Range[] = []
  const restParts: Range[] = []
  const chunkValues: Range[] = []
  let entries = 0
  let pos = 0
  // Pass 1: top-level structure.
  while (pos < end) {
    const fieldStart = pos
    if (!readVarint(body, pos, end)) return { ok: false, kind: 'malformed', reason: `truncated field tag at byte ${pos}` }
    const tag = vval
    pos = vpos
    const field = Math.floor(tag / 8)
    const wt = tag & 7
    if (field === 0) return { ok: false, kind: 'malformed', reason: `field number 0 at byte ${fieldStart}` }
    const next = skipValue(body, pos, end, wt)
    if (next < 0) return { ok: false, kind: 'malformed', reason: `field ${field} (wire type ${wt}) at byte ${fieldStart} is truncated or invalid` }
    pos = next
    if (++entries > limits.maxEntries) return { ok: false, kind: 'limit', reason: `more than ${limits.maxEntries} top-level entries` }
    const r = { start: fieldStart, end: next }
    if (field === BATCH_FIELD.flows) {
      if (wt !== 2) return { ok: false, kind: 'malformed', reason: `flows entry with wire type ${wt}` }
      if (flowEntries.length >= limits.maxFlows) return { ok: false, kind: 'limit', reason: `more than ${limits.maxFlows} flows in one batch` }
      flowEntries.push(r)
      continue
    }
    if (field === BATCH_FIELD.flowChunks) {
      if (wt !== 2) return { ok: false, kind: 'malformed', reason: `flow_chunks entry with wire type ${wt}` }
      readVarint(body, r.start, next) // tag
      readVarint(body, vpos, next) // length
      chunkValues.push({ start: vpos, end: next })
      continue
    }
    if (field === BATCH_FIELD.events && wt === 2) eventEntries.push(r)
    else if (field === BATCH_FIELD.observations && wt === 2) observationEntries.push(r)
    else if (field === BATCH_FIELD.gaps && wt === 2) gapEntries.push(r)
    else if (field === BATCH_FIELD.appRecords) {
      if (wt !== 2) return { ok: false, kind: 'malformed', reason: `app_records entry with wire type ${wt}` }
      appRecordEntries.push(r)
    }
    // A run of its own: `r` itself is in an entry list, and extending the run must not stretch it.
    const last = restParts[restParts.length - 1]
    if (last !== undefined && last.end === fieldStart) last.end = next
    else restParts.push({ start: fieldStart, end: next })
  }
  let flowBytes = body
  let flowSegment: Buffer
  let flowChunks: Buffer[] | undefined
  if (chunkValues.length > 0) {
    if (flowEntries.length > 0) return { ok: false, kind: 'malformed', reason: 'the batch has both flows and flow_chunks' }
    let parts = limits.inflated
    if (parts === undefined) {
      const here = inflateChunksHere(body, chunkValues, limits.maxInflatedBytes)
      if (!Array.isArray(here)) return here.kind === 'past_loop_budget' ? { ok: false, kind: here.kind, reason: here.reason, chunks: chunkValues } : { ok: false, kind: here.kind, reason: here.reason }
      parts = here
    }
    const chunks = listChunkEntries(parts, flowEntries, limits)
    if (!chunks.ok) return chunks
    flowBytes = flowSegment = chunks.segment
    if (chunks.aligned) flowChunks = chunkValues.map((c) => body.subarray(c.start, c.end))
  } else flowSegment = joinEntries(body, flowEntries)
  // Pass 2: each flow.
  const flows = newFlows(flowEntries.length)
  for (let i = 0; i < flowEntries.length; i++) {
    const e = flowEntries[i]!
    readVarint(flowBytes, e.start, e.end) // tag (checked in pass 1)
    readVarint(flowBytes, vpos, e.end) // length (checked in pass 1)
    const err = scanFlow(flowBytes, vpos, e.end, flows, i)
    if (err !== null) return { ok: false, kind: 'malformed', reason: `flow ${i}: ${err}` }
  }
  flows.count = flowEntries.length
  // Pass 3: each app record's field wire types.
  for (let i = 0; i < appRecordEntries.length; i++) {
    const e = appRecordEntries[i]!
    readVarint(body, e.start, e.end) // tag (checked in pass 1)
    readVarint(body, vpos, e.end) // length (checked in pass 1)
    const err = scanAppRecord(body, vpos, e.end)
    if (err !== null) return { ok: false, kind: 'malformed', reason: `app record ${i}: ${err}` }
  }
  const rest = restParts.length === 1
    ? body.subarray(restParts[0]!.start, restParts[0]!.end)
    : Buffer.concat(restParts.map((p) => body.subarray(p.start, p.end)))
  return { ok: true, flowBytes, flowEntries, flowSegment, flowChunks, flows, eventEntries, observationEntries, gapEntries, appRecordEntries, rest }
}

/**
 * The inflated chunks as one segment, with its `flows` entries listed into `entries`; nothing
 * but `flows` entries may be in a chunk. `aligned`: every chunk but the last holds exactly
 * FLOWS_PER_CHUNK entries.
 */
function listChunkEntries(parts: Buffer[], entries: Range[], limits: ScanLimits): { ok: true; segment: Buffer; aligned: boolean } | ScanFailure {
  const segment = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
  let aligned = true
  let chunkEnd = 0
  let c = -1
  let inChunk = 0
  let pos = 0
  const end = segment.length
  while (pos < end) {
    while (pos >= chunkEnd && c + 1 < parts.length) {
      if (c >= 0 && inChunk !== FLOWS_PER_CHUNK) aligned = false
      c++
      chunkEnd += parts[c]!.length
      inChunk = 0
    }
    const start = pos
    if (!readVarint(segment, pos, end) || vval !== 0x32) return { ok: false, kind: 'malformed', reason: `flow chunk ${c} holds something other than flows entries` }
    const next = skipValue(segment, vpos, end, 2)
    if (next < 0) return { ok: false, kind: 'malformed', reason: `flow chunk ${c}: a flows entry is truncated` }
    // An entry that runs over a chunk boundary is valid protobuf, but not a chunk of its own.
    if (next > chunkEnd) aligned = false
    if (entries.length >= limits.maxFlows) return { ok: false, kind: 'limit', reason: `more than ${limits.maxFlows} flows in one batch` }
    entries.push({ start, end: next })
    inChunk++
    pos = next
  }
  // Chunks after the last entry (empty ones) or a last chunk with no entry of its own.
  if (c !== parts.length - 1 || inChunk === 0 || inChunk > FLOWS_PER_CHUNK) aligned = false
  return { ok: true, segment, aligned }
}

/** Concatenation of entries (contiguous runs are one subarray, no copy). */
export function joinEntries(body: Buffer, entries: Range[]): Buffer {
  if (entries.length === 0) return Buffer.alloc(0)
  const runs: Range[] = []
  for (const e of entries) {
    const last = runs[runs.length - 1]
    if (last !== undefined && last.end === e.start) last.end = e.end
    else runs.push({ start: e.start, end: e.end })
  }
  if (runs.length === 1) return body.subarray(runs[0]!.start, runs[0]!.end)
  return Buffer.concat(runs.map((r) => body.subarray(r.start, r.end)))
}
