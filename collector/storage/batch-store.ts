/**
 * Ingested batches: the dedup record, the flow/event/observation/app-record segments, the flow
 * indexes and the batch record, all written in ONE atomic level batch (keys.ts explains
 * the layout). Reading back is here too, for tests, tools and the query side (issue 6).
 */
import { keys, prefixRange, KEY_PREFIX, readU64, batchNumberOfKey, minTsOfSegmentKey, subRange } from './keys.js'
import type { LevelDb, WriteOp } from './level-db.js'
import { decodeFlowChunk } from './flow-chunks.js'
import { appSegmentEntries, encodeAppSegment } from './app-segment.js'
import { decodePostings, encodePostings } from './postings.js'
import { IndexPuts } from './index-puts.js'
import type { IndexAddress } from './host-buckets.js'
import type { BatchRecord, FlowMetaRecord } from './records.js'

/** What the indexes need from a batch's flows (built by ingest from the wire bytes). */
export interface FlowIndex {
  minTsUs: number
  maxTsUs: number
  /** Address (IPv4 as its number, else the 16-byte form as a latin1 string) → ascending indexes of the flows that have it. */
  hosts: Map<IndexAddress, number[]>
  /** Service name → flows whose service list names it. */
  services: Map<string, number[]>
  /** transport << 16 | resp_port → flows. */
  ports: Map<number, number[]>
}

export interface BatchWrite {
  agentId: string
  epoch: number
  seq: number
  sentAtUs: number
  receivedAtUs: number
  /** `flows = 6` entries as sent (empty when none) and how many. */
  flowSegment: Buffer
  /** flowSegment as chunk values (encodeFlowChunksAsync: compressed off the event loop). */
  flowChunks: Buffer[]
  flowCount: number
  flowIndex: FlowIndex
  eventSegment: Buffer
  eventCount: number
  eventMinTsUs: number
  observationSegment: Buffer
  observationCount: number
  observationMinTsUs: number
  gapSegment: Buffer
  gapCount: number
  /** `app_records = 12` entries as sent, how many, and their times (ts_us clamped to 0..2^53-1). */
  appSegment: Buffer
  /** appSegment compressed (encodeAppPayloadAsync, off the event loop); stored raw when absent. */
  appPayload?: Buffer
  /** Address → ascending indexes of the app rows with it as id.orig_h or id.resp_h. */
  appHosts?: Map<IndexAddress, number[]>
  appCount: number
  appMinTsUs: number
  appMaxTsUs: number
  /** More operations for the same atomic batch (agent record, latest stats/inventory), given the batch number. */
  extraOps: (n: number) => WriteOp[]
}

export interface StoredFlowSegment {
  n: number
  minTsUs: number
  meta: FlowMetaRecord
  /** Batch-compatible bytes: decode with Batch.decode(bytes).flows. */
  bytes: Buffer
}

const SPAN_KEY = 'max_segment_span_us'
const APP_SPAN_KEY = 'max_app_span_us'

const u64Value = (v: number): Buffer => {
  const b = Buffer.alloc(8)
  b.writeUInt32BE(Math.floor(v / 0x1_0000_0000), 0)
  b.writeUInt32BE(v >>> 0, 4)
  return b
}

/**
 * A span is a running maximum kept as one key per increase, `<name>@<16 hex digits>`, never
 * overwritten: two batches written at once (LevelDB may apply their writes in either order)
 * cannot leave the smaller value behind, and the largest is the last key. Stores written
 * before this kept one `<name>` key; it is still read.
 */
const spanKey = (name: string, span: number): Buffer => keys.meta(`${name}@${span.toString(16).padStart(16, '0')}`)

async function loadSpan(db: LevelDb, name: string): Promise<number> {
  const old = await db.get(keys.meta(name))
  let max = old === undefined ? 0 : readU64(old, 0)
  for await (const k of db.keys({ ...subRange(keys.meta(`${name}@`)), reverse: true, limit: 1 })) {
    const v = Number.parseInt(k.subarray(k.length - 16).toString('latin1'), 16)
    if (Number.isSafeInteger(v) && v > max) max = v
  }
  return max
}

export class BatchStore {
  private nextN = 1
  private maxSpanUs = 0
  private maxAppSpanUs = 0
  private readonly abandonedListeners: ((n: number) => void)[] = []
  /** Numbers whose write has not finished yet. */
  private readonly writing = new Set<number>()
  /** Per agent, the highest (epoch, seq) stored (findStored). */
  private readonly highest = new Map<string, { epoch: number; seq: number }>()

  constructor(private readonly db: LevelDb) {}

  /** Recovers the batch counter and the largest segment span. Called by CollectorStore.open. */
  async load(): Promise<void> {
    for await (const k of this.db.keys({ ...prefixRange(KEY_PREFIX.batch), reverse: true, limit: 1 })) this.nextN = batchNumberOfKey(k) + 1
    this.maxSpanUs = await loadSpan(this.db, SPAN_KEY)
    this.maxAppSpanUs = await loadSpan(this.db, APP_SPAN_KEY)
  }

  get maxSegmentSpanUs(): number { return this.maxSpanUs }

  /** The largest max_ts − min_ts of any app-record segment written (`mt max_app_span_us`). */
  get maxAppSegmentSpanUs(): number { return this.maxAppSpanUs }

  /**
   * The highest batch number handed out, and those of them still being written: every other
   * number up to `last` is stored (unless retention deleted it) or was abandoned.
   */
  numbering(): { last: number; writing: ReadonlySet<number> } {
    return { last: this.nextN - 1, writing: new Set(this.writing) }
  }

  /**
   * Numbers handed out from now on are above `n`. The counter is recovered from the newest
   * stored batch, which may be gone (retention, an abandoned write); the topology's watermark
   * remembers numbers that must not be handed out again.
   */
  numberAbove(n: number): void {
    if (n >= this.nextN) this.nextN = n + 1
  }

  /**
   * Calls `fn(n)` when the write of batch `n` failed: the number is never used (the topology
   * merge, which follows batch numbers, must not wait for it).
   */
  onAbandoned(fn: (n: number) => void): void {
    this.abandonedListeners.push(fn)
  }

  /**
   * The batch number `(agent, epoch, seq)` was stored under, or undefined. A pair above the
   * highest one stored from the agent is new without a read: an agent's batches come in
   * (epoch, seq) order, so only a retry needs the dedup key (a LevelDB read per batch was
   * ~4 % of the ingest path's CPU). The highest pair is read once per agent (the last `dd`
   * key of the agent: keys sort by epoch, then seq) and kept up to date by write().
   */
  async findStored(agentId: string, epoch: number, seq: number): Promise<number | undefined> {
    let h = this.highest.get(agentId)
    if (h === undefined) {
      h = { epoch: -1, seq: -1 }
      for await (const k of this.db.keys({ ...keys.dedupOfAgent(agentId), reverse: true, limit: 1 })) h = { epoch: readU64(k, k.length - 16), seq: readU64(k, k.length - 8) }
      // (Ingest holds the agent's lock: none of its writes runs during this read.)
      this.highest.set(agentId, h)
    }
    if (epoch > h.epoch || (epoch === h.epoch && seq > h.seq)) return undefined
    const v = await this.db.get(keys.dedup(agentId, epoch, seq))
    return v === undefined ? undefined : readU64(v, 0)
  }

  private noteStored(agentId: string, epoch: number, seq: number): void {
    const h = this.highest.get(agentId)
    if (h === undefined) return // read from the store on the agent's next findStored
    if (epoch > h.epoch || (epoch === h.epoch && seq > h.seq)) this.highest.set(agentId, { epoch, seq })
  }

  /** Writes everything atomically; resolves with the batch number once durable. */
  async write(w: BatchWrite): Promise<number> {
    const n = this.nextN++
    this.writing.add(n)
    try {
      await this.writeAs(n, w)
      this.noteStored(w.agentId, w.epoch, w.seq)
    } catch (err) {
      for (const fn of this.abandonedListeners) fn(n)
      throw err
    } finally {
      this.writing.delete(n)
    }
    return n
  }

  private async writeAs(n: number, w: BatchWrite): Promise<void> {
    const ops: WriteOp[] = []
    const nBuf = Buffer.alloc(8)
    nBuf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), 0)
    nBuf.writeUInt32BE(n >>> 0, 4)
    ops.push({ type: 'put', key: keys.dedup(w.agentId, w.epoch, w.seq), value: nBuf })
    const rec: BatchRecord = {
      n, agentId: w.agentId, epoch: w.epoch, seq: w.seq, receivedAtUs: w.receivedAtUs, sentAtUs: w.sentAtUs,
      flows: w.flowCount, events: w.eventCount, observations: w.observationCount, gaps: w.gapCount, appRecords: w.appCount,
    }
    if (w.flowCount > 0) {
      const fi = w.flowIndex
      const t = fi.minTsUs
      rec.flowMinTsUs = t
      rec.flowMaxTsUs = fi.maxTsUs
      const chunks = w.flowChunks
      for (let c = 0; c < chunks.length; c++) ops.push({ type: 'put', key: keys.flowChunk(t, n, c), value: chunks[c]! })
      const meta: FlowMetaRecord = { agentId: w.agentId, count: w.flowCount, maxTsUs: fi.maxTsUs }
      ops.push({ type: 'put', key: keys.flowMeta(t, n), value: Buffer.from(JSON.stringify(meta)) })
      for (const [svc, ids] of fi.services) ops.push({ type: 'put', key: keys.flowByService(svc, t, n), value: encodePostings(ids) })
      const span = fi.maxTsUs - t
      if (span > this.maxSpanUs) {
        // Raised before the write (a failed write only leaves scans a bit wider); spanKey says why a key per increase.
        this.maxSpanUs = span
        ops.push({ type: 'put', key: spanKey(SPAN_KEY, span), value: u64Value(span) })
      }
    }
    if (w.eventCount > 0) {
      rec.eventMinTsUs = w.eventMinTsUs
      ops.push({ type: 'put', key: keys.eventSegment(w.eventMinTsUs, n), value: w.eventSegment })
    }
    if (w.observationCount > 0) {
      rec.observationMinTsUs = w.observationMinTsUs
      ops.push({ type: 'put', key: keys.observationSegment(w.observationMinTsUs, n), value: w.observationSegment })
    }
    if (w.appCount > 0) {
      rec.appMinTsUs = w.appMinTsUs
      rec.appMaxTsUs = w.appMaxTsUs
      ops.push({ type: 'put', key: keys.appSegment(w.appMinTsUs, n), value: encodeAppSegment(w.appMaxTsUs, w.appSegment, w.appPayload) })
      const span = w.appMaxTsUs - w.appMinTsUs
      if (span > this.maxAppSpanUs) {
        this.maxAppSpanUs = span
        ops.push({ type: 'put', key: spanKey(APP_SPAN_KEY, span), value: u64Value(span) })
      }
    }
    if (w.gapCount > 0) ops.push({ type: 'put', key: keys.gaps(w.agentId, n), value: w.gapSegment })
    ops.push({ type: 'put', key: keys.batch(n), value: Buffer.from(JSON.stringify(rec)) })
    for (const op of w.extraOps(n)) ops.push(op)
    const b = this.db.batch()
    try {
      for (const op of ops) {
        if (op.type === 'put') b.put(op.key, op.value)
        else b.del(op.key)
      }
      // The host and port postings, the bulk of the keys, without a Buffer per entry.
      const idx = new IndexPuts(b)
      if (w.flowCount > 0) {
        idx.hostBuckets(0x66, 0x62, w.flowIndex.hosts, w.flowIndex.minTsUs, n) // 'fb'
        idx.ports(w.flowIndex.ports, w.flowIndex.minTsUs, n)
      }
      if (w.appCount > 0 && w.appHosts !== undefined) idx.hostBuckets(0x61, 0x62, w.appHosts, w.appMinTsUs, n) // 'ab'
      await b.write()
    } finally {
      await b.close()
    }
  }

  async batchRecord(n: number): Promise<BatchRecord | undefined> {
    const v = await this.db.get(keys.batch(n))
    return v === undefined ? undefined : JSON.parse(v.toString('utf8')) as BatchRecord
  }

  /** Every stored batch record numbered `fromN` or above, in storage (= number) order. */
  async *batchRecords(fromN = 0): AsyncGenerator<BatchRecord> {
    const range = prefixRange(KEY_PREFIX.batch)
    for await (const [, v] of this.db.entries(fromN > 0 ? { ...range, gte: keys.batch(fromN) } : range)) yield JSON.parse(v.toString('utf8')) as BatchRecord
  }

  /** Flow segments whose time range may overlap [fromUs, toUs], in min-ts order. */
  async *flowSegments(fromUs = 0, toUs = Number.MAX_SAFE_INTEGER): AsyncGenerator<StoredFlowSegment> {
    const start = Math.max(0, fromUs - this.maxSpanUs)
    for await (const [k, v] of this.db.entries({ gte: keys.flowMeta(start, 0), lte: keys.flowMeta(toUs, Number.MAX_SAFE_INTEGER) })) {
      const meta = JSON.parse(v.toString('utf8')) as FlowMetaRecord
      if (meta.maxTsUs < fromUs) continue
      const minTsUs = minTsOfSegmentKey(k)
      const n = batchNumberOfKey(k)
      const bytes = await readFlowSegment(this.db, minTsUs, n)
      if (bytes !== undefined) yield { n, minTsUs, meta, bytes }
    }
  }

  /** Postings of one service name. */
  async *flowsOfService(service: string): AsyncGenerator<{ n: number; minTsUs: number; indexes: number[] }> {
    const start = keys.flowByService(service, 0, 0).subarray(0, -16)
    for await (const [k, v] of this.db.entries(subRange(start))) {
      yield { n: batchNumberOfKey(k), minTsUs: readU64(k, k.length - 16), indexes: decodePostings(v) }
    }
  }

  /** Gap segments one agent reported (Batch-compatible bytes: decode with Batch.decode(bytes).gaps). */
  async *gapsOf(agentId: string): AsyncGenerator<Buffer> {
    const start = keys.gaps(agentId, 0).subarray(0, -8)
    for await (const [, v] of this.db.entries(subRange(start))) yield v
  }

  /** Event segments in storage-key order (Batch-compatible bytes). */
  async *eventSegments(): AsyncGenerator<Buffer> {
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.eventSegment))) yield v
  }

  /** App-record segments in storage-key order (Batch-compatible bytes). */
  async *appSegments(): AsyncGenerator<Buffer> {
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.appSegment))) {
      const entries = appSegmentEntries(v)
      if (entries !== undefined) yield entries
    }
  }

  /** Host-observation segments in storage-key order (Batch-compatible bytes). */
  async *observationSegments(): AsyncGenerator<Buffer> {
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.observationSegment))) yield v
  }
}

/** A whole flow segment (its chunks decoded and joined); undefined when it has none. */
export async function readFlowSegment(db: LevelDb, minTsUs: number, n: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = []
  for await (const [, v] of db.entries(keys.flowChunksOf(minTsUs, n))) {
    const b = decodeFlowChunk(v)
    if (b === undefined) return undefined
    parts.push(b)
  }
  if (parts.length === 0) return undefined
  return parts.length === 1 ? parts[0] : Buffer.concat(parts)
}
