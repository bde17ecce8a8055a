/**
 * Expiry of old detail, kind by kind (keys.ts names the tables). Each call deletes in
 * chunks of at most CHUNK operations (one atomic write each) and returns how many keys
 * went. Called by the collector's retention job (collector/retention/retention-job.ts).
 *
 * Flows: a segment goes when its newest flow (`fm` max_ts) is older than the cutoff; its
 * `fb`/`fh`/`fv`/`fp` postings go with it (each index table is read group by group up to the
 * newest expired segment's min_ts, keys compared by their segment). Host observations (`ho`) and gap records (`gp`) follow the flows.
 * Events: an `ev` segment goes when its oldest event is older than the cutoff minus one
 * hour (event segments record only their oldest time; an agent batch spans seconds).
 * App records: an `ap` segment goes when its newest record (the max_ts in front of the
 * value) is older than the cutoff.
 * Roll-ups: buckets older than the cutoff of their resolution.
 */
import { keys, prefixRange, KEY_PREFIX, minTsOfSegmentKey, batchNumberOfKey, minTsOfPostingsKey, readU64, type KeyPrefix } from './keys.js'
import type { LevelDb, WriteOp } from './level-db.js'
import type { FlowMetaRecord, BatchRecord } from './records.js'
import { appSegmentMaxTsUs } from './app-segment.js'

const CHUNK = 10_000
const EVENT_SLACK_US = 3_600_000_000

/**
 * Keys of a postings table (`<prefix> <group> <min_ts u64> <n u64>`: a bucket, address,
 * service or port, then time) with min_ts ≤ maxMinTs. Within a group the keys sort by
 * min_ts, so at the first later key the read seeks past the group's end: retention reads
 * the expired postings and one key per group, not the whole table (which grows with the
 * retention period: every batch writes up to 64 `fb` keys and one per service and port).
 * Seeking past `group ff…` skips no other group because groups are prefix-free: fixed
 * width (bucket, port, address) or text ending in a 0 byte that names never contain.
 */
export function postingsThrough(db: LevelDb, prefix: KeyPrefix, maxMinTs: number): AsyncGenerator<Buffer> {
  return db.keysSeeking(prefixRange(prefix), (k) => {
    if (minTsOfPostingsKey(k) <= maxMinTs) return undefined
    const past = Buffer.alloc(k.length + 1, 0xff)
    k.copy(past, 0, 0, k.length - 16)
    return past
  })
}

class Deleter {
  private ops: WriteOp[] = []
  deleted = 0
  constructor(private readonly db: LevelDb) {}
  async del(key: Buffer): Promise<void> {
    this.ops.push({ type: 'del', key: Buffer.from(key) })
    this.deleted++
    if (this.ops.length >= CHUNK) await this.flush()
  }
  async flush(): Promise<void> {
    const ops = this.ops
    this.ops = []
    await this.db.write(ops)
  }
}

export class Retention {
  /** `onFlowsExpired` runs after flow segments were deleted (the flow reader forgets its caches). */
  constructor(private readonly db: LevelDb, private readonly onFlowsExpired: () => void = () => undefined) {}

  /** Deletes flow segments (and their postings, observations, gaps) older than cutoffUs. */
  async expireFlows(cutoffUs: number): Promise<number> {
    const d = new Deleter(this.db)
    const gone = new Set<number>()
    let newestGone = 0
    for await (const [k, v] of this.db.entries({ ...prefixRange(KEY_PREFIX.flowMeta), lt: keys.flowMeta(cutoffUs, 0) })) {
      const meta = JSON.parse(v.toString('utf8')) as FlowMetaRecord
      if (meta.maxTsUs >= cutoffUs) continue
      const minTs = minTsOfSegmentKey(k)
      const n = batchNumberOfKey(k)
      gone.add(n)
      if (minTs > newestGone) newestGone = minTs
      await d.del(k)
      for await (const c of this.db.keys(keys.flowChunksOf(minTs, n))) await d.del(c)
    }
    if (gone.size > 0) {
      for (const p of [KEY_PREFIX.flowHostBucket, KEY_PREFIX.flowByHost, KEY_PREFIX.flowByService, KEY_PREFIX.flowByPort] as const) {
        for await (const k of postingsThrough(this.db, p, newestGone)) if (gone.has(batchNumberOfKey(k))) await d.del(k)
      }
    }
    for await (const k of this.db.keys({ ...prefixRange(KEY_PREFIX.observationSegment), lt: keys.observationSegment(cutoffUs, 0) })) await d.del(k)
    await d.flush()
    if (gone.size > 0) this.onFlowsExpired()
    return d.deleted
  }

  /** Deletes event segments whose oldest event is older than cutoffUs − 1 h. */
  async expireEvents(cutoffUs: number): Promise<number> {
    const d = new Deleter(this.db)
    for await (const k of this.db.keys({ ...prefixRange(KEY_PREFIX.eventSegment), lt: keys.eventSegment(Math.max(0, cutoffUs - EVENT_SLACK_US), 0) })) await d.del(k)
    await d.flush()
    return d.deleted
  }

  /** Deletes app-record segments whose newest record is older than cutoffUs, and their `ab` (and older `ah`) postings. */
  async expireAppRecords(cutoffUs: number): Promise<number> {
    const d = new Deleter(this.db)
    const gone = new Set<number>()
    let newestGone = 0
    for await (const [k, v] of this.db.entries({ ...prefixRange(KEY_PREFIX.appSegment), lt: keys.appSegment(cutoffUs, 0) })) {
      if (appSegmentMaxTsUs(v) >= cutoffUs) continue
      gone.add(batchNumberOfKey(k))
      const minTs = minTsOfSegmentKey(k)
      if (minTs > newestGone) newestGone = minTs
      await d.del(k)
    }
    if (gone.size > 0) {
      for (const p of [KEY_PREFIX.appHostBucket, KEY_PREFIX.appByHost] as const) {
        for await (const k of postingsThrough(this.db, p, newestGone)) if (gone.has(batchNumberOfKey(k))) await d.del(k)
      }
    }
    await d.flush()
    return d.deleted
  }

  /** Deletes roll-up buckets of one resolution older than cutoffUs. */
  async expireRollups(resolution: number, cutoffUs: number): Promise<number> {
    const d = new Deleter(this.db)
    for await (const k of this.db.keys(keys.rollupRange(resolution, 0, cutoffUs))) await d.del(k)
    await d.flush()
    return d.deleted
  }

  /** Deletes /flows/top hour roll-ups with bucket before cutoffUs. */
  async expireTopRollups(cutoffUs: number): Promise<number> {
    const d = new Deleter(this.db)
    for await (const k of this.db.keys(keys.topRollupsBefore(cutoffUs))) await d.del(k)
    await d.flush()
    return d.deleted
  }

  /** Deletes loss periods that ended before cutoffUs. */
  async expireLossPeriods(cutoffUs: number): Promise<number> {
    const d = new Deleter(this.db)
    for await (const k of this.db.keys(prefixRange(KEY_PREFIX.lossPeriod))) if (readU64(k, k.length - 8) < cutoffUs) await d.del(k)
    await d.flush()
    return d.deleted
  }

  /**
   * Deletes batch records, their dedup keys and gap records of batches received before
   * cutoffUs (never the newest batch: it carries the batch counter across restarts).
   */
  async expireBatches(cutoffUs: number): Promise<number> {
    const d = new Deleter(this.db)
    let last: Buffer | undefined
    for await (const k of this.db.keys({ ...prefixRange(KEY_PREFIX.batch), reverse: true, limit: 1 })) last = k
    for await (const [k, v] of this.db.entries(prefixRange(KEY_PREFIX.batch))) {
      if (last !== undefined && k.equals(last)) break
      const rec = JSON.parse(v.toString('utf8')) as BatchRecord
      if (rec.receivedAtUs >= cutoffUs) break
      await d.del(k)
      await d.del(keys.dedup(rec.agentId, rec.epoch, rec.seq))
      if (rec.gaps > 0) await d.del(keys.gaps(rec.agentId, rec.n))
    }
    await d.flush()
    return d.deleted
  }
}
