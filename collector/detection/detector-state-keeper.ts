/**
 * Component: keeps what the detectors learned across restarts (detector-state.ts). start()
 * restores the saved states (before the first batch is processed) and saves every
 * `detection.state_save_interval_s`; stop() saves once more, after detection has drained
 * its queue. A failed save is counted and logged (at most once a minute), and retried at
 * the next interval; a state that cannot be restored is named in the log and learned anew.
 */
import type { CollectorStore } from '../storage/index.js'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import type { Detector } from './detection-types.js'
import { restoreDetectors, snapshotDetectors } from './detector-state.js'

export type DetectorStateCounter = 'detector_state_saves_total' | 'detector_state_save_errors_total' | 'detector_state_restored_total' | 'detector_state_ignored_total'

export interface DetectorStateKeeperConfig { intervalS: number }

export class DetectorStateKeeper {
  readonly counters = new Counters<DetectorStateCounter>()
  private timer: NodeJS.Timeout | undefined
  private saving: Promise<void> | undefined
  private saved = new Set<string>()
  private lastErrorLogMs = -Infinity

  constructor(private readonly cfg: DetectorStateKeeperConfig, private readonly store: CollectorStore, private readonly detectors: () => readonly Detector[], private readonly log: Logger) {}

  async start(): Promise<void> {
    if (this.cfg.intervalS === 0) return
    const states = await this.store.detectorStates.loadAll()
    this.saved = new Set(states.keys())
    const r = await restoreDetectors(this.detectors(), states)
    this.counters.inc('detector_state_restored_total', r.restored.length)
    this.counters.inc('detector_state_ignored_total', r.ignored.length)
    if (r.restored.length > 0) this.log.info({ detectors: r.restored }, 'detector learning restored from the last save')
    if (r.ignored.length > 0) this.log.warn({ detectors: r.ignored }, 'saved detector state not usable (another version or other settings): these detectors learn again')
    this.timer = setInterval(() => { void this.save() }, this.cfg.intervalS * 1000)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    if (this.timer === undefined) return
    clearInterval(this.timer)
    this.timer = undefined
    await this.save()
  }

  /** Saves now (one save at a time: a call during a save waits for it and saves again). */
  async save(): Promise<void> {
    while (this.saving !== undefined) await this.saving
    const run = this.saveOnce()
    this.saving = run
    try {
      await run
    } finally {
      this.saving = undefined
    }
  }

  private async saveOnce(): Promise<void> {
    try {
      const states = await snapshotDetectors(this.detectors())
      await this.store.detectorStates.saveAll(states, this.saved)
      this.saved = new Set(states.keys())
      this.counters.inc('detector_state_saves_total')
    } catch (err) {
      this.counters.inc('detector_state_save_errors_total')
      const now = Date.now()
      if (now - this.lastErrorLogMs >= 60_000) {
        this.lastErrorLogMs = now
        this.log.error({ err: (err as Error).message }, 'saving what the detectors learned failed (retried every detection.state_save_interval_s; logged at most once a minute)')
      }
    }
  }
}
