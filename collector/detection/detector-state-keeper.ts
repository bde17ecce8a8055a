/**
 * Component: keeps what the detectors learned, and which batches they examined, across
 * restarts (detector-state.ts). start() restores the saved states before the first batch
 * is taken and says whether detection can resume from saved marks (it then reads back the
 * batches stored since); it saves every `detection.state_save_interval_s`, and stop() saves
 * once more after detection has stopped. A failed save is counted and logged (at most once
 * a minute) and retried at the next interval; a state that cannot be restored is named in
 * the log and learned anew.
 */
import type { CollectorStore } from '../storage/index.js'
import { Counters } from '../util/counters.js'
import { RateLimitedLog } from '../util/rate-limited-log.js'
import type { Logger } from '../util/logger.js'
import type { DetectionService } from './detection-service.js'
import { detectorStateTexts, EXAMINED_STATE, gzipStates, restoreDetectors, savedData } from './detector-state.js'

export type DetectorStateCounter = 'detector_state_saves_total' | 'detector_state_save_errors_total' | 'detector_state_restored_total' | 'detector_state_ignored_total'

export interface DetectorStateKeeperConfig { intervalS: number }

export class DetectorStateKeeper {
  readonly counters = new Counters<DetectorStateCounter>()
  private timer: NodeJS.Timeout | undefined
  private saving: Promise<void> | undefined
  private saved = new Set<string>()
  private readonly errorLog = new RateLimitedLog(60_000)

  constructor(private readonly cfg: DetectorStateKeeperConfig, private readonly store: CollectorStore, private readonly detection: DetectionService, private readonly log: Logger) {}

  /** Restores; true when detection should resume from the saved examined marks. */
  async start(): Promise<boolean> {
    if (this.cfg.intervalS === 0) return false
    const states = await this.store.detectorStates.loadAll()
    this.saved = new Set(states.keys())
    const r = await restoreDetectors(this.detection.engine.detectors, states)
    this.counters.inc('detector_state_restored_total', r.restored.length)
    this.counters.inc('detector_state_ignored_total', r.ignored.length)
    if (r.restored.length > 0) this.log.info({ detectors: r.restored }, 'detector learning restored from the last save')
    if (r.ignored.length > 0) this.log.warn({ detectors: r.ignored }, 'saved detector state not usable (another version or other settings): these detectors learn again')
    const marks = states.get(EXAMINED_STATE)
    const resume = marks !== undefined && this.detection.examined.load(await savedData(marks))
    this.timer = setInterval(() => { void this.save() }, this.cfg.intervalS * 1000)
    this.timer.unref()
    return resume
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
      const texts = await this.detection.betweenBatches(() => {
        const t = detectorStateTexts(this.detection.engine.detectors)
        t.set(EXAMINED_STATE, JSON.stringify(this.detection.examined.toJSON()))
        return t
      })
      const states = await gzipStates(texts)
      await this.store.detectorStates.saveAll(states, this.saved)
      this.saved = new Set(states.keys())
      this.counters.inc('detector_state_saves_total')
    } catch (err) {
      this.counters.inc('detector_state_save_errors_total')
      this.errorLog.hit('save', (suppressed) => this.log.error({ err: (err as Error).message, suppressed }, 'saving what the detectors learned failed (retried every detection.state_save_interval_s; logged at most once a minute)'))
    }
  }
}
