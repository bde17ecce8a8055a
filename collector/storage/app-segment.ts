/**
 * The value of an `ap` key (keys.ts): the segment's newest record time (u64 µs, so time
 * scans and retention can skip a segment without decoding it), then the batch's
 * `app_records = 12` entries as sent (Batch-decodable bytes).
 */

/** The stored value of an app-record segment. */
export function encodeAppSegment(maxTsUs: number, entries: Buffer): Buffer {
  const v = Buffer.allocUnsafe(8 + entries.length)
  const n = maxTsUs > 0 ? maxTsUs : 0
  const hi = Math.floor(n / 0x1_0000_0000)
  v.writeUInt32BE(hi >>> 0, 0)
  v.writeUInt32BE((n - hi * 0x1_0000_0000) >>> 0, 4)
  entries.copy(v, 8)
  return v
}

/** The newest record time of a stored segment value (0 for a value too short to hold one). */
export function appSegmentMaxTsUs(value: Buffer): number {
  return value.length < 8 ? 0 : value.readUInt32BE(0) * 0x1_0000_0000 + value.readUInt32BE(4)
}

/** The Batch-decodable entries of a stored segment value. */
export function appSegmentEntries(value: Buffer): Buffer {
  return value.subarray(Math.min(8, value.length))
}
