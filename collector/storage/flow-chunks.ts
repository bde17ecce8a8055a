/**
 * Flow segments are stored in chunks (`fs min_ts n chunk`, keys.ts): the batch's `flows = 6`
 * entries, byte for byte as the agent sent them, cut into runs of FLOW_CHUNK flows, each
 * run compressed with raw DEFLATE. Chunks make an index hit read about FLOW_CHUNK flows
 * instead of the whole segment; DEFLATE over a run of similar protobuf records stores
 * ~37 B per flow of the api bench's traffic where LevelDB's block snappy stored ~47.
 * The compression level is the writer's choice only: any level inflates the same way, so
 * chunks written at another level (level 6 before 2026-12-07) read as they are.
 *
 * Value: one codec byte (CODEC_RAW: the entries as they are, used when DEFLATE does not
 * shrink them; CODEC_DEFLATE: raw DEFLATE of the entries), then the payload. Decoding a
 * chunk gives Batch-compatible bytes (decode with Batch.decode(bytes).flows).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { FLOWS_PER_CHUNK } from '../../protocol/index.js'

/**
 * Flows per chunk: 256 compresses within 4 % of a whole 5000-flow segment. The wire's
 * FLOWS_PER_CHUNK: an agent's chunks (protocol version 2) are stored as they come.
 */
export const FLOW_CHUNK = FLOWS_PER_CHUNK
const CODEC_RAW = 0
const CODEC_DEFLATE = 1
/**
 * zlib level 1 with memLevel 9: on the ingest bench's flows 1.1 µs of CPU per flow and 48.7 B
 * per flow, where level 6 took 2.7 µs (3.4 µs as one zlib stream per chunk on the thread
 * pool) for 44.9 B (dist/bench/chunk-probe.js numbers of 2026-12-07, one core).
 */
const DEFLATE_OPTIONS = { level: 1, memLevel: 9 } as const
/** Chunks compressed between two yields to the event loop (~1 ms of DEFLATE at level 1). */
const CHUNKS_PER_SLICE = 4

/** Byte offsets where each `flows = 6` entry of a segment starts (plus the end); stops at malformed bytes. */
export function entryOffsets(segment: Uint8Array): number[] {
  const out: number[] = []
  let pos = 0
  while (pos < segment.length) {
    if (segment[pos] !== 0x32) break
    out.push(pos)
    let p = pos + 1
    let len = 0
    let mul = 1
    let b: number
    do {
      if (p >= segment.length || mul > 2 ** 28) return out
      b = segment[p++]!
      len += (b & 0x7f) * mul
      mul *= 128
    } while (b & 0x80)
    if (p + len > segment.length) break
    pos = p + len
  }
  out.push(pos)
  return out
}

/** The runs of `flows = 6` entries that become chunks (run c holds flows [c·FLOW_CHUNK, (c+1)·FLOW_CHUNK)). */
function chunkRuns(segment: Buffer): Buffer[] {
  const offs = entryOffsets(segment)
  const flows = offs.length - 1
  const runs: Buffer[] = []
  for (let c = 0; c * FLOW_CHUNK < flows; c++) runs.push(segment.subarray(offs[c * FLOW_CHUNK]!, offs[Math.min(flows, (c + 1) * FLOW_CHUNK)]!))
  return runs
}

/** The stored value of a chunk an agent compressed (raw DEFLATE of FLOW_CHUNK entries; protocol version 2). */
export const storedChunkValue = (z: Buffer): Buffer => Buffer.concat([Buffer.from([CODEC_DEFLATE]), z])

const chunkValue = (raw: Buffer, z: Buffer): Buffer =>
  z.length < raw.length ? Buffer.concat([Buffer.from([CODEC_DEFLATE]), z]) : Buffer.concat([Buffer.from([CODEC_RAW]), raw])

/** The segment cut into chunk values (chunk c holds flows [c·FLOW_CHUNK, (c+1)·FLOW_CHUNK)). */
export function encodeFlowChunks(segment: Buffer): Buffer[] {
  return chunkRuns(segment).map((raw) => chunkValue(raw, deflateRawSync(raw, DEFLATE_OPTIONS)))
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * The same chunk values, compressed on the event loop in slices of CHUNKS_PER_SLICE chunks
 * with a yield in between (ingest uses this), so a 5000-flow batch holds the loop ~1 ms at a
 * time. (It ran on libuv's thread pool before, one zlib stream per chunk: the stream set-up
 * and the thread hand-offs cost more CPU than the level-1 DEFLATE itself.)
 */
export async function encodeFlowChunksAsync(segment: Buffer): Promise<Buffer[]> {
  const runs = chunkRuns(segment)
  const out: Buffer[] = []
  for (let i = 0; i < runs.length; i++) {
    if (i > 0 && i % CHUNKS_PER_SLICE === 0) await yieldToLoop()
    const raw = runs[i]!
    out.push(chunkValue(raw, deflateRawSync(raw, DEFLATE_OPTIONS)))
  }
  return out
}

/** The entries of one stored chunk; undefined when the value is not a chunk this build reads. */
export function decodeFlowChunk(value: Uint8Array): Buffer | undefined {
  if (value.length === 0) return undefined
  const body = Buffer.from(value.buffer, value.byteOffset + 1, value.byteLength - 1)
  if (value[0] === CODEC_RAW) return body
  if (value[0] !== CODEC_DEFLATE) return undefined
  try {
    return inflateRawSync(body)
  } catch {
    return undefined
  }
}
