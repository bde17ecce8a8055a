/**
 * Detection as a collector component: ingest hands every durable batch to `enqueue()`
 * (after the atomic write, so detection never sees data that could still be lost), and a
 * bounded queue (`detection.queue_batches`) is drained on the event loop in order: decode
 * the flow segment, run the engine, apply the findings to the alert manager. Ingest is never
 * slowed down by detection.
 *
 * Nothing acked is skipped. Detection follows the store's batch numbers (ExaminedBatches):
 * when the queue is full it stops queueing and, once the queue is drained, reads the batches
 * it has not examined back from the store (storedDetectionInput) until it has caught up,
 * then takes live batches again. At start, from the examined marks saved with the
 * detectors' learned state (DetectorStateKeeper), it catches up the same way on what was
 * acked after the last save. Batches read back are counted
 * (`detection_caught_up_batches_total`). Without a store (unit tests) a full queue drops the
 * newest batch and counts it (`detection_dropped_batches_total`), as before.
 */
import type { AgentStats, AppRecord, Batch, Gap, HostObservation, LogEvent } from '../../protocol/index.js'
import { decodeFlowSegment, type FlowRecord } from '../ingest/flow-decode.js'
import type { AlertManager } from '../alerts/alert-manager.js'
import type { CollectorStore } from '../storage/index.js'
import { Counters } from '../util/counters.js'
import { RateLimitedLog } from '../util/rate-limited-log.js'
import type { Logger } from '../util/logger.js'
import type { DetectionConfig } from './detection-config.js'
import { DetectionEngine, type EngineDeps } from './detection-engine.js'
import type { Finding } from './detection-types.js'
import { ExaminedBatches } from './examined-batches.js'
import { storedDetectionInput } from './stored-detection-input.js'

/** What ingest hands on (collector/ingest StoredBatch). */
export interface DetectionInput {
  agentId: string
  n: number
  flowSegment: Buffer
  /** The segment decoded once for every listener (ingest's StoredBatch); decoded here when absent. */
  flows?: () => FlowRecord[]
  rest: Batch
}

/** Flows (and app rows) run through the engine between two yields to the event loop (~5 ms of work). */
const SLICE_FLOWS = 500
/** Catch-up passes in a row that examine nothing before the numbers still missing are passed (a write that will never land). */
const STALLED_PASSES = 50

export type DetectionCounter =
  | 'detection_batches_total' | 'detection_flows_total' | 'detection_events_total' | 'detection_observations_total' | 'detection_app_records_total'
  | 'detection_findings_total' | 'detection_dropped_batches_total' | 'detection_errors_total' | 'detection_caught_up_batches_total'
  | 'detection_deferred_batches_total' | 'detection_passed_batches_total'

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r))

export class DetectionService {
  readonly counters = new Counters<DetectionCounter>()
  readonly engine: DetectionEngine
  /** Batch numbers examined (or passed): kept with the learned state, so a restart catches up from here. */
  readonly examined = new ExaminedBatches()
  private readonly queue: DetectionInput[] = []
  private running: Promise<void> | undefined
  private stopped = true
  /** stop() was called: catching up ends at the next batch (the marks say where to resume). */
  private stopping = false
  private idleWaiters: Array<() => void> = []
  private inProcess = 0
  /** Live batches are not queued: the drain reads them back from the store. */
  private behind = false
  /** "Behind" logged at most once a minute: an overloaded collector falls behind again and again. */
  private readonly behindLog = new RateLimitedLog(60_000)
  private behindUnlogged = false
  /** Work to run between two batches (a consistent snapshot of the detectors and marks). */
  private betweenWaiters: Array<() => void> = []

  constructor(private readonly cfg: DetectionConfig, private readonly alerts: AlertManager, deps: EngineDeps, private readonly log: Logger, private readonly store?: CollectorStore) {
    this.engine = new DetectionEngine(cfg, deps)
    // A batch whose write failed is never stored: nothing to wait for.
    store?.batches.onAbandoned((n) => this.examined.mark(n))
  }

  /**
   * Starts taking batches. `resume`: the examined marks were restored from a save, so the
   * batches stored since are read back first; otherwise detection starts at the store's
   * newest batch (nothing before it is owed: a new store, or keeping state is off).
   */
  start(resume = false): void {
    this.stopped = false
    this.stopping = false
    if (this.store === undefined) return
    // Disabled: batches are passed, not owed (enabling it later starts at the newest batch).
    if (!resume || !this.cfg.enabled) { this.examined.markUpTo(this.store.batches.numbering().last); return }
    if (this.store.batches.numbering().last > this.examined.watermark) {
      this.behind = true
      this.running ??= this.drain()
    }
  }

  /** Finishes the batches already queued, interrupts catching up (resumed at the next start), then stops taking new ones. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.idle()
    this.stopped = true
  }

  get pending(): number { return this.queue.length }
  /** Batches queued or being processed, or acked and not examined yet (the /metrics backlog: 0 means detection has seen everything acked). */
  get backlog(): number {
    if (this.behind && this.store !== undefined) return Math.max(this.queue.length + this.inProcess, this.store.batches.numbering().last - this.examined.watermark - this.examined.above.size)
    return this.queue.length + this.inProcess
  }

  enqueue(b: DetectionInput): void {
    if (this.stopped) return
    if (!this.cfg.enabled) { this.examined.mark(b.n); return }
    if (this.behind) { this.counters.inc('detection_deferred_batches_total'); return }
    if (this.queue.length >= this.cfg.queue_batches) {
      if (this.store === undefined) { this.counters.inc('detection_dropped_batches_total'); return }
      // Read back from the store once the queue is drained.
      this.behind = true
      this.counters.inc('detection_deferred_batches_total')
      this.behindUnlogged = !this.behindLog.hit('behind', (suppressed) => this.log.warn({ queued: this.queue.length, suppressed }, 'detection is behind ingest: batches are read back from the store until it has caught up (nothing is skipped; logged at most once a minute)'))
      return
    }
    this.queue.push(b)
    this.running ??= this.drain()
  }

  /** Resolves when the queue is empty, detection has caught up and nothing is being processed. */
  idle(): Promise<void> {
    if (this.running === undefined && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Runs `fn` between two batches (at once when none is being processed): the engine and the marks then describe the same point. */
  betweenBatches<T>(fn: () => T): Promise<T> {
    if (this.inProcess === 0) return Promise.resolve(fn())
    return new Promise((resolve, reject) => this.betweenWaiters.push(() => { try { resolve(fn()) } catch (err) { reject(err as Error) } }))
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        while (this.queue.length > 0) {
          const b = this.queue.shift()!
          await yieldToLoop()
          await this.examine(b)
        }
        if (!this.behind || this.stopping) break
        await this.catchUp()
      }
    } finally {
      this.running = undefined
      const w = this.idleWaiters
      this.idleWaiters = []
      for (const fn of w) fn()
    }
  }

  /** One batch through the engine (once: a number already examined is skipped), then marked. */
  private async examine(b: DetectionInput): Promise<void> {
    if (this.store !== undefined && this.examined.has(b.n)) return
    this.inProcess = 1
    try {
      await this.process(b)
    } catch (err) {
      this.counters.inc('detection_errors_total')
      this.log.error({ err: (err as Error).message, batch: b.n }, 'detection failed for a batch')
    } finally {
      this.examined.mark(b.n)
      this.inProcess = 0
      const w = this.betweenWaiters
      this.betweenWaiters = []
      for (const fn of w) fn()
    }
  }

  /**
   * Reads back, in number order, every stored batch not examined yet, pass after pass, until
   * every number handed out is examined, being written (its live hand-over will come once
   * `behind` is off) or was never stored. Numbers between two stored batches that are not
   * being written were abandoned or expired: passed.
   */
  private async catchUp(): Promise<void> {
    const store = this.store!
    let stalled = 0
    while (!this.stopping) {
      const { last, writing } = store.batches.numbering()
      let progressed = false
      let prev = this.examined.watermark
      for await (const rec of store.batches.batchRecords(this.examined.watermark + 1)) {
        if (rec.n > last || this.stopping) break
        for (let m = prev + 1; m < rec.n; m++) if (!writing.has(m) && !this.examined.has(m)) { this.examined.mark(m); this.counters.inc('detection_passed_batches_total') }
        prev = rec.n
        if (this.examined.has(rec.n)) continue
        let input: DetectionInput
        try {
          input = await storedDetectionInput(store, rec)
        } catch (err) {
          this.counters.inc('detection_errors_total')
          this.log.error({ err: (err as Error).message, batch: rec.n }, 'a stored batch could not be read back for detection; passed')
          this.examined.mark(rec.n)
          continue
        }
        await yieldToLoop()
        await this.examine(input)
        this.counters.inc('detection_caught_up_batches_total')
        progressed = true
      }
      if (this.stopping) return
      let missing = 0
      for (let m = this.examined.watermark + 1; m <= last; m++) if (!writing.has(m) && !this.examined.has(m)) missing++
      if (missing === 0) {
        // Caught up: batches written from now on are handed over live.
        this.behind = false
        if (!this.behindUnlogged) this.log.info({ watermark: this.examined.watermark }, 'detection has caught up with ingest')
        return
      }
      stalled = progressed ? 0 : stalled + 1
      if (stalled >= STALLED_PASSES) {
        for (let m = this.examined.watermark + 1; m <= last; m++) {
          if (!writing.has(m) && !this.examined.has(m)) { this.examined.mark(m); this.counters.inc('detection_passed_batches_total') }
        }
        stalled = 0
      }
      await new Promise((r) => setTimeout(r, progressed ? 0 : 20))
    }
  }

  private async process(b: DetectionInput): Promise<void> {
    // Decoded messages are instances of the generated classes (the typings name their $Properties).
    const flows = b.flows !== undefined ? b.flows() : decodeFlowSegment(b.flowSegment)
    const r = b.rest as unknown as { events: LogEvent[]; hostObservations: HostObservation[]; gaps: Gap[]; appRecords?: AppRecord[]; stats?: AgentStats | null }
    const findings: Finding[] = []
    const push = (f: Finding): void => { findings.push(f) }
    // A large batch is run in parts of SLICE_FLOWS flows and SLICE_FLOWS app rows, with a
    // yield to the event loop in between (as if the agent had sent smaller batches), so
    // detection never holds requests for a whole batch; the first part carries the batch's
    // events, observations, gaps, stats.
    const apps = r.appRecords ?? []
    const parts = Math.max(flows.length, apps.length)
    const part = <T>(all: readonly T[], i: number): readonly T[] => (all.length <= SLICE_FLOWS ? (i === 0 ? all : []) : all.slice(i, i + SLICE_FLOWS))
    for (let i = 0; i === 0 || i < parts; i += SLICE_FLOWS) {
      if (i > 0) await new Promise<void>((r) => setImmediate(r))
      const first = i === 0
      this.engine.processBatch({
        agentId: b.agentId, flows: part(flows, i), appRecords: part(apps, i),
        events: first ? r.events : [], observations: first ? r.hostObservations : [], gaps: first ? r.gaps : [],
        stats: first ? r.stats ?? null : null, batchRef: `${b.agentId}:${b.n}`,
      }, push)
    }
    this.counters.inc('detection_batches_total')
    this.counters.inc('detection_flows_total', flows.length)
    this.counters.inc('detection_events_total', r.events.length)
    this.counters.inc('detection_observations_total', r.hostObservations.length)
    this.counters.inc('detection_app_records_total', apps.length)
    this.counters.inc('detection_findings_total', findings.length)
    if (findings.length > 0) await this.alerts.apply(findings)
  }
}
