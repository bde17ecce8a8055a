/**
 * Flow chunks (Batch.flow_chunks = 13, protocol version 2): the agent compresses its flows
 * in runs of FLOWS_PER_CHUNK, and the collector stores each run as the agent compressed it.
 *
 * Why: the collector used to inflate the request body and then DEFLATE the same flows again
 * in runs of 256 for its store (collector/storage/flow-chunks.ts): about a third of its CPU
 * per ingested flow. With the runs compressed where the flows are made, that work is spread
 * over every sensor and the collector only inflates (to check and index the flows), which
 * costs a fraction of compressing. The request body is still gzip, in two members (RFC 1952
 * allows a series; zlib's gunzip reads them as one stream): the chunk entries stored (gzip
 * level 0: they do not compress again, and a level-1 pass over them cost the agent ~0.8 µs
 * per flow for nothing), then everything else at the agent's level.
 *
 * A run's bytes are exactly the `flows = 6` entries (tag, length, Flow) a version-1 batch
 * would carry, so inflating every chunk and concatenating gives a version-1 flow segment.
 */
import { deflateRaw, deflateRawSync, gzip, gzipSync, inflateRawSync } from 'node:zlib'
import { promisify } from 'node:util'
import { Batch, encodeBatch, Flow, PROTOCOL_VERSION, Reader, Writer, type BatchProperties, type FlowProperties } from './index.js'

/** Flows per chunk (the collector's store cuts segments at the same boundaries). */
export const FLOWS_PER_CHUNK = 256
/** Tag of Batch.flows (field 6, length-delimited). */
export const BATCH_FLOWS_TAG = (6 << 3) | 2
/** Tag of Batch.flow_chunks (field 13, length-delimited). */
export const BATCH_FLOW_CHUNKS_TAG = (13 << 3) | 2
/** The oldest protocol version a collector of this build reads (1: flows only as `flows` entries). */
export const MIN_PROTOCOL_VERSION = 1

const deflateRawAsync = promisify(deflateRaw)
const gzipAsync = promisify(gzip)

/** Flows encoded as `flows = 6` entries, in runs of FLOWS_PER_CHUNK (the last may be shorter). */
export function flowRuns(flows: readonly FlowProperties[]): Uint8Array[] {
  const runs: Uint8Array[] = []
  for (let i = 0; i < flows.length; i += FLOWS_PER_CHUNK) {
    const w = Writer.create()
    for (const f of flows.slice(i, i + FLOWS_PER_CHUNK)) Flow.encode(f, w.uint32(BATCH_FLOWS_TAG).fork()).ldelim()
    runs.push(w.finish())
  }
  return runs
}

/** Each run as raw DEFLATE, on libuv's thread pool (the runs are compressed in parallel). */
export function deflateFlowRuns(runs: readonly Uint8Array[], level: number): Promise<Buffer[]> {
  return Promise.all(runs.map((r) => deflateRawAsync(r, { level })))
}

/** The same, on the calling thread. */
export function deflateFlowRunsSync(runs: readonly Uint8Array[], level: number): Buffer[] {
  return runs.map((r) => deflateRawSync(r, { level }))
}

/** The chunks as `flow_chunks = 13` entries of a Batch message, concatenated. */
export function flowChunkEntries(chunks: readonly Uint8Array[]): Buffer {
  const w = Writer.create()
  for (const c of chunks) w.uint32(BATCH_FLOW_CHUNKS_TAG).bytes(c)
  const out = w.finish()
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength)
}

/**
 * The gzip request body of a batch: `chunkEntries` (flowChunkEntries) as a stored member,
 * then `rest` (every other field) as a member compressed at `level`; one member when there
 * are no chunks.
 */
export async function gzipShippedBody(chunkEntries: Uint8Array, rest: Uint8Array, level: number): Promise<Buffer> {
  if (chunkEntries.length === 0) return gzipAsync(rest, { level })
  const [stored, packed] = await Promise.all([gzipAsync(chunkEntries, { level: 0 }), gzipAsync(rest, { level })])
  return Buffer.concat([stored, packed])
}

/** The same, on the calling thread. */
export function gzipShippedBodySync(chunkEntries: Uint8Array, rest: Uint8Array, level: number): Buffer {
  if (chunkEntries.length === 0) return gzipSync(rest, { level })
  return Buffer.concat([gzipSync(chunkEntries, { level: 0 }), gzipSync(rest, { level })])
}

/**
 * A whole batch as an agent of this build ships it (flows as chunks, protocol version 2,
 * gzipped): for benches, tests and tools. The agent builds the same bytes incrementally
 * (agent/ship/batch-encoder.ts).
 */
export function encodeShippedBatch(batch: BatchProperties, level = 6): Buffer {
  const chunks = deflateFlowRunsSync(flowRuns(batch.flows ?? []), level)
  const rest = encodeBatch({ ...batch, flows: [], flowChunks: [], protocolVersion: PROTOCOL_VERSION })
  return gzipShippedBodySync(flowChunkEntries(chunks), rest, level)
}

/** The flows of a decoded batch of either version (chunks inflated). Throws on a chunk that does not inflate (tests and tools). */
export function batchFlows(b: Batch): Flow[] {
  if (b.flowChunks.length === 0) return b.flows as Flow[]
  const seg = Buffer.concat(b.flowChunks.map((c) => inflateRawSync(c)))
  return Batch.decode(seg).flows as Flow[]
}

/** Most bytes batchToV1 inflates (a batch the agent made itself is far below). */
const MAX_V1_BYTES = 256 * 1024 * 1024

/**
 * A version-2 Batch's bytes (not gzipped) as version 1, for a collector that speaks only
 * version 1: protocol_version 1 first, every chunk inflated in place into its `flows`
 * entries, every other field copied. undefined when the bytes do not parse or a chunk does
 * not inflate. Pure; never throws.
 */
export function batchToV1(bytes: Uint8Array): Buffer | undefined {
  const parts: Uint8Array[] = [Uint8Array.of(1 << 3, 1)]
  let total = 2
  const r = Reader.create(bytes)
  try {
    while (r.pos < r.len) {
      const start = r.pos
      const tag = r.uint32()
      const field = tag >>> 3
      if (field === 0) return undefined
      let part: Uint8Array
      if (field === 13 && (tag & 7) === 2) part = inflateRawSync(r.bytes(), { maxOutputLength: MAX_V1_BYTES })
      else {
        r.skipType(tag & 7)
        if (field === 1) continue
        part = bytes.subarray(start, r.pos)
      }
      total += part.length
      if (total > MAX_V1_BYTES) return undefined
      parts.push(part)
    }
  } catch {
    return undefined // protobufjs's reader past the end, a bad wire type, or a chunk that does not inflate
  }
  return Buffer.concat(parts)
}
