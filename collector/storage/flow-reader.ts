/**
 * Read side of the flow tables for queries: segments in (min_ts, n) order from a position,
 * and the postings of the `fb` (and older `fh`) / `fv` / `fp` indexes restricted to a time range. Values
 * are returned as stored (Batch-compatible bytes); decoding is the query layer's business.
 */
import { keys, readU64, batchNumberOfKey, minTsOfSegmentKey, minTsOfPostingsKey, KEY_PREFIX, prefixRange } from './keys.js'
import type { LevelDb } from './level-db.js'
import { readFlowSegment } from './batch-store.js'
import { decodeFlowChunk } from './flow-chunks.js'
import { decodePostings } from './postings.js'
import { HOST_BUCKETS, hostBucket, indexAddressOf16, postingsInRange, postingsOfAddress, type IndexAddress } from './host-buckets.js'
import { appSegmentEntries, appSegmentMaxTsUs } from './app-segment.js'
import type { FlowMetaRecord } from './records.js'

const MAX_N = Number.MAX_SAFE_INTEGER

export interface SegmentRef { minTsUs: number; n: number }
export interface SegmentMeta extends SegmentRef { meta: FlowMetaRecord }
/** Flows of one segment selected by an index (ascending positions). */
export interface SegmentPostings extends SegmentRef { indexes: number[] }

/** One index to restrict a flow query with. */
export type FlowIndexSelector =
  | { kind: 'host'; addr16: Uint8Array }
  | { kind: 'cidr'; lo16: Uint8Array; hi16: Uint8Array }
  | { kind: 'service'; name: string }
  | { kind: 'port'; transport: number; port: number }

/** Segment metas remembered by meta() (a meta never changes; retention clears the caches). */
const META_CACHE = 100_000
/** Decoded chunks remembered by chunk(), in bytes (an index query reads one chunk per segment hit). */
const CHUNK_CACHE_BYTES = 32 * 1024 * 1024

export class FlowReader {
  private readonly metaCache = new Map<string, FlowMetaRecord>()
  private readonly chunkCache = new Map<string, Buffer>()
  private chunkBytes = 0

  constructor(private readonly db: LevelDb, private readonly maxSpanUs: () => number, private readonly maxAppSpanUs: () => number = () => 0) {}

  /** The lower bound of segment min_ts for a query starting at fromUs. */
  startOf(fromUs: number): number { return Math.max(0, fromUs - this.maxSpanUs()) }

  /** Segment metas with min_ts in [startOf(fromUs), toUs], from `after` (exclusive) on. */
  async *metas(fromUs: number, toUs: number, after?: SegmentRef): AsyncGenerator<SegmentMeta> {
    const range = resumeRange(keys.flowMeta(this.startOf(fromUs), 0), keys.flowMeta(toUs, MAX_N), after && keys.flowMeta(after.minTsUs, after.n))
    for await (const [k, v] of this.db.entries(range)) {
      const meta = JSON.parse(v.toString('utf8')) as FlowMetaRecord
      if (meta.maxTsUs < fromUs) continue
      yield { minTsUs: minTsOfSegmentKey(k), n: batchNumberOfKey(k), meta }
    }
  }

  /** A whole segment (Batch-compatible bytes). */
  async segment(ref: SegmentRef): Promise<Buffer | undefined> {
    return readFlowSegment(this.db, ref.minTsUs, ref.n)
  }

  /** Chunk `c` of a segment (flows c·256 …; Batch-compatible bytes), or undefined. */
  async chunk(ref: SegmentRef, c: number): Promise<Buffer | undefined> {
    const id = `${ref.minTsUs}:${ref.n}:${c}`
    const hit = this.chunkCache.get(id)
    if (hit !== undefined) {
      this.chunkCache.delete(id)
      this.chunkCache.set(id, hit)
      return hit
    }
    const v = await this.db.get(keys.flowChunk(ref.minTsUs, ref.n, c))
    const bytes = v === undefined ? undefined : decodeFlowChunk(v)
    if (bytes !== undefined && !this.chunkCache.has(id)) {
      this.chunkCache.set(id, bytes)
      this.chunkBytes += bytes.length
      while (this.chunkBytes > CHUNK_CACHE_BYTES && this.chunkCache.size > 1) {
        const [k, b] = this.chunkCache.entries().next().value as [string, Buffer]
        this.chunkCache.delete(k)
        this.chunkBytes -= b.length
      }
    }
    return bytes
  }

  /** Forgets cached metas and chunks (after retention deleted segments). */
  clearCaches(): void {
    this.metaCache.clear()
    this.chunkCache.clear()
    this.chunkBytes = 0
  }

  async observationSegment(ref: SegmentRef): Promise<Buffer | undefined> {
    return this.db.get(keys.observationSegment(ref.minTsUs, ref.n))
  }

  async eventSegment(ref: SegmentRef): Promise<Buffer | undefined> {
    return this.db.get(keys.eventSegment(ref.minTsUs, ref.n))
  }

  /** A batch's app rows as Batch-decodable `app_records` entries; undefined when absent or damaged. */
  async appSegment(ref: SegmentRef): Promise<Buffer | undefined> {
    const v = await this.db.get(keys.appSegment(ref.minTsUs, ref.n))
    return v === undefined ? undefined : appSegmentEntries(v)
  }

  async gapSegment(agentId: string, n: number): Promise<Buffer | undefined> {
    return this.db.get(keys.gaps(agentId, n))
  }

  async meta(ref: SegmentRef): Promise<FlowMetaRecord | undefined> {
    const id = `${ref.minTsUs}:${ref.n}`
    const hit = this.metaCache.get(id)
    if (hit !== undefined) return hit
    const v = await this.db.get(keys.flowMeta(ref.minTsUs, ref.n))
    if (v === undefined) return undefined
    const m = JSON.parse(v.toString('utf8')) as FlowMetaRecord
    if (this.metaCache.size >= META_CACHE) this.metaCache.delete(this.metaCache.keys().next().value as string)
    this.metaCache.set(id, m)
    return m
  }

  /** Postings of one host / service / port selector, streamed in (min_ts, n) order (no CIDR: its addresses need merging). */
  async *postingsStream(sel: Exclude<FlowIndexSelector, { kind: 'cidr' }>, fromUs: number, toUs: number): AsyncGenerator<SegmentPostings> {
    const lo = this.startOf(fromUs)
    if (sel.kind === 'host') {
      // The `fh` keys of a store written before 2026-12-08, and the `fb` buckets.
      const addr = indexAddressOf16(sel.addr16)
      yield* mergeInOrder(this.keyPostings({ gte: keys.flowByHost(sel.addr16, lo, 0), lte: keys.flowByHost(sel.addr16, toUs, MAX_N) }),
        this.bucketPostings(addr === undefined ? undefined : keys.flowHostBucketRange(hostBucket(addr), lo, toUs), addr))
      return
    }
    yield* this.keyPostings(sel.kind === 'service' ? { gte: keys.flowByService(sel.name, lo, 0), lte: keys.flowByService(sel.name, toUs, MAX_N) }
      : { gte: keys.flowByPort(sel.transport, sel.port, lo, 0), lte: keys.flowByPort(sel.transport, sel.port, toUs, MAX_N) })
  }

  /** Postings keys (`fh`, `fv`, `fp`, `ah`: one list per key) of a range. */
  private async *keyPostings(range: Range): AsyncGenerator<SegmentPostings> {
    for await (const [k, v] of this.db.entries(range)) yield { minTsUs: minTsOfPostingsKey(k), n: batchNumberOfKey(k), indexes: decodePostings(v) }
  }

  /** One address's postings from the host buckets (`fb`, `ab`) of a range of one bucket; nothing when either is undefined. */
  private async *bucketPostings(range: Range | undefined, addr: IndexAddress | undefined): AsyncGenerator<SegmentPostings> {
    if (range === undefined || addr === undefined) return
    for await (const [k, v] of this.db.entries(range)) {
      const indexes = postingsOfAddress(v, addr)
      if (indexes !== undefined) yield { minTsUs: minTsOfPostingsKey(k), n: batchNumberOfKey(k), indexes }
    }
  }

  /**
   * Postings of one index selector for segments with min_ts in [startOf(fromUs), toUs],
   * in (min_ts, n) order (several addresses of a CIDR are merged per segment).
   */
  async postings(sel: FlowIndexSelector, fromUs: number, toUs: number): Promise<SegmentPostings[]> {
    const lo = this.startOf(fromUs)
    if (sel.kind !== 'cidr') {
      const out: SegmentPostings[] = []
      for await (const p of this.postingsStream(sel, fromUs, toUs)) out.push(p)
      return out
    }
    const out: SegmentPostings[] = []
    // Older stores: the `fh` keys of every address in the block.
    for await (const [k, v] of this.db.entries(keys.flowsOfAddressRange(sel.lo16, sel.hi16))) {
      const minTsUs = minTsOfPostingsKey(k)
      if (minTsUs < lo || minTsUs > toUs) continue
      out.push({ minTsUs, n: batchNumberOfKey(k), indexes: decodePostings(v) })
    }
    // Every bucket: a block's addresses hash anywhere.
    for (let b = 0; b < HOST_BUCKETS; b++) {
      for await (const [k, v] of this.db.entries(keys.flowHostBucketRange(b, lo, toUs))) {
        const lists = postingsInRange(v, sel.lo16, sel.hi16)
        if (lists.length === 0) continue
        const minTsUs = minTsOfPostingsKey(k)
        const n = batchNumberOfKey(k)
        for (const indexes of lists) out.push({ minTsUs, n, indexes })
      }
    }
    // Merge the per-address postings of each segment.
    const bySeg = new Map<string, SegmentPostings>()
    for (const p of out) {
      const id = `${p.minTsUs}:${p.n}`
      const cur = bySeg.get(id)
      if (cur === undefined) bySeg.set(id, p)
      else cur.indexes.push(...p.indexes)
    }
    const merged = [...bySeg.values()]
    for (const p of merged) p.indexes = [...new Set(p.indexes)].sort((a, b) => a - b)
    return merged.sort((a, b) => a.minTsUs - b.minTsUs || a.n - b.n)
  }

  /** Event segments with min_ts in [fromUs − slack, toUs], in order, from `after` on. */
  async *eventSegments(fromUs: number, toUs: number, slackUs: number, after?: SegmentRef): AsyncGenerator<SegmentRef & { bytes: Buffer }> {
    const range = resumeRange(keys.eventSegment(Math.max(0, fromUs - slackUs), 0), keys.eventSegment(toUs, MAX_N), after && keys.eventSegment(after.minTsUs, after.n))
    for await (const [k, v] of this.db.entries(range)) yield { minTsUs: minTsOfSegmentKey(k), n: batchNumberOfKey(k), bytes: v }
  }

  /**
   * App-record segments that may hold a record in [fromUs, toUs]: min_ts in
   * [fromUs − largest app segment span, toUs] and max_ts ≥ fromUs, in (min_ts, n) order,
   * from `after` (exclusive) on. `bytes`: Batch-decodable `app_records` entries.
   */
  async *appSegments(fromUs: number, toUs: number, after?: SegmentRef): AsyncGenerator<SegmentRef & { maxTsUs: number; bytes: Buffer }> {
    const range = resumeRange(keys.appSegment(Math.max(0, fromUs - this.maxAppSpanUs()), 0), keys.appSegment(toUs, MAX_N), after && keys.appSegment(after.minTsUs, after.n))
    for await (const [k, v] of this.db.entries(range)) {
      const maxTsUs = appSegmentMaxTsUs(v)
      if (maxTsUs < fromUs) continue
      const bytes = appSegmentEntries(v)
      // A corrupt segment (disk damage) is skipped like an unreadable flow chunk.
      if (bytes !== undefined) yield { minTsUs: minTsOfSegmentKey(k), n: batchNumberOfKey(k), maxTsUs, bytes }
    }
  }

  /**
   * The app-record segments with rows naming `host16` as id.orig_h or id.resp_h (`ab`
   * buckets, and `ah` postings of a store written 2026-12-07), with the same range, order and
   * `after` as appSegments; `indexes`: those rows. Only the host's segments are read.
   */
  async *appSegmentsOfHost(host16: Buffer, fromUs: number, toUs: number, after?: SegmentRef): AsyncGenerator<SegmentRef & { maxTsUs: number; bytes: Buffer; indexes: number[] }> {
    const lo = Math.max(0, fromUs - this.maxAppSpanUs())
    const addr = indexAddressOf16(host16)
    const b = addr === undefined ? 0 : hostBucket(addr)
    // The `ah` keys of a store written 2026-12-07, and the `ab` buckets.
    const legacy = this.keyPostings(resumeRange(keys.appByHost(host16, lo, 0), keys.appByHost(host16, toUs, MAX_N), after && keys.appByHost(host16, after.minTsUs, after.n)))
    const buckets = this.bucketPostings(resumeRange(keys.appHostBucket(b, lo, 0), keys.appHostBucket(b, toUs, MAX_N), after && keys.appHostBucket(b, after.minTsUs, after.n)), addr)
    for await (const p of mergeInOrder(legacy, buckets)) {
      const seg = await this.db.get(keys.appSegment(p.minTsUs, p.n))
      if (seg === undefined) continue
      const maxTsUs = appSegmentMaxTsUs(seg)
      if (maxTsUs < fromUs) continue
      const bytes = appSegmentEntries(seg)
      if (bytes !== undefined) yield { minTsUs: p.minTsUs, n: p.n, maxTsUs, bytes, indexes: p.indexes }
    }
  }

  /** How many keys a table holds (a full key scan; for stats on small tables). */
  async countKeys(prefix: (typeof KEY_PREFIX)[keyof typeof KEY_PREFIX]): Promise<number> {
    let n = 0
    for await (const _ of this.db.keys(prefixRange(prefix))) n++
    return n
  }

  /** Sum of the `count` of every flow segment meta (exact number of stored flow records). */
  async storedFlowCount(): Promise<number> {
    let n = 0
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.flowMeta))) n += (JSON.parse(v.toString('utf8')) as FlowMetaRecord).count
    return n
  }

  /** LevelDB's estimate of the bytes on disk of the whole store. */
  async approximateBytes(): Promise<number> {
    return this.db.approximateSize(Buffer.from([0]), Buffer.from([0xff]))
  }
}

type Range = { gte: Buffer; lte: Buffer } | { gt: Buffer; lte: Buffer }

/** [gte, lte], or from just after `after` when that is inside it (a page cursor). */
function resumeRange(gte: Buffer, lte: Buffer, after: Buffer | undefined): Range {
  return after !== undefined && Buffer.compare(after, gte) >= 0 ? { gt: after, lte } : { gte, lte }
}

/** Two streams of postings, each in (min_ts, n) order, as one stream in that order. */
async function* mergeInOrder(a: AsyncGenerator<SegmentPostings>, b: AsyncGenerator<SegmentPostings>): AsyncGenerator<SegmentPostings> {
  try {
    let x = await a.next()
    let y = await b.next()
    while (!x.done || !y.done) {
      if (y.done || (!x.done && (x.value.minTsUs < y.value.minTsUs || (x.value.minTsUs === y.value.minTsUs && x.value.n <= y.value.n)))) {
        yield x.value!
        x = await a.next()
      } else {
        yield y.value
        y = await b.next()
      }
    }
  } finally {
    // A consumer that stops early (a page is full) closes both iterators.
    await a.return(undefined)
    await b.return(undefined)
  }
}

export { readU64 }
