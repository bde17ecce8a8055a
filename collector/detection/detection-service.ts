/**
 * Detection as a collector component: ingest hands every durable batch to `enqueue()`
 * (after the atomic write, so detection never sees data that could still be lost); a
 * bounded queue (`detection.queue_batches`; when full the newest batch is skipped and
 * counted — ingest is never slowed down by detection) is drained on the event loop in
 * order: decode the flow segment, run the engine, apply the findings to the alert manager.
 */
import type { AgentStats, AppRecord, Batch, Gap, HostObservation, LogEvent } from '../../protocol/index.js'
import { decodeFlowSegment, type FlowRecord } from '../ingest/flow-decode.js'
import type { AlertManager } from '../alerts/alert-manager.js'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
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
  | 'detection_findings_total' | 'detection_dropped_batches_total' | 'detection_errors_total'

export class DetectionService {
  readonly counters = new Counters<DetectionCounter>()
  readonly engine: DetectionEngine
  private readonly queue: DetectionInput[] = []
  private running: Promise<void> | undefined
  private stopped = true
  private idleWaiters: Array<() => void> = []
  private inProcess = 0

  constructor(private readonly cfg: DetectionConfig, private readonly alerts: AlertManager, deps: EngineDeps, private readonly log: Logger) {
    this.engine = new DetectionEngine(cfg, deps)
  }

  start(): void { this.stopped = false }

  /** Finishes the batches already queued, then stops taking new ones. */
  async stop(): Promise<void> {
    await this.idle()
    this.stopped = true
  }

  get pending(): number { return this.queue.length }
  /** Batches queued or being processed (the /metrics backlog: 0 means detection has seen everything acked). */
  get backlog(): number { return this.queue.length + this.inProcess }

  enqueue(b: DetectionInput): void {
    if (this.stopped || !this.cfg.enabled) return
    if (this.queue.length >= this.cfg.queue_batches) {
      this.counters.inc('detection_dropped_batches_total')
      return
    }
    this.queue.push(b)
    if (this.running === undefined) this.running = this.drain()
  }

  /** Resolves when the queue is empty and nothing is being processed. */
  idle(): Promise<void> {
    if (this.running === undefined && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const b = this.queue.shift()!
        this.inProcess = 1
        await new Promise<void>((r) => setImmediate(r))
        try {
          await this.process(b)
        } catch (err) {
          this.counters.inc('detection_errors_total')
          this.log.error({ err: (err as Error).message, batch: b.n }, 'detection failed for a batch')
        } finally {
          this.inProcess = 0
        }
      }
    } finally {
      this.running = undefined
      const w = this.idleWaiters
      this.idleWaiters = []
      for (const fn of w) fn()
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
