/**
 * The value of an `ap` key (keys.ts): the segment's newest record time (u64 µs, so time
 * scans and retention can skip a segment without decoding it), one codec byte, then the
 * batch's `app_records = 12` entries as sent — raw (CODEC_RAW) or raw DEFLATE (CODEC_DEFLATE,
 * what ingest writes: the Zeek JSON rows shrink ~4×, 567 → ~100 B per row on the ingest
 * bench's rows).
 */
import { deflateRaw, inflateRawSync } from 'node:zlib'
import { promisify } from 'node:util'

const CODEC_RAW = 0
const CODEC_DEFLATE = 1
/** Level 1, as flow chunks (flow-chunks.ts): most of the gain for a fraction of level 6's CPU. */
const DEFLATE_OPTIONS = { level: 1, memLevel: 9 } as const
/** A stored segment never inflates past this (ingest's decompressed body limit is far below). */
const MAX_INFLATED = 256 * 1024 * 1024
const deflateRawAsync = promisify(deflateRaw)

/** The codec byte and payload of a segment: DEFLATE on libuv's thread pool (one stream per batch), raw when that does not shrink it. */
export async function encodeAppPayloadAsync(entries: Buffer): Promise<Buffer> {
  const z = await deflateRawAsync(entries, DEFLATE_OPTIONS)
  return z.length < entries.length ? Buffer.concat([Buffer.from([CODEC_DEFLATE]), z]) : Buffer.concat([Buffer.from([CODEC_RAW]), entries])
}

/** The stored value: `payload` from encodeAppPayloadAsync, or the entries stored raw when absent. */
export function encodeAppSegment(maxTsUs: number, entries: Buffer, payload?: Buffer): Buffer {
  const body = payload ?? Buffer.concat([Buffer.from([CODEC_RAW]), entries])
  const v = Buffer.allocUnsafe(8 + body.length)
  const n = maxTsUs > 0 ? maxTsUs : 0
  const hi = Math.floor(n / 0x1_0000_0000)
  v.writeUInt32BE(hi >>> 0, 0)
  v.writeUInt32BE((n - hi * 0x1_0000_0000) >>> 0, 4)
  body.copy(v, 8)
  return v
}

/** The newest record time of a stored segment value (0 for a value too short to hold one). */
export function appSegmentMaxTsUs(value: Buffer): number {
  return value.length < 8 ? 0 : value.readUInt32BE(0) * 0x1_0000_0000 + value.readUInt32BE(4)
}

/** The Batch-decodable entries of a stored segment value; undefined when it is corrupt (unknown codec, bad DEFLATE). */
export function appSegmentEntries(value: Buffer): Buffer | undefined {
  if (value.length < 9) return Buffer.alloc(0)
  const payload = value.subarray(9)
  if (value[8] === CODEC_RAW) return payload
  if (value[8] !== CODEC_DEFLATE) return undefined
  try {
    return inflateRawSync(payload, { maxOutputLength: MAX_INFLATED })
  } catch {
    return undefined
  }
}

/**
 * Where each AppRecord message of a segment's entries lies: [start, end) of the message bytes
 * of each `app_records = 12` entry (tag 0x62), in order; stops at the first malformed entry
 * (ingest checked them, so that only happens on disk damage). Lets a query decode the few
 * rows an index names instead of the whole segment.
 */
export function appRecordSpans(entries: Uint8Array): Array<[number, number]> {
  const out: Array<[number, number]> = []
  let pos = 0
  while (pos < entries.length && entries[pos] === 0x62) {
    let p = pos + 1
    let len = 0
    let mul = 1
    let b: number
    do {
      if (p >= entries.length || mul > 2 ** 28) return out
      b = entries[p++]!
      len += (b & 0x7f) * mul
      mul *= 128
    } while (b & 0x80)
    if (p + len > entries.length) return out
    out.push([p, p + len])
    pos = p + len
  }
  return out
}
