/**
 * Detection as a collector component: ingest hands every durable batch to `enqueue()`
 * (after the atomic write, so detection never sees data that could still be lost), and a
 * BatchFollower (collector/follow) hands them to the engine in order, from a bounded queue
 * (`detection.queue_batches`) drained on the event loop: decode the flow segment, run the
 * engine, apply the findings to the alert manager. Ingest is never slowed down by detection.
 *
 * Nothing acked is skipped: when the queue is full the follower reads the batches detection
 * has not examined back from the store until it has caught up. At start, from the examined
 * marks saved with the detectors' learned state (DetectorStateKeeper), it catches up the same
 * way on what was acked after the last save. Batches read back are counted
 * (`detection_caught_up_batches_total`). Without a store (unit tests) a full queue drops the
 * newest batch and counts it (`detection_dropped_batches_total`).
 */
import type { AgentStats, AppRecord, Batch, Gap, HostObservation, LogEvent } from '../../protocol/index.js'
import { decodeFlowSegment, type FlowRecord } from '../ingest/flow-decode.js'
import type { AlertManager } from '../alerts/alert-manager.js'
import type { CollectorStore } from '../storage/index.js'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import { BatchFollower, type FollowCount } from '../follow/batch-follower.js'
import type { BatchMarks } from '../follow/batch-marks.js'
import { readStoredBatch } from '../follow/read-stored-batch.js'
import type { DetectionConfig } from './detection-config.js'
import { DetectionEngine, type EngineDeps } from './detection-engine.js'
import type { Finding } from './detection-types.js'

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

export type DetectionCounter =
  | 'detection_batches_total' | 'detection_flows_total' | 'detection_events_total' | 'detection_observations_total' | 'detection_app_records_total'
  | 'detection_findings_total' | 'detection_dropped_batches_total' | 'detection_errors_total' | 'detection_caught_up_batches_total'
  | 'detection_deferred_batches_total' | 'detection_passed_batches_total'

const FOLLOW_COUNTER: Record<FollowCount, DetectionCounter> = {
  deferred: 'detection_deferred_batches_total', caught_up: 'detection_caught_up_batches_total', passed: 'detection_passed_batches_total',
  dropped: 'detection_dropped_batches_total', read_errors: 'detection_errors_total',
}

export class DetectionService {
  readonly counters = new Counters<DetectionCounter>()
  readonly engine: DetectionEngine
  private readonly follower: BatchFollower<DetectionInput>

  constructor(private readonly cfg: DetectionConfig, private readonly alerts: AlertManager, deps: EngineDeps, private readonly log: Logger, store?: CollectorStore) {
    this.engine = new DetectionEngine(cfg, deps)
    this.follower = new BatchFollower<DetectionInput>(store, {
      name: 'detection', queueBatches: cfg.queue_batches,
      readBack: (rec) => readStoredBatch(store!, rec),
      handle: (b) => this.examine(b),
      count: (what, n) => this.counters.inc(FOLLOW_COUNTER[what], n),
    }, log)
  }

  /** Batch numbers examined (or passed): kept with the learned state, so a restart catches up from here. */
  get examined(): BatchMarks { return this.follower.marks }

  /**
   * Starts taking batches. `resume`: the examined marks were restored from a save, so the
   * batches stored since are read back first; otherwise detection starts at the store's
   * newest batch (nothing before it is owed: a new store, or keeping state is off).
   * Disabled detection passes batches, it does not owe them (enabling it later starts at the
   * newest batch).
   */
  start(resume = false): void {
    this.follower.start(resume && this.cfg.enabled)
  }

  /** Finishes the batches already queued, interrupts catching up (resumed at the next start), then stops taking new ones. */
  stop(): Promise<void> {
    return this.follower.stop()
  }

  get pending(): number { return this.follower.pending }
  /** Batches queued or being processed, or acked and not examined yet (the /metrics backlog: 0 means detection has seen everything acked). */
  get backlog(): number { return this.follower.backlog }

  enqueue(b: DetectionInput): void {
    if (!this.cfg.enabled) { this.examined.mark(b.n); return }
    this.follower.offer(b)
  }

  /** Resolves when the queue is empty, detection has caught up and nothing is being processed. */
  idle(): Promise<void> {
    return this.follower.idle()
  }

  /** Runs `fn` between two batches (at once when none is being processed): the engine and the marks then describe the same point. */
  betweenBatches<T>(fn: () => T): Promise<T> {
    return this.follower.betweenBatches(fn)
  }

  /** One batch through the engine; errors are counted and logged, the batch is then marked by the follower. */
  private async examine(b: DetectionInput): Promise<void> {
    try {
      await this.process(b)
    } catch (err) {
      this.counters.inc('detection_errors_total')
      this.log.error({ err: (err as Error).message, batch: b.n }, 'detection failed for a batch')
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
