/**
 * The retention job: a node-cron schedule (default hourly) that expires detail per kind —
 * flows (with their indexes and host observations), events, app records, minute/hour roll-ups, topology
 * hosts and edges, loss periods, alerts (when an alert store is attached: `expireAlertsWith`),
 * and batch/dedup records after the longest of them.
 * Component shape: inert constructor, start()/stop(), runOnce() for tests and tools.
 */
import cron, { type ScheduledTask } from 'node-cron'
import { ROLLUP_HOUR, ROLLUP_MINUTE, type CollectorStore } from '../storage/index.js'
import type { TopologyService } from '../topology/topology-service.js'
import type { Logger } from '../util/logger.js'

export interface RetentionConfig {
  schedule: string
  flows_days: number
  events_days: number
  app_records_days: number
  topology_days: number
  alerts_days: number
  rollup_minute_days: number
  rollup_hour_days: number
}

export interface RetentionRun { flows: number; events: number; app_records: number; rollups: number; hosts: number; edges: number; loss_periods: number; alerts: number; batches: number }

/** What expires alerts (collector/alerts/alert-manager.ts); attached in the entry point. */
export interface AlertExpiry { expire(cutoffUs: number): Promise<number> }

const DAY_US = 86_400_000_000

export class RetentionJob {
  private task: ScheduledTask | undefined
  private running: Promise<RetentionRun> | undefined
  runs = 0
  failures = 0
  private alerts: AlertExpiry | undefined

  constructor(private readonly store: CollectorStore, private readonly topology: TopologyService, private readonly cfg: RetentionConfig, private readonly log: Logger) {}

  /** Alerts older than retention.alerts_days are deleted by `a` on every run. */
  expireAlertsWith(a: AlertExpiry): void {
    this.alerts = a
  }

  start(): void {
    this.task = cron.schedule(this.cfg.schedule, () => { void this.runOnce().catch(() => undefined) }, { noOverlap: true })
  }

  async stop(): Promise<void> {
    if (this.task !== undefined) await this.task.stop()
    this.task = undefined
    if (this.running !== undefined) await this.running.catch(() => undefined)
  }

  runOnce(nowUs = Date.now() * 1000): Promise<RetentionRun> {
    if (this.running !== undefined) return this.running
    this.running = this.run(nowUs).finally(() => { this.running = undefined })
    return this.running
  }

  private async run(nowUs: number): Promise<RetentionRun> {
    const c = this.cfg
    try {
      const r = this.store.retention
      const flows = await r.expireFlows(nowUs - c.flows_days * DAY_US)
      const events = await r.expireEvents(nowUs - c.events_days * DAY_US)
      const appRecords = await r.expireAppRecords(nowUs - c.app_records_days * DAY_US)
      const rollups = await r.expireRollups(ROLLUP_MINUTE, nowUs - c.rollup_minute_days * DAY_US) + await r.expireRollups(ROLLUP_HOUR, nowUs - c.rollup_hour_days * DAY_US) +
        await r.expireTopRollups(nowUs - c.rollup_minute_days * DAY_US)
      const topo = await this.topology.expire(nowUs - c.topology_days * DAY_US)
      const loss = await r.expireLossPeriods(nowUs - c.topology_days * DAY_US)
      const alerts = this.alerts === undefined ? 0 : await this.alerts.expire(nowUs - c.alerts_days * DAY_US)
      const batches = await r.expireBatches(nowUs - Math.max(c.flows_days, c.events_days, c.app_records_days) * DAY_US)
      const run: RetentionRun = { flows, events, app_records: appRecords, rollups, hosts: topo.hosts, edges: topo.edges, loss_periods: loss, alerts, batches }
      this.runs++
      this.log.info(run, 'retention: expired old records')
      return run
    } catch (err) {
      this.failures++
      this.log.error({ err }, 'retention run failed')
      throw err
    }
  }
}
