/**
 * The host (`fb` / `ab` buckets) and port (`fp`) index entries of one stored batch, put
 * straight into the batch's native level batch from one scratch buffer: level's chained
 * batch copies a put's bytes at once, so no key Buffer, key builder or postings Buffer is
 * made per entry. The same bytes as keys.flowHostBucket / keys.appHostBucket / keys.flowByPort
 * with host-buckets.ts's entries and encodePostings; tested (test/collector-index-puts.test.ts).
 * Hand-written hot path.
 */
import type { LevelBatch } from './level-db.js'
import { writePostings } from './postings.js'
import { entryBound, HOST_BUCKETS, hostBucket, writeEntry, type IndexAddress } from './host-buckets.js'

const BUCKET_KEY = 3 + 1 + 8 + 8
const PORT_KEY = 3 + 1 + 2 + 8 + 8

export class IndexPuts {
  private scratch = Buffer.allocUnsafe(BUCKET_KEY + 5 * 1024)

  constructor(private readonly b: LevelBatch) {}

  private room(bytes: number): Buffer {
    if (bytes > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(bytes, this.scratch.length * 2))
    return this.scratch
  }

  /**
   * `p0 p1 0x00 u8(bucket) u64(minTs) u64(n)` (`fb` flows, `ab` app rows) → the bucket's
   * entries (host-buckets.ts), one key per non-empty bucket, buckets in ascending order,
   * each bucket's addresses in the map's order.
   */
  hostBuckets(p0: number, p1: number, hosts: ReadonlyMap<IndexAddress, readonly number[]>, minTs: number, n: number): void {
    const byBucket: Array<Array<[IndexAddress, readonly number[]]> | undefined> = new Array(HOST_BUCKETS)
    for (const e of hosts) {
      const k = hostBucket(e[0])
      const list = byBucket[k]
      if (list === undefined) byBucket[k] = [e]
      else list.push(e)
    }
    for (let k = 0; k < HOST_BUCKETS; k++) {
      const list = byBucket[k]
      if (list === undefined) continue
      let bound = BUCKET_KEY
      for (const [, ids] of list) bound += entryBound(ids.length)
      const s = this.room(bound)
      s[0] = p0; s[1] = p1; s[2] = 0
      s[3] = k
      writeU64(s, 4, minTs)
      writeU64(s, 12, n)
      let end = BUCKET_KEY
      for (const [addr, ids] of list) end = writeEntry(s, end, addr, ids)
      this.b.put(s.subarray(0, BUCKET_KEY), s.subarray(BUCKET_KEY, end))
    }
  }

  /** `fp 0x00 u8(transport) u16(port) u64(minTs) u64(n)` → postings, for `transport << 16 | port` keys. */
  ports(ports: ReadonlyMap<number, readonly number[]>, minTs: number, n: number): void {
    for (const [tp, ids] of ports) {
      const s = this.room(PORT_KEY + 5 * ids.length)
      s[0] = 0x66; s[1] = 0x70; s[2] = 0 // 'fp'
      s[3] = (tp >>> 16) & 0xff
      s.writeUInt16BE(tp & 0xffff, 4)
      writeU64(s, 6, minTs)
      writeU64(s, 14, n)
      const end = writePostings(s, PORT_KEY, ids)
      this.b.put(s.subarray(0, PORT_KEY), s.subarray(PORT_KEY, end))
    }
  }
}

/** keys.ts's u64: big-endian, numbers up to 2^53, negative clamped to 0. */
function writeU64(s: Buffer, at: number, v: number): void {
  const x = v > 0 ? v : 0
  const hi = Math.floor(x / 0x1_0000_0000)
  s.writeUInt32BE(hi >>> 0, at)
  s.writeUInt32BE((x - hi * 0x1_0000_0000) >>> 0, at + 4)
}
