/**
 * Drains the spool to the collector in seq order. Up to `maxInFlight` batches are sent at
 * once (each through the retrying transport); their results are applied strictly in seq
 * order: a batch is deleted from the spool (acked) or parked (the batch refused for good; a
 * refused credential never parks: credential-refusal.ts) only when
 * every earlier batch has been, so the collector's view and the spool never disagree
 * about order, and a restart resends from the oldest unacknowledged batch.
 */
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import type { Spool } from './spool.js'
import type { BatchTransport, SendResult } from './transport.js'

export interface ShipperConfig {
  maxInFlight: number
}

export type ShipperCounter =
  | 'shipper_batches_sent_total' | 'shipper_batches_acked_total' | 'shipper_batches_duplicate_total'
  | 'shipper_batches_parked_total' | 'shipper_flows_acked_total' | 'shipper_events_acked_total'
  | 'shipper_observations_acked_total' | 'shipper_app_records_acked_total' | 'shipper_errors_total'

interface Slot { seq: number; result?: SendResult; flows: number; events: number; observations: number; appRecords: number }

export class Shipper {
  readonly counters = new Counters<ShipperCounter>()
  readonly config: Readonly<ShipperConfig>
  private readonly spool: Spool
  private readonly transport: BatchTransport
  private readonly log: Logger | undefined
  private inFlight: Slot[] = []
  private lastDispatched = 0
  private abort = new AbortController()
  private running = false
  private loopDone: Promise<void> = Promise.resolve()
  private wake: (() => void) | undefined
  private idleWaiters: Array<() => void> = []
  private parkedLogged = 0

  constructor(cfg: ShipperConfig, deps: { spool: Spool; transport: BatchTransport; log?: Logger }) {
    this.config = Object.freeze({ ...cfg })
    this.spool = deps.spool
    this.transport = deps.transport
    this.log = deps.log
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.abort = new AbortController()
    this.loopDone = this.loop()
  }

  /** Stops sending; batches in flight stay in the spool and are resent after a restart. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.abort.abort()
    this.wake?.()
    await this.loopDone
  }

  /** True when nothing is stored and nothing is in flight. */
  get idle(): boolean {
    return this.inFlight.length === 0 && this.spool.batches === 0
  }

  /** Resolves when the spool is empty and nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const room = this.config.maxInFlight - this.inFlight.length
      const seqs = room > 0 ? this.spool.seqsAfter(this.lastDispatched, room) : []
      for (const seq of seqs) this.dispatch(seq)
      if (this.idle) for (const w of this.idleWaiters.splice(0)) w()
      await new Promise<void>((resolve) => {
        this.wake = resolve
        if (seqs.length === 0 && room > 0) void this.spool.waitForAppend().then(resolve)
      })
      this.wake = undefined
    }
    // Let sends in progress finish (they were aborted) before returning.
    while (this.inFlight.some((s) => s.result === undefined)) await new Promise((r) => setTimeout(r, 5))
  }

  private dispatch(seq: number): void {
    this.lastDispatched = seq
    const slot: Slot = { seq, flows: 0, events: 0, observations: 0, appRecords: 0 }
    this.inFlight.push(slot)
    void this.sendOne(slot).then((result) => {
      slot.result = result
      return this.settle()
    }).catch((err: unknown) => {
      this.counters.inc('shipper_errors_total')
      this.log?.error({ err: (err as Error).message, seq }, 'shipping failed')
    }).finally(() => this.wake?.())
  }

  private async sendOne(slot: Slot): Promise<SendResult> {
    const b = await this.spool.read(slot.seq)
    if (!b) return { kind: 'rejected', status: 0, reason: 'gone from the spool' }
    slot.flows = b.contents.flows
    slot.events = b.contents.events
    slot.observations = b.contents.observations
    slot.appRecords = b.contents.appRecords
    this.counters.inc('shipper_batches_sent_total')
    return this.transport.send({ body: b.body, epoch: b.epoch, seq: b.seq }, this.abort.signal)
  }

  private settling = false

  /** Apply results at the head of the window, in order. */
  private async settle(): Promise<void> {
    if (this.settling) return
    this.settling = true
    try {
      while (this.inFlight.length > 0 && this.inFlight[0]!.result !== undefined) {
        const slot = this.inFlight[0]!
        const r = slot.result!
        if (r.kind === 'ok') {
          await this.spool.ack(slot.seq)
          this.counters.inc('shipper_batches_acked_total')
          if (r.ack.duplicate) this.counters.inc('shipper_batches_duplicate_total')
          this.counters.inc('shipper_flows_acked_total', slot.flows)
          this.counters.inc('shipper_events_acked_total', slot.events)
          this.counters.inc('shipper_observations_acked_total', slot.observations)
          this.counters.inc('shipper_app_records_acked_total', slot.appRecords)
        } else if (r.kind === 'rejected' && r.status !== 0) {
          await this.spool.park(slot.seq, r.reason)
          this.counters.inc('shipper_batches_parked_total')
          const now = Date.now()
          if (now - this.parkedLogged >= 60_000) {
            this.parkedLogged = now
            this.log?.error({ seq: slot.seq, status: r.status, reason: r.reason }, 'the collector refused a batch; it is parked in the spool and reported as a gap (logged at most once a minute)')
          }
        } else if (r.kind === 'retryable' || r.kind === 'refused') {
          // Stopped (or gave up) before an answer, or the credential is refused (the batch is
          // not at fault): leave it in the spool; resend from here.
          this.inFlight.splice(0)
          this.lastDispatched = slot.seq - 1
          break
        }
        this.inFlight.shift()
      }
    } finally {
      this.settling = false
    }
  }
}
