/**
 * The systemd watchdog, fed only while the work loops are healthy.
 *
 * Every `intervalMs` (half of WatchdogSec=) the watchdog asks each liveness probe whether
 * its loop made progress recently. All healthy: one `WATCHDOG=1` + `STATUS=<live figures>`
 * message. Any probe stalled: no ping, a `STATUS=unhealthy: …` line instead, so that
 * systemd kills and restarts the service once WatchdogSec= passes without a ping. The
 * timer runs on the same event loop as the work: a blocked event loop stops the pings too.
 * Without a watchdog (`ping: false`) the same timer still refreshes STATUS=.
 *
 * Self-contained and kept byte-identical in agent/ops and collector/ops.
 */
import type { Notifier } from './sd-notify.js'

export interface LivenessProbe {
  readonly name: string
  /** undefined when healthy, otherwise why not ("no progress for 95 s"). */
  check(nowMs: number): string | undefined
}

/**
 * A probe for a loop that calls beat() each time round (a tick, a batch, a packet
 * burst). Stalled when no beat came for `maxStallMs`.
 */
export class LoopHeartbeat implements LivenessProbe {
  readonly name: string
  private readonly maxStallMs: number
  private last: number

  constructor(name: string, maxStallMs: number, nowMs: number) {
    this.name = name
    this.maxStallMs = maxStallMs
    this.last = nowMs
  }

  beat(nowMs: number): void {
    this.last = nowMs
  }

  check(nowMs: number): string | undefined {
    const idle = nowMs - this.last
    return idle > this.maxStallMs ? `${this.name}: no progress for ${Math.round(idle / 1000)} s` : undefined
  }
}

export interface WatchdogClock {
  now(): number
  setInterval(fn: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
}

export const realClock: WatchdogClock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
}

export interface WatchdogConfig {
  intervalMs: number
  /** Send WATCHDOG=1 (WatchdogSec= is set); false: only STATUS= updates. */
  ping: boolean
}

export interface WatchdogDeps {
  notifier: Notifier
  probes: readonly LivenessProbe[]
  /** One line of live figures for `systemctl status` (STATUS=). */
  status?: () => string
  clock?: WatchdogClock
  /** Called when a healthy loop turns unhealthy and back (log once per change). */
  onHealthChange?: (healthy: boolean, reasons: readonly string[]) => void
}

export class Watchdog {
  readonly config: Readonly<WatchdogConfig>
  private readonly deps: WatchdogDeps
  private readonly clock: WatchdogClock
  private timer: unknown
  private healthy = true
  private reasons: string[] = []
  private readonly c = { watchdog_pings_total: 0, watchdog_withheld_total: 0, watchdog_status_errors_total: 0 }

  constructor(config: WatchdogConfig, deps: WatchdogDeps) {
    this.config = Object.freeze({ ...config })
    this.deps = deps
    this.clock = deps.clock ?? realClock
  }

  start(): void {
    if (this.timer !== undefined) return
    this.timer = this.clock.setInterval(() => this.tick(), this.config.intervalMs)
    const t = this.timer as { unref?: () => void }
    t.unref?.()
  }

  stop(): void {
    if (this.timer === undefined) return
    this.clock.clearInterval(this.timer)
    this.timer = undefined
  }

  /** One round; public so that a caller can ping right after READY=1. */
  tick(): void {
    const now = this.clock.now()
    const reasons: string[] = []
    for (const p of this.deps.probes) {
      const r = p.check(now)
      if (r !== undefined) reasons.push(r)
    }
    const healthy = reasons.length === 0
    if (healthy !== this.healthy) this.deps.onHealthChange?.(healthy, reasons)
    this.healthy = healthy
    this.reasons = reasons
    if (!healthy) {
      this.c.watchdog_withheld_total++
      this.deps.notifier.notify({ STATUS: `unhealthy: ${reasons.join('; ')}` })
      return
    }
    const fields: Record<string, string | number> = {}
    if (this.config.ping) {
      fields.WATCHDOG = 1
      this.c.watchdog_pings_total++
    }
    const status = this.statusLine()
    if (status !== undefined) fields.STATUS = status
    if (Object.keys(fields).length > 0) this.deps.notifier.notify(fields)
  }

  get isHealthy(): boolean {
    return this.healthy
  }

  get unhealthyReasons(): readonly string[] {
    return this.reasons
  }

  counters(): Record<string, number> {
    return { ...this.c }
  }

  private statusLine(): string | undefined {
    if (!this.deps.status) return undefined
    try {
      return this.deps.status()
    } catch {
      this.c.watchdog_status_errors_total++
      return undefined
    }
  }
}
