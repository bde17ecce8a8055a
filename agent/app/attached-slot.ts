/**
 * One analyzer attached to one connection, and the `AppOutput` it reports through: a single
 * object per attachment (not eight closures), forwarding to the dispatcher that owns it.
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppOutput, HostObservation } from './app-analyzer.js'
import type { AppCounter } from './app-dispatcher.js'
import type { AppSession, AttachedAnalyzer } from './app-session.js'
import type { Counters } from '../util/counters.js'

/** What a slot needs from its dispatcher. */
export interface SlotOwner {
  readonly counters: Counters<AppCounter>
  readonly deps: {
    onLog: (path: string, row: Record<string, unknown>) => void
    onObservation?: ((obs: HostObservation, conn: AppSession['conn']) => void) | undefined
    onAnomaly?: ((name: string, conn: AppSession['conn']) => void) | undefined
  }
  endDetection(s: AppSession): void
  upgrade(s: AppSession, name: string): void
  expect(e: Parameters<AppOutput['expect']>[0]): void
}

export class AttachedSlot implements AttachedAnalyzer, AppOutput {
  analyzer: AppAnalyzer = undefined as unknown as AppAnalyzer
  detached = false
  stopped = false

  constructor(private readonly owner: SlotOwner, private readonly s: AppSession, readonly factory: AppAnalyzerFactory) {}

  /** Stop feeding this analyzer (violation or exception); finish() is not called. */
  detach(): void {
    if (this.detached) return
    if (!this.stopped) this.s.live--
    this.detached = true
  }

  log(path: string, row: Record<string, unknown>): void {
    this.owner.counters.inc('log_rows')
    this.owner.deps.onLog(path, row)
  }

  confirm(service: string): void {
    this.s.addService(service)
    // A confirmed protocol ends detection, as Zeek's PIA does.
    if (this.s.dpd !== undefined) this.owner.endDetection(this.s)
  }

  violation(): void {
    this.owner.counters.inc('violations')
    this.detach()
  }

  done(): void {
    if (this.stopped) return
    if (!this.detached) this.s.live--
    this.stopped = true
  }

  anomaly(name: string): void {
    this.owner.deps.onAnomaly?.(name, this.s.conn)
  }

  observe(obs: HostObservation): void {
    this.owner.deps.onObservation?.(obs, this.s.conn)
  }

  upgrade(name: string): void {
    this.owner.upgrade(this.s, name)
  }

  expect(e: Parameters<AppOutput['expect']>[0]): void {
    this.owner.expect(e)
  }
}
