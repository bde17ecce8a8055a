/**
 * Gathers flows, log events, host observations and application-log rows (AppRecords) into batches, closed by size (encoded
 * bytes or record count) or by time (the first record of a batch waits at most
 * `maxDelayMs`), and hands each closed batch to the spool.
 *
 * Between closing and the spool's durable write, closed batches wait in a bounded memory
 * queue (`maxPendingBytes`). When it is full the newest batch is dropped and accounted
 * for as a Gap (reason queue_full), counted and logged once per burst: capture cannot be
 * paused. Log sources are paused instead: they read only while `hasRoom()`, and their
 * `ack` callbacks run only after the batch that holds their events is durable in the spool.
 */
import type { FlowProperties, InventoryProperties } from '../../protocol/index.js'
import { GapKind, GapReason } from '../../protocol/index.js'
import type { HostObservation as AppObservation } from '../app/app-analyzer.js'
import type { ConnRecord } from '../flow/conn-record.js'
import type { LogEvent as AgentLogEvent } from '../logs/log-event.js'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import { BatchBodyWriter, type BatchContents } from './batch-encoder.js'
import { appRowToWire } from './app-record-wire.js'
import { connRecordToFlow, type FlowEncodingAnomaly } from './flow-encoding.js'
import { gapForRecords, QUEUE_FULL, SPOOL_ERROR, type GapRecord } from './spool-gaps.js'
import type { AppendInput } from './spool.js'
import { logEventTimeUs, logEventToWire, observationToWire } from './wire-records.js'

export interface BatcherConfig {
  /** Close a batch when its encoded (uncompressed) size reaches this. */
  maxBatchBytes: number
  /** Close a batch at this many records. */
  maxBatchRecords: number
  /** Close a batch this long after its first record at the latest. */
  maxDelayMs: number
  /** Closed batches waiting for the spool, bytes; beyond it the newest is dropped (gap). */
  maxPendingBytes: number
}

export const BATCHER_DEFAULTS: Readonly<BatcherConfig> = Object.freeze({
  maxBatchBytes: 512 * 1024,
  maxBatchRecords: 20_000,
  maxDelayMs: 1000,
  maxPendingBytes: 64 * 1024 * 1024,
})

export type BatcherCounter =
  | 'batcher_flows_received_total' | 'batcher_events_received_total' | 'batcher_observations_received_total'
  | 'batcher_batches_closed_total' | 'batcher_batches_spooled_total' | 'batcher_batches_dropped_total'
  | 'batcher_flows_dropped_total' | 'batcher_events_dropped_total' | 'batcher_observations_dropped_total'
  | 'batcher_app_records_received_total' | 'batcher_app_records_dropped_total'
  | 'batcher_app_records_oversized_total' | 'batcher_app_records_unencodable_total'
  | 'batcher_spool_errors_total'

export interface BatcherDeps {
  /** Durable hand-off (Spool.append). */
  append: (input: AppendInput) => Promise<number>
  /** Gap for records dropped before the spool (Spool.addGap). */
  addGap: (g: GapRecord) => Promise<void>
  /** Stats for the batch being closed (heartbeat payload). */
  stats?: () => AppendInput['stats']
  log?: Logger
  flowAnomalies?: Counters<FlowEncodingAnomaly>
}

const SPOOL_ERROR_LOG_INTERVAL_MS = 60_000

export class Batcher {
  readonly counters = new Counters<BatcherCounter>()
  readonly config: Readonly<BatcherConfig>
  private readonly deps: BatcherDeps
  private body = new BatchBodyWriter()
  private acks: Array<() => void> = []
  private withStats = false
  private timer: NodeJS.Timeout | undefined
  private pendingBytes = 0
  private chain: Promise<void> = Promise.resolve()
  private roomWaiters: Array<() => void> = []
  private dropping = false
  private spoolErrorLoggedAt = -Infinity
  private spoolErrorsSinceLog = 0

  constructor(cfg: Partial<BatcherConfig>, deps: BatcherDeps) {
    this.config = Object.freeze({ ...BATCHER_DEFAULTS, ...cfg })
    this.deps = deps
  }

  start(): void {
    // Nothing to start: batches close on size, on their timer, or on flush().
  }

  /** Closes the open batch and waits until every closed batch is in the spool. */
  async stop(): Promise<void> {
    await this.flush()
  }

  addConn(rec: ConnRecord): void {
    this.addFlow(connRecordToFlow(rec, this.deps.flowAnomalies))
  }

  addFlow(flow: FlowProperties): void {
    this.counters.inc('batcher_flows_received_total')
    this.body.addFlow(flow)
    this.after()
  }

  addObservation(obs: AppObservation, iface = ''): void {
    this.counters.inc('batcher_observations_received_total')
    this.body.addObservation(observationToWire(obs, iface))
    this.after()
  }

  /**
   * One application-log row (`log` is its Zeek path: dns, http, ssl…). A row that cannot be
   * shipped (JSON over APP_RECORD_MAX_JSON_BYTES, or not renderable) is counted
   * (batcher_app_records_oversized_total / _unencodable_total) and left out.
   */
  addAppRecord(log: string, row: Record<string, unknown>): void {
    this.counters.inc('batcher_app_records_received_total')
    const r = appRowToWire(log, row)
    if (!r.ok) {
      this.counters.inc(r.reason === 'oversized' ? 'batcher_app_records_oversized_total' : 'batcher_app_records_unencodable_total')
      return
    }
    this.body.addAppRecord(r.record)
    this.after()
  }

  /** Log events; `onDurable` runs once they are in the spool (the source's ack). */
  addEvents(events: readonly AgentLogEvent[], onDurable?: () => void): void {
    for (const ev of events) {
      this.counters.inc('batcher_events_received_total')
      this.body.addEvent(logEventToWire(ev), logEventTimeUs(ev))
      if (this.body.bytes >= this.config.maxBatchBytes || this.body.items >= this.config.maxBatchRecords) this.close()
    }
    if (onDurable) this.acks.push(onDurable)
    this.after()
  }

  /** The host inventory goes into the next batch (closed at once). */
  addInventory(inv: InventoryProperties): void {
    this.body.addInventory(inv)
    this.close()
  }

  /** A heartbeat: close a batch now with stats, even an empty one. */
  heartbeat(): void {
    this.withStats = true
    this.close()
  }

  /** Room for more closed batches in memory (log sources read only then). */
  hasRoom(): boolean {
    return this.pendingBytes < this.config.maxPendingBytes
  }

  waitForRoom(): Promise<void> {
    if (this.hasRoom()) return Promise.resolve()
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  /** Close the open batch (if any) and wait until everything closed so far is durable. */
  async flush(): Promise<void> {
    if (this.body.bytes > 0 || this.withStats) this.close()
    await this.chain
  }

  get pendingQueueBytes(): number {
    return this.pendingBytes
  }

  private after(): void {
    if (this.body.bytes >= this.config.maxBatchBytes || this.body.items >= this.config.maxBatchRecords) {
      this.close()
    } else if (this.timer === undefined && this.body.bytes > 0) {
      this.timer = setTimeout(() => { this.timer = undefined; this.close() }, this.config.maxDelayMs)
      this.timer.unref()
    }
  }

  private close(): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    const contents = { ...this.body.contents }
    const body = this.body.finish()
    this.body = new BatchBodyWriter()
    const acks = this.acks
    this.acks = []
    const stats = this.withStats ? this.deps.stats?.() : undefined
    this.withStats = false
    this.counters.inc('batcher_batches_closed_total')
    if (!this.hasRoom() && acks.length === 0) {
      this.drop(contents)
      return
    }
    this.dropping = false
    this.pendingBytes += body.length
    const input: AppendInput = stats ? { body, contents, stats } : { body, contents }
    this.chain = this.chain.then(async () => {
      try {
        await this.deps.append(input)
        this.counters.inc('batcher_batches_spooled_total')
        for (const a of acks) a()
      } catch (err) {
        // The spool cannot write (disk full, I/O error): the records are lost. Counted, and a
        // gap record says so: it is kept in memory and rides in the next batch the spool
        // manages to write (a full disk that gets space back), so the collector learns of it.
        this.counters.inc('batcher_spool_errors_total')
        this.countDropped(contents)
        this.spoolFailed(err as Error)
        for (const g of this.gapsFor(contents, SPOOL_ERROR, `spool write failed: ${(err as Error).message}`)) await this.deps.addGap(g).catch(() => undefined)
      } finally {
        this.pendingBytes -= body.length
        if (this.hasRoom()) for (const w of this.roomWaiters.splice(0)) w()
      }
    })
  }

  private drop(c: BatchContents): void {
    this.countDropped(c)
    if (!this.dropping) {
      this.dropping = true
      this.deps.log?.warn({ pendingBytes: this.pendingBytes, limit: this.config.maxPendingBytes }, 'spool is not keeping up: dropping batches (reported as gaps, counted in batcher_*_dropped_total)')
    }
    const gaps = this.gapsFor(c, QUEUE_FULL, `memory queue before the spool full (${this.config.maxPendingBytes} bytes)`)
    this.chain = this.chain.then(async () => {
      for (const g of gaps) await this.deps.addGap(g).catch(() => undefined)
    })
  }

  private gapsFor(c: BatchContents, reason: GapReason, detail: string): GapRecord[] {
    const gaps: GapRecord[] = []
    if (c.flows) gaps.push(gapForRecords(GapKind.GAP_KIND_FLOWS, c.flows, c.firstFlowUs, c.lastFlowUs, reason, detail))
    if (c.events) gaps.push(gapForRecords(GapKind.GAP_KIND_EVENTS, c.events, c.firstEventUs, c.lastEventUs, reason, detail))
    if (c.observations) gaps.push(gapForRecords(GapKind.GAP_KIND_OBSERVATIONS, c.observations, c.firstObservationUs, c.lastObservationUs, reason, detail))
    if (c.appRecords) gaps.push(gapForRecords(GapKind.GAP_KIND_APP_RECORDS, c.appRecords, c.firstAppRecordUs, c.lastAppRecordUs, reason, detail))
    return gaps
  }

  /** Logs a spool write failure at most once a minute (a full disk fails every batch). */
  private spoolFailed(err: Error): void {
    const now = Date.now()
    this.spoolErrorsSinceLog++
    if (now - this.spoolErrorLoggedAt < SPOOL_ERROR_LOG_INTERVAL_MS) return
    this.deps.log?.error({ err: err.message, failedBatches: this.spoolErrorsSinceLog },
      'cannot write batches to the spool: their records are dropped (counted in batcher_*_dropped_total, reported as gaps once the spool writes again); logged at most once a minute')
    this.spoolErrorLoggedAt = now
    this.spoolErrorsSinceLog = 0
  }

  private countDropped(c: BatchContents): void {
    this.counters.inc('batcher_batches_dropped_total')
    this.counters.inc('batcher_flows_dropped_total', c.flows)
    this.counters.inc('batcher_events_dropped_total', c.events)
    this.counters.inc('batcher_observations_dropped_total', c.observations)
    this.counters.inc('batcher_app_records_dropped_total', c.appRecords)
  }
}
