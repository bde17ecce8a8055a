/**
 * Persistence of the merged topology (`hs` hosts, `ed` edges), the time-series roll-ups
 * (`ru`), agents' loss periods (`lp`) and the merge watermark (`mt topology_n`, with the
 * batches merged above it in `mt topology_merged_above`). The model
 * itself lives in memory (collector/topology); this file only reads and writes its records.
 * A flush is ONE atomic write, so roll-ups, topology and watermark always agree.
 */
import { keys, prefixRange, KEY_PREFIX, readU64 } from './keys.js'
import type { LevelBatch, LevelDb, WriteOp } from './level-db.js'

export const ROLLUP_MINUTE = 1
export const ROLLUP_HOUR = 2
export const ROLLUP_BUCKET_US: Record<number, number> = { [ROLLUP_MINUTE]: 60_000_000, [ROLLUP_HOUR]: 3_600_000_000 }

export interface RollupCounts { flows: number; bytes: number; packets: number }
export interface RollupRow extends RollupCounts { resolution: number; bucketUs: number; dim: string }

/** An hour roll-up row of /flows/top (`rt`): group 0 talkers, 1 services, 2 ports. */
export interface TopRollupRow extends RollupCounts { bucketUs: number; group: number; key: string }

/** varints() of one value, written at `p` (at most 8 bytes for values below 2^56); the position after it. */
function varint(out: Buffer, p: number, v: number): number {
  v = Math.max(0, Math.floor(v))
  while (v >= 0x80) { out[p++] = (v % 0x80) | 0x80; v = Math.floor(v / 0x80) }
  out[p++] = v
  return p
}

function readVarints(b: Uint8Array, n: number): number[] | undefined {
  const out: number[] = []
  let p = 0
  for (let i = 0; i < n; i++) {
    let v = 0
    let mul = 1
    for (;;) {
      if (p >= b.length || mul > 2 ** 56) return undefined
      const x = b[p++]!
      v += (x & 0x7f) * mul
      if (x < 0x80) break
      mul *= 0x80
    }
    out.push(v)
  }
  return out
}

export interface LossPeriodRecord { agentId: string; fromUs: number; toUs: number; reason: string; records: number }

const WATERMARK = 'topology_n'
const MERGED_ABOVE = 'topology_merged_above'

function u64(v: number): Buffer {
  const b = Buffer.alloc(8)
  b.writeUInt32BE(Math.floor(v / 0x1_0000_0000), 0)
  b.writeUInt32BE(v >>> 0, 4)
  return b
}

export function encodeRollup(c: RollupCounts): Buffer {
  return Buffer.concat([u64(c.flows), u64(c.bytes), u64(c.packets)])
}

export function decodeRollup(v: Uint8Array): RollupCounts {
  if (v.length < 24) return { flows: 0, bytes: 0, packets: 0 }
  return { flows: readU64(v, 0), bytes: readU64(v, 8), packets: readU64(v, 16) }
}

/**
 * One flush of the topology, written as it is built: each record goes into the level batch
 * as soon as it is encoded (no array of every dirty host's and edge's key and value held
 * until the write — tens of thousands in a busy second, which lived long enough to be
 * copied by every young-generation GC). The caller adds, in this order: hosts, edges,
 * deleted hosts and edges, roll-ups (absolute values: the caller keeps the running totals of
 * the buckets it touched), /flows/top hour roll-ups, loss periods; write() adds the
 * watermark last and writes everything in ONE atomic write, so roll-ups, topology and
 * watermark always agree.
 */
export class TopologyFlushBatch {
  /**
   * Where the key and value of a host, edge or /flows/top row are built: level's chained
   * batch copies a put's bytes into the native batch at once, so one buffer serves every put
   * (a flush writes tens of thousands of records under load: no key Buffer, value Buffer or
   * key builder per record). The same bytes as keys.host / keys.edge / keys.topRollup and
   * the UTF-8 (or varint) value; tested. Hand-written hot path.
   */
  private scratch = Buffer.allocUnsafe(4096)

  constructor(private readonly b: LevelBatch) {}

  /** The scratch buffer with room for `bytes`. */
  private room(bytes: number): Buffer {
    if (bytes > this.scratch.length) this.scratch = Buffer.allocUnsafe(Math.max(bytes, this.scratch.length * 2))
    return this.scratch
  }

  /** put(prefix 0x00 keyText, UTF-8 of value). */
  private putTexts(p0: number, p1: number, keyText: string, value: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    const s = this.room(3 + 3 * (keyText.length + value.length))
    s[0] = p0; s[1] = p1; s[2] = 0
    const kl = 3 + s.write(keyText, 3, 'utf8')
    const vl = s.write(value, kl, 'utf8')
    this.b.put(s.subarray(0, kl), s.subarray(kl, kl + vl))
  }

  host(id: string, json: string): void { this.putTexts(0x68, 0x73, id, json) } // 'hs'
  edge(id: string, json: string): void { this.putTexts(0x65, 0x64, id, json) } // 'ed'
  deleteHost(id: string): void { this.b.del(keys.host(id)) }
  deleteEdge(id: string): void { this.b.del(keys.edge(id)) }
  rollup(r: RollupRow): void { this.b.put(keys.rollup(r.resolution, r.bucketUs, r.dim), encodeRollup(r)) }

  /** put(keys.topRollup(bucketUs, group, key), varints([flows, bytes, packets])) of a /flows/top row, built in the scratch buffer. */
  topRollup(bucketUs: number, group: number, key: string, c: RollupCounts): void {
    const s = this.room(12 + 3 * key.length + 30)
    s[0] = 0x72; s[1] = 0x74; s[2] = 0 // 'rt'
    const b = bucketUs > 0 ? bucketUs : 0
    const hi = Math.floor(b / 0x1_0000_0000)
    s.writeUInt32BE(hi >>> 0, 3)
    s.writeUInt32BE((b - hi * 0x1_0000_0000) >>> 0, 7)
    s[11] = group & 0xff
    const kl = 12 + s.write(key, 12, 'utf8')
    let p = varint(s, kl, c.flows)
    p = varint(s, p, c.bytes)
    p = varint(s, p, c.packets)
    this.b.put(s.subarray(0, kl), s.subarray(kl, p))
  }
  lossPeriod(p: LossPeriodRecord): void { this.b.putText(keys.lossPeriod(p.agentId, p.fromUs, p.toUs), JSON.stringify(p)) }

  /**
   * Adds the merge position and writes the whole flush; resolves once durable. `watermark`:
   * every batch numbered up to it is merged (or was never stored); `mergedAbove`: the batches
   * above it merged too (stores of several agents finish out of number order).
   */
  write(watermark: number, mergedAbove: readonly number[]): Promise<void> {
    if (mergedAbove.length > 0) this.b.putText(keys.meta(MERGED_ABOVE), JSON.stringify(mergedAbove))
    else this.b.del(keys.meta(MERGED_ABOVE))
    this.b.put(keys.meta(WATERMARK), u64(watermark))
    return this.b.write()
  }

  /** Drops an unwritten flush. */
  close(): Promise<void> { return this.b.close() }
}

export class TopologyStore {
  constructor(private readonly db: LevelDb) {}

  async watermark(): Promise<number> {
    const v = await this.db.get(keys.meta(WATERMARK))
    return v === undefined ? 0 : readU64(v, 0)
  }

  /** Batch numbers above the watermark that the last flush had merged (unreadable = none). */
  async mergedAbove(): Promise<number[]> {
    const v = await this.db.get(keys.meta(MERGED_ABOVE))
    if (v === undefined) return []
    try {
      const a = JSON.parse(v.toString('utf8')) as unknown
      return Array.isArray(a) ? a.filter((n): n is number => Number.isSafeInteger(n) && n > 0) : []
    } catch {
      return []
    }
  }

  /** A flush to fill and write (TopologyFlushBatch). */
  flushBatch(): TopologyFlushBatch {
    return new TopologyFlushBatch(this.db.batch())
  }

  /** Stored hosts as [host_id, value]. */
  async *hosts(): AsyncGenerator<[string, string]> {
    for await (const [k, v] of this.db.entries(prefixRange(KEY_PREFIX.host))) yield [k.toString('utf8', 3), v.toString('utf8')]
  }

  /** Stored edges as [edge_id, value]. */
  async *edges(): AsyncGenerator<[string, string]> {
    for await (const [k, v] of this.db.entries(prefixRange(KEY_PREFIX.edge))) yield [k.toString('utf8', 3), v.toString('utf8')]
  }

  async lossPeriods(): Promise<LossPeriodRecord[]> {
    const out: LossPeriodRecord[] = []
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.lossPeriod))) out.push(JSON.parse(v.toString('utf8')) as LossPeriodRecord)
    return out
  }

  /** Roll-ups of one resolution with bucket in [fromUs, toUs), optionally of one dim only. */
  async *rollups(resolution: number, fromUs: number, toUs: number, dim?: string): AsyncGenerator<RollupRow> {
    for await (const [k, v] of this.db.entries(keys.rollupRange(resolution, fromUs, toUs))) {
      const d = k.toString('utf8', 12)
      if (dim !== undefined && d !== dim) continue
      yield { resolution, bucketUs: readU64(k, 4), dim: d, ...decodeRollup(v) }
    }
  }

  /** /flows/top roll-up rows of every group with bucket in [fromUs, toUs), in key order. */
  async *topRollupsRange(fromUs: number, toUs: number): AsyncGenerator<TopRollupRow> {
    for await (const [k, v] of this.db.entries({ gte: keys.topRollup(fromUs, 0, ''), lt: keys.topRollup(toUs, 0, '') })) {
      const c = readVarints(v, 3)
      if (c !== undefined) yield { bucketUs: readU64(k, 3), group: k[11]!, key: k.toString('utf8', 12), flows: c[0]!, bytes: c[1]!, packets: c[2]! }
    }
  }

  /** /flows/top roll-up rows of one hour bucket and group. */
  async *topRollups(bucketUs: number, group: number): AsyncGenerator<TopRollupRow> {
    for await (const [k, v] of this.db.entries(keys.topRollupsOf(bucketUs, group))) {
      const c = readVarints(v, 3)
      if (c !== undefined) yield { bucketUs, group, key: k.toString('utf8', 12), flows: c[0]!, bytes: c[1]!, packets: c[2]! }
    }
  }

  async rollup(resolution: number, bucketUs: number, dim: string): Promise<RollupCounts | undefined> {
    const v = await this.db.get(keys.rollup(resolution, bucketUs, dim))
    return v === undefined ? undefined : decodeRollup(v)
  }

  /** Deletes every host, edge, roll-up and the watermark (before a rebuild; loss periods stay: they are not derivable from stored batches). */
  async clear(): Promise<void> {
    for (const p of [KEY_PREFIX.host, KEY_PREFIX.edge, KEY_PREFIX.rollup, KEY_PREFIX.topRollup] as const) {
      let ops: WriteOp[] = []
      for await (const k of this.db.keys(prefixRange(p))) {
        ops.push({ type: 'del', key: k })
        if (ops.length >= 10_000) { await this.db.write(ops); ops = [] }
      }
      await this.db.write(ops)
    }
    await this.db.write([{ type: 'del', key: keys.meta(WATERMARK) }, { type: 'del', key: keys.meta(MERGED_ABOVE) }])
  }
}
