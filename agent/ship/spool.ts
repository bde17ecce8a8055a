/**
 * The durable spool between the batcher and the collector: a `level` database under the
 * agent's state directory. Every batch is written here (gzipped, numbered) before it is
 * sent and deleted only when the collector has acknowledged it.
 *
 * Layout (one LevelDB, utf8 keys):
 *   meta             {"epoch","nextSeq","agentId","machineIdHash"}  spool generation and next seq
 *   b!<seq:16 hex>   gzipped Batch bytes                 what is sent as the request body
 *   i!<seq:16 hex>   {"contents","createdAtMs","bytes","carried"}  what the batch holds
 *   g!pending        [GapRecord…]                        gaps not yet in a batch
 *   p!<seq:16 hex>   gzipped Batch bytes                 parked: refused for good by the collector
 * Each change is one atomic LevelDB batch (sync = fsync when configured), so a crash
 * leaves either the old or the new state, never half of it.
 *
 * Bound: `maxBytes` of stored (gzipped) batches. When an append would exceed it, the
 * oldest batches that are not at the head of the queue (the first `protectHead`, which may
 * be in flight or may have reached the collector before a restart) are deleted and
 * replaced by Gap records (kind, count, time range, seq range, reason spool_full) that ride
 * in the batch being appended (gaps recorded by `addGap` or `park` ride in the next one);
 * a batch carrying gaps that is itself dropped or parked hands them back, so no gap is
 * ever lost and none is left pending after an append.
 *
 * `epoch` is chosen when the spool is created (milliseconds since the Unix epoch) and
 * changes only when the spool is reset (new database, or a new agent identity).
 *
 * A new identity on the SAME machine (`enroll --force` after the collector refused the old
 * credential: a revoked agent, a collector whose store was rebuilt) keeps the batches: each
 * is sealed again with the new agent id and a new epoch (same seq numbers) and sent; only
 * parked batches are deleted. An identity of ANOTHER machine (the spool came with a cloned
 * image, or a spool without a machine id written by an older version) resets the spool:
 * those batches are the other machine's to send.
 */
import { makeDirSync } from '../util/make-dir.js'
import { promisify } from 'node:util'
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib'
import { Level } from 'level'
import { Counters } from '../util/counters.js'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { compressFlowRuns, encodeBatchHeader, joinRest, normalizeContents, type BatchBody, type BatchContents } from './batch-encoder.js'
import { decodeBatch, encodeBatch, gzipShippedBody, type AgentStatsProperties } from '../../protocol/index.js'
import { addGap, gapToWire, gapsForBatch, REJECTED, SPOOL_ERROR, SPOOL_FULL, type GapRecord } from './spool-gaps.js'

const gzip = promisify(gzipCb)
const gunzip = promisify(gunzipCb)

interface SpoolMeta { epoch: number; nextSeq: number; agentId: string; machineIdHash?: string }

export interface SpoolConfig {
  /** Directory of the LevelDB (e.g. <state dir>/spool). */
  dir: string
  /** Most bytes of stored batches (gzipped). */
  maxBytes: number
  /** fsync every change (survives power loss, not just a process crash). */
  sync: boolean
  /** Batches at the head never dropped for room (≥ the shipper's in-flight window). */
  protectHead: number
  /** gzip level 1..9. */
  gzipLevel: number
  /** The agent id written into every batch; a different id than the spool's re-seals or resets it. */
  agentId: string
  /** The identity's machine_id_hash: a new agent id with the same machine re-seals the batches instead of resetting. */
  machineIdHash?: string
}

export type SpoolCounter =
  | 'spool_batches_appended_total' | 'spool_batches_acked_total' | 'spool_batches_dropped_total'
  | 'spool_batches_parked_total' | 'spool_bytes_appended_total' | 'spool_flows_dropped_total'
  | 'spool_events_dropped_total' | 'spool_observations_dropped_total' | 'spool_app_records_dropped_total' | 'spool_gaps_sent_total'
  | 'spool_resets_total' | 'spool_resealed_batches_total' | 'spool_over_limit_total' | 'spool_errors_total'

interface Entry {
  seq: number
  bytes: number
  createdAtMs: number
  contents: BatchContents
  /** Gaps this batch carries (handed back to pending if the batch is dropped or parked). */
  carried: GapRecord[]
}

export interface SpooledBatch {
  seq: number
  epoch: number
  body: Buffer
  contents: BatchContents
}

export interface AppendInput {
  body: BatchBody
  contents: BatchContents
  stats?: AgentStatsProperties
}

const key = (prefix: string, seq: number): string => `${prefix}!${seq.toString(16).padStart(16, '0')}`
const META = 'meta'
const PENDING_GAPS = 'g!pending'

type Op = { type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }

const json = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v))
const parse = <T>(v: Uint8Array): T => JSON.parse(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8')) as T

export class Spool {
  readonly counters = new Counters<SpoolCounter>()
  readonly config: Readonly<SpoolConfig>
  private readonly log: Logger | undefined
  private db: Level<string, Uint8Array> | undefined
  private entries: Entry[] = []
  private totalBytes = 0
  private pendingGaps: GapRecord[] = []
  private parked = 0
  private epochValue = 0
  private nextSeq = 1
  private chain: Promise<unknown> = Promise.resolve()
  private waiters: Array<() => void> = []
  private readonly now: () => number

  constructor(cfg: SpoolConfig, deps: { log?: Logger; now?: () => number } = {}) {
    this.config = Object.freeze({ ...cfg })
    this.log = deps.log
    this.now = deps.now ?? Date.now
  }

  get epoch(): number { return this.epochValue }
  /** Batches stored and not yet acknowledged. */
  get batches(): number { return this.entries.length }
  /** Stored bytes of those batches. */
  get bytes(): number { return this.totalBytes }
  get parkedBatches(): number { return this.parked }
  get pendingGapCount(): number { return this.pendingGaps.length }
  /** What the unacknowledged batches found at start() held: an earlier run's, sent by this one. */
  carriedOver = { batches: 0, flows: 0, events: 0, observations: 0, appRecords: 0 }
  oldestAgeMs(): number {
    const e = this.entries[0]
    return e ? Math.max(0, this.now() - e.createdAtMs) : 0
  }

  async start(): Promise<void> {
    try {
      makeDirSync(this.config.dir)
      this.db = new Level<string, Uint8Array>(this.config.dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
      await this.db.open()
    } catch (err) {
      throw new AgentError(AgentErrorCode.SPOOL_FAILED, spoolOpenFailure(this.config.dir, err), { cause: err })
    }
    const db = this.db
    const meta = await db.get(META)
    let m = meta === undefined ? undefined : parse<SpoolMeta>(meta)
    if (m !== undefined && m.agentId !== this.config.agentId) {
      if (m.machineIdHash !== undefined && m.machineIdHash === this.config.machineIdHash) {
        m = await this.reseal(db, m)
      } else {
        this.log?.warn({ old: m.agentId, now: this.config.agentId }, 'agent identity of another machine: the spool is reset (its batches belong to that identity)')
        await db.clear()
        this.counters.inc('spool_resets_total')
        m = undefined
      }
    }
    if (m === undefined) {
      m = this.meta(this.now(), 1)
      await db.put(META, json(m), { sync: this.config.sync } as never)
    } else if (m.machineIdHash === undefined && this.config.machineIdHash !== undefined) {
      m = this.meta(m.epoch, m.nextSeq)
      await db.put(META, json(m), { sync: this.config.sync } as never)
    }
    this.epochValue = m.epoch
    this.nextSeq = m.nextSeq
    for await (const [, v] of db.iterator({ gt: 'i!', lt: 'i"' })) {
      const info = parse<Omit<Entry, 'seq'> & { seq: number }>(v)
      info.contents = normalizeContents(info.contents)
      this.entries.push(info)
      this.totalBytes += info.bytes
    }
    this.entries.sort((a, b) => a.seq - b.seq)
    const carried = { batches: this.entries.length, flows: 0, events: 0, observations: 0, appRecords: 0 }
    for (const e of this.entries) {
      carried.flows += e.contents.flows; carried.events += e.contents.events; carried.observations += e.contents.observations; carried.appRecords += e.contents.appRecords
    }
    this.carriedOver = carried
    for await (const _ of db.keys({ gt: 'p!', lt: 'p"' })) this.parked++
    const pg = await db.get(PENDING_GAPS)
    if (pg !== undefined) this.pendingGaps = parse<GapRecord[]>(pg)
    this.log?.info({ epoch: this.epochValue, batches: this.entries.length, bytes: this.totalBytes, parked: this.parked, pendingGaps: this.pendingGaps.length }, 'spool opened')
  }

  async stop(): Promise<void> {
    await this.chain.catch(() => undefined)
    for (const w of this.waiters.splice(0)) w()
    await this.db?.close()
    this.db = undefined
  }

  /** Seal, number, compress and store one batch (with every pending gap); resolves once durable. */
  append(input: AppendInput): Promise<number> {
    return this.serial(async () => {
      const db = this.open()
      const before = { entries: this.entries.slice(), totalBytes: this.totalBytes, pendingGaps: this.pendingGaps.slice(), nextSeq: this.nextSeq }
      const seq = this.nextSeq++
      const ops: Op[] = []
      // Room: drop the oldest unprotected batches; their gaps (and the gaps they carried)
      // ride in this very batch, so an append never leaves a gap behind. Re-encode after
      // each round of drops (the header grew); drops are rare, so is the second gzip.
      const victims: Entry[] = []
      const protect = Math.min(this.config.protectHead, this.entries.length)
      // The flows are compressed once, as chunks (at the configured level); the body is then
      // gzip in two members: the chunks stored, the rest compressed (protocol/flow-chunks.ts).
      const flowChunks = await compressFlowRuns(input.body, this.config.gzipLevel)
      let gz: Buffer
      for (;;) {
        const header = encodeBatchHeader({
          agentId: this.config.agentId, epoch: this.epochValue, seq, sentAtUs: this.now() * 1000,
          ...(input.stats ? { stats: input.stats } : {}), gaps: this.pendingGaps.map(gapToWire),
        })
        gz = await gzipShippedBody(flowChunks, joinRest(header, input.body), this.config.gzipLevel)
        let dropped = 0
        while (this.totalBytes + gz.length > this.config.maxBytes && protect < this.entries.length) {
          const victim = this.entries[protect]!
          this.entries.splice(protect, 1)
          this.totalBytes -= victim.bytes
          ops.push({ type: 'del', key: key('b', victim.seq) }, { type: 'del', key: key('i', victim.seq) })
          this.handBack(victim, SPOOL_FULL, `spool limit ${this.config.maxBytes} bytes reached`)
          victims.push(victim)
          dropped++
        }
        if (dropped === 0) break
      }
      const carried = this.pendingGaps
      this.pendingGaps = []
      const entry: Entry = { seq, bytes: gz.length, createdAtMs: this.now(), contents: input.contents, carried }
      ops.push(
        { type: 'put', key: key('b', seq), value: gz },
        { type: 'put', key: key('i', seq), value: json(entry) },
        { type: 'put', key: META, value: json(this.meta(this.epochValue, this.nextSeq)) },
      )
      if (this.totalBytes + gz.length > this.config.maxBytes) this.counters.inc('spool_over_limit_total')
      ops.push({ type: 'del', key: PENDING_GAPS })
      try {
        await this.write(db, ops)
      } catch (err) {
        // Nothing was written: the in-memory view goes back to what is on disk.
        Object.assign(this, before)
        throw err
      }
      this.entries.push(entry)
      this.totalBytes += gz.length
      for (const v of victims) {
        this.counters.inc('spool_batches_dropped_total')
        this.counters.inc('spool_flows_dropped_total', v.contents.flows)
        this.counters.inc('spool_events_dropped_total', v.contents.events)
        this.counters.inc('spool_observations_dropped_total', v.contents.observations)
        this.counters.inc('spool_app_records_dropped_total', v.contents.appRecords)
      }
      this.counters.inc('spool_batches_appended_total')
      this.counters.inc('spool_bytes_appended_total', gz.length)
      if (carried.length > 0) this.counters.inc('spool_gaps_sent_total', carried.length)
      for (const w of this.waiters.splice(0)) w()
      return seq
    })
  }

  /** Record a gap for records that never reached a batch; it rides in the next batch. */
  addGap(g: GapRecord): Promise<void> {
    return this.serial(async () => {
      addGap(this.pendingGaps, g)
      await this.write(this.open(), [{ type: 'put', key: PENDING_GAPS, value: json(this.pendingGaps) }])
    })
  }

  /** Seqs stored, oldest first, after `afterSeq` (at most `max`). */
  seqsAfter(afterSeq: number, max: number): number[] {
    const out: number[] = []
    for (const e of this.entries) {
      if (e.seq <= afterSeq) continue
      out.push(e.seq)
      if (out.length >= max) break
    }
    return out
  }

  /** One stored batch; undefined when it is no longer there (acked or dropped meanwhile). */
  async read(seq: number): Promise<SpooledBatch | undefined> {
    const entry = this.entries.find((e) => e.seq === seq)
    if (!entry) return undefined
    const v = await this.open().get(key('b', seq))
    if (v === undefined) return undefined
    return { seq, epoch: this.epochValue, body: Buffer.from(v.buffer, v.byteOffset, v.byteLength), contents: entry.contents }
  }

  /** The collector stored `seq`: delete it. */
  ack(seq: number): Promise<void> {
    return this.serial(async () => {
      const idx = this.entries.findIndex((e) => e.seq === seq)
      if (idx < 0) return
      const e = this.entries[idx]!
      await this.write(this.open(), [{ type: 'del', key: key('b', seq) }, { type: 'del', key: key('i', seq) }])
      this.entries.splice(idx, 1)
      this.totalBytes -= e.bytes
      this.counters.inc('spool_batches_acked_total')
    })
  }

  /** The collector refused `seq` for good: keep its bytes aside (p!…), never resend, account for it as a gap. */
  park(seq: number, detail: string): Promise<void> {
    return this.serial(async () => {
      const db = this.open()
      const idx = this.entries.findIndex((e) => e.seq === seq)
      if (idx < 0) return
      const e = this.entries[idx]!
      const body = await db.get(key('b', seq))
      this.entries.splice(idx, 1)
      this.totalBytes -= e.bytes
      this.handBack(e, REJECTED, detail)
      const ops: Op[] = [
        { type: 'del', key: key('b', seq) }, { type: 'del', key: key('i', seq) },
        { type: 'put', key: PENDING_GAPS, value: json(this.pendingGaps) },
      ]
      if (body !== undefined) ops.push({ type: 'put', key: key('p', seq), value: body })
      await this.write(db, ops)
      this.parked++
      this.counters.inc('spool_batches_parked_total')
    })
  }

  private meta(epoch: number, nextSeq: number): SpoolMeta {
    return { epoch, nextSeq, agentId: this.config.agentId, ...(this.config.machineIdHash !== undefined ? { machineIdHash: this.config.machineIdHash } : {}) }
  }

  /**
   * Seals every stored batch again under this spool's agent id with a new epoch (same seq
   * numbers): one atomic write per batch, the meta last, so a crash half way leaves the old
   * meta and the next start re-seals them all again. A batch that does not decode any more
   * is dropped and accounted for as a gap. Parked batches (the old identity's) are deleted.
   */
  private async reseal(db: Level<string, Uint8Array>, old: SpoolMeta): Promise<SpoolMeta> {
    const epoch = this.now()
    const infos: Entry[] = []
    for await (const [, v] of db.iterator({ gt: 'i!', lt: 'i"' })) {
      const info = parse<Entry>(v)
      info.contents = normalizeContents(info.contents)
      infos.push(info)
    }
    infos.sort((a, b) => a.seq - b.seq)
    const pending = await db.get(PENDING_GAPS)
    const gaps = pending === undefined ? [] : parse<GapRecord[]>(pending)
    let batches = 0
    let flows = 0
    let lost = 0
    for (const info of infos) {
      const gz = await db.get(key('b', info.seq))
      let body: Buffer | undefined
      if (gz !== undefined) {
        try {
          const b = decodeBatch(await gunzip(gz))
          b.agentId = this.config.agentId
          b.epoch = epoch
          body = await gzip(encodeBatch(b), { level: this.config.gzipLevel })
        } catch { /* undecodable: accounted for as a gap below */ }
      }
      if (body === undefined) {
        for (const g of info.carried) addGap(gaps, g)
        for (const g of gapsForBatch(info.contents, old.epoch, info.seq, SPOOL_ERROR, 'a spooled batch could not be read when the agent was enrolled again')) addGap(gaps, g)
        await this.write(db, [{ type: 'del', key: key('b', info.seq) }, { type: 'del', key: key('i', info.seq) }, { type: 'put', key: PENDING_GAPS, value: json(gaps) }])
        lost++
        continue
      }
      await this.write(db, [{ type: 'put', key: key('b', info.seq), value: body }, { type: 'put', key: key('i', info.seq), value: json({ ...info, bytes: body.length }) }])
      batches++
      flows += info.contents.flows
    }
    const ops: Op[] = []
    for await (const k of db.keys({ gt: 'p!', lt: 'p"' })) ops.push({ type: 'del', key: k })
    const m = this.meta(epoch, old.nextSeq)
    ops.push({ type: 'put', key: META, value: json(m) })
    await this.write(db, ops)
    this.counters.inc('spool_resealed_batches_total', batches)
    this.log?.info({ old: old.agentId, now: this.config.agentId, batches, flows, unreadable: lost, parkedDeleted: ops.length - 1 },
      'agent enrolled again on this machine: the spooled batches are sealed again under the new identity and will be sent')
    return m
  }

  /** Resolves at the next append (or stop). */
  waitForAppend(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** Gaps for the records of a batch that leaves the spool unsent, and back to pending with the gaps it carried. */
  private handBack(e: Entry, reason: number, detail: string): void {
    for (const g of e.carried) addGap(this.pendingGaps, g)
    for (const g of gapsForBatch(e.contents, this.epochValue, e.seq, reason, detail)) addGap(this.pendingGaps, g)
  }

  private open(): Level<string, Uint8Array> {
    if (!this.db) throw new AgentError(AgentErrorCode.SPOOL_FAILED, 'the spool is not open')
    return this.db
  }

  private async write(db: Level<string, Uint8Array>, ops: Op[]): Promise<void> {
    try {
      await db.batch(ops as never, { sync: this.config.sync } as never)
    } catch (err) {
      this.counters.inc('spool_errors_total')
      throw new AgentError(AgentErrorCode.SPOOL_FAILED, `spool write failed in ${this.config.dir}: ${(err as Error).message}`, { cause: err })
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn)
    this.chain = next.catch(() => undefined)
    return next
  }

  snapshot(): Record<string, number> {
    return { ...this.counters.snapshot(), spool_bytes: this.totalBytes, spool_batches: this.entries.length, spool_parked_batches: this.parked, spool_pending_gaps: this.pendingGaps.length, spool_oldest_age_ms: this.oldestAgeMs() }
  }
}

/**
 * One line for a spool that does not open, with LevelDB's own reason (it hides it in `cause`):
 * another agent on the same state directory, a rights or space problem, or a damaged spool.
 */
export function spoolOpenFailure(dir: string, err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } }
  const inner = (e.cause?.message ?? e.message ?? String(err)).split('\n')[0]!
  if (e.cause?.code === 'LEVEL_LOCKED') return `the spool in ${dir} is in use by another process (another agent with the same state directory?): ${inner}`
  if (/Permission denied|Read-only file system|No space left|Disk quota/i.test(inner)) return `cannot open the spool in ${dir}: ${inner}; check the agent user's rights and free space on the state directory`
  if (e.cause?.code === 'LEVEL_CORRUPTION' || /Corruption|IO error/i.test(inner)) {
    return `the spool in ${dir} is damaged (${inner}): move it aside and start again (the batches in it that the collector had not acknowledged are lost; the agent starts a new epoch)`
  }
  return `cannot open the spool in ${dir}: ${inner}`
}
