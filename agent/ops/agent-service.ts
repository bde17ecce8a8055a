/**
 * The agent's side of the service manager: sd_notify (READY=1, RELOADING=1, STOPPING=1,
 * STATUS=), the watchdog fed by liveness probes, and the local status socket. `run`
 * creates one, registers probes for its loops, and calls the lifecycle methods:
 *
 *   const svc = new AgentService({ statusSocket, collectorUrl }, { stats, log })
 *   await svc.start()                 // status socket (before the slow start-up work)
 *   const beat = svc.probe('flow-pipeline', 30_000); … beat.beat(Date.now()) every tick
 *   svc.ready()                       // READY=1, watchdog + STATUS= timer
 *   svc.reloading() … svc.reloaded(err?)
 *   svc.stopping(); …; await svc.stop()
 *
 * Outside systemd (no $NOTIFY_SOCKET) the notifier does nothing and the status socket
 * still works.
 */
import type { AgentStatsProperties } from '../../protocol/index.js'
import type { Logger } from '../util/logger.js'
import { AgentStatusTracker, statusLine, type AgentStatusDoc, type ServiceState } from './agent-status.js'
import { notifierFromEnv, watchdogIntervalFromEnv, type Notifier } from './sd-notify.js'
import { StatusServer } from './status-socket.js'
import { LoopHeartbeat, realClock, Watchdog, type LivenessProbe, type WatchdogClock } from './watchdog.js'

export interface AgentServiceConfig {
  statusSocket: string
  collectorUrl: string
  /** STATUS= refresh when systemd set no watchdog. */
  statusIntervalMs?: number
}

export interface AgentServiceDeps {
  stats: () => AgentStatsProperties
  log: Logger
  notifier?: Notifier
  env?: NodeJS.ProcessEnv
  clock?: WatchdogClock
}

export class AgentService {
  readonly notifier: Notifier
  private readonly cfg: AgentServiceConfig
  private readonly deps: AgentServiceDeps
  private readonly clock: WatchdogClock
  private readonly probes: LivenessProbe[] = []
  private readonly tracker = new AgentStatusTracker()
  private readonly server: StatusServer
  private readonly watchdog: Watchdog
  private state: ServiceState = 'starting'
  private readonly reloads = { ok: 0, failed: 0, last_error: '' }

  constructor(cfg: AgentServiceConfig, deps: AgentServiceDeps) {
    this.cfg = cfg
    this.deps = deps
    this.clock = deps.clock ?? realClock
    const env = deps.env ?? process.env
    const watchdogMs = watchdogIntervalFromEnv(env)
    this.notifier = deps.notifier ?? notifierFromEnv(env)
    this.server = new StatusServer({ path: cfg.statusSocket }, { document: () => this.document(), log: deps.log })
    this.watchdog = new Watchdog({ intervalMs: watchdogMs ?? cfg.statusIntervalMs ?? 10_000, ping: watchdogMs !== undefined }, {
      notifier: this.notifier,
      probes: this.probes,
      clock: this.clock,
      status: () => {
        const now = this.clock.now()
        const stats = this.deps.stats()
        const line = statusLine(this.docFrom(stats, now))
        this.tracker.observe(stats, now)
        return line
      },
      onHealthChange: (healthy, reasons) => {
        if (healthy) deps.log.info('loops healthy again: watchdog pings resumed')
        else deps.log.error({ reasons }, 'a loop stalled: watchdog pings withheld (systemd restarts the agent after WatchdogSec)')
      },
    })
  }

  /** Starts the status socket. */
  async start(): Promise<void> {
    await this.server.start()
  }

  /** A liveness probe for one loop; it must beat at least every `maxStallMs`. */
  probe(name: string, maxStallMs: number): LoopHeartbeat {
    const p = new LoopHeartbeat(name, maxStallMs, this.clock.now())
    this.probes.push(p)
    return p
  }

  ready(): void {
    this.state = 'running'
    this.notifier.notify({ READY: 1, STATUS: 'running' })
    this.watchdog.tick()
    this.watchdog.start()
  }

  reloading(): void {
    this.state = 'reloading'
    // systemd ≥ 253 wants MONOTONIC_USEC with RELOADING=1 (Type=notify-reload); older ones ignore it.
    this.notifier.notify({ RELOADING: 1, MONOTONIC_USEC: monotonicUsec(), STATUS: 'reloading configuration' })
  }

  reloaded(err?: Error): void {
    this.state = 'running'
    if (err) {
      this.reloads.failed++
      this.reloads.last_error = err.message.split('\n').slice(0, 3).join(' ')
    } else {
      this.reloads.ok++
    }
    this.notifier.notify({ READY: 1, STATUS: err ? `reload failed, running with the previous config: ${this.reloads.last_error}` : 'configuration reloaded' })
  }

  stopping(): void {
    this.state = 'stopping'
    this.watchdog.stop()
    this.notifier.notify({ STOPPING: 1, STATUS: 'stopping: flushing flows and spool' })
  }

  async stop(): Promise<void> {
    this.watchdog.stop()
    await this.server.stop()
    await this.notifier.flush()
  }

  document(): AgentStatusDoc {
    return this.docFrom(this.deps.stats(), this.clock.now())
  }

  counters(): Record<string, number> {
    return { ...this.notifier.counters(), ...this.watchdog.counters(), ...this.server.counters() }
  }

  private docFrom(stats: AgentStatsProperties, now: number): AgentStatusDoc {
    // A watchdog round may be older than the stall: ask the probes now.
    const reasons = this.probes.map((p) => p.check(now)).filter((r): r is string => r !== undefined)
    return this.tracker.report(stats, now, {
      url: this.cfg.collectorUrl, pid: process.pid, state: this.state, healthy: reasons.length === 0, reasons, reloads: { ...this.reloads },
    })
  }
}

function monotonicUsec(): string {
  return (process.hrtime.bigint() / 1000n).toString()
}
