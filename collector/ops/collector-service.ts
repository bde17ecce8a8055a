/**
 * The collector's side of the service manager: READY=1 once it listens, the watchdog fed
 * while the store is open and the event loop turns, STATUS= with ingest figures,
 * RELOADING=1/READY=1 around a SIGHUP, STOPPING=1. `serve` wires it:
 *
 *   const svc = new CollectorService({}, { log, store, counters: () => ingest.counters.snapshot() })
 *   svc.ready(address) … svc.reloading(); svc.reloaded(err?) … svc.stopping(); await svc.stop()
 *
 * Outside systemd it does nothing but keep the STATUS= timer idle.
 */
import type { Logger } from '../util/logger.js'
import { notifierFromEnv, watchdogIntervalFromEnv, type Notifier } from './sd-notify.js'
import { realClock, Watchdog, type LivenessProbe, type WatchdogClock } from './watchdog.js'

export interface CollectorServiceConfig {
  /** STATUS= refresh when systemd set no watchdog. */
  statusIntervalMs?: number
}

export interface CollectorServiceDeps {
  log: Logger
  store: { readonly isOpen: boolean }
  counters: () => Record<string, number>
  notifier?: Notifier
  env?: NodeJS.ProcessEnv
  clock?: WatchdogClock
}

/** The store is the ingest loop's one resource: closed means no batch can be acknowledged. */
export function storeProbe(store: { readonly isOpen: boolean }): LivenessProbe {
  return { name: 'store', check: () => (store.isOpen ? undefined : 'store: not open') }
}

export function collectorStatusLine(c: Record<string, number>, perSecond: number, address: string): string {
  const v = (k: string): number => c[k] ?? 0
  return `listening on ${address}: ${v('ingest_batches_total')} batches (${perSecond.toFixed(1)}/s), ${v('ingest_flows_total')} flows, `
    + `${v('ingest_duplicates_total')} duplicates, ${v('ingest_rejected_total')} rejected`
}

export class CollectorService {
  readonly notifier: Notifier
  private readonly deps: CollectorServiceDeps
  private readonly clock: WatchdogClock
  private readonly watchdog: Watchdog
  private address = ''
  private last: { atMs: number; batches: number } | undefined

  constructor(cfg: CollectorServiceConfig, deps: CollectorServiceDeps) {
    this.deps = deps
    this.clock = deps.clock ?? realClock
    const env = deps.env ?? process.env
    const watchdogMs = watchdogIntervalFromEnv(env)
    this.notifier = deps.notifier ?? notifierFromEnv(env)
    this.watchdog = new Watchdog({ intervalMs: watchdogMs ?? cfg.statusIntervalMs ?? 10_000, ping: watchdogMs !== undefined }, {
      notifier: this.notifier,
      probes: [storeProbe(deps.store)],
      clock: this.clock,
      status: () => this.statusLine(),
      onHealthChange: (healthy, reasons) => {
        if (healthy) deps.log.info('healthy again: watchdog pings resumed')
        else deps.log.error({ reasons }, 'unhealthy: watchdog pings withheld (systemd restarts the collector after WatchdogSec)')
      },
    })
  }

  ready(address: string): void {
    this.address = address
    this.notifier.notify({ READY: 1, STATUS: `listening on ${address}` })
    this.watchdog.tick()
    this.watchdog.start()
  }

  reloading(): void {
    this.notifier.notify({ RELOADING: 1, MONOTONIC_USEC: (process.hrtime.bigint() / 1000n).toString(), STATUS: 'reloading configuration' })
  }

  reloaded(err?: Error): void {
    this.notifier.notify({ READY: 1, STATUS: err ? `reload failed, running with the previous config: ${err.message.split('\n')[0] ?? ''}` : 'configuration reloaded' })
  }

  stopping(): void {
    this.watchdog.stop()
    this.notifier.notify({ STOPPING: 1, STATUS: 'stopping: finishing requests in flight' })
  }

  async stop(): Promise<void> {
    this.watchdog.stop()
    await this.notifier.flush()
  }

  get healthy(): boolean {
    return this.watchdog.isHealthy
  }

  counters(): Record<string, number> {
    return { ...this.notifier.counters(), ...this.watchdog.counters() }
  }

  private statusLine(): string {
    const c = this.deps.counters()
    const now = this.clock.now()
    const batches = c.ingest_batches_total ?? 0
    const rate = this.last && now > this.last.atMs ? ((batches - this.last.batches) * 1000) / (now - this.last.atMs) : 0
    this.last = { atMs: now, batches }
    return collectorStatusLine(c, rate, this.address)
  }
}
