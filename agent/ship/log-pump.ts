/**
 * Moves events from one log source into the batcher: reads only while the batcher has
 * room (so a slow spool pauses log reading instead of dropping lines), and acknowledges
 * to the source only once the batch holding the events is durable in the spool — the
 * source's checkpoints therefore never run ahead of what the agent can still deliver.
 */
import type { Delivery } from '../logs/tail/delivery-queue.js'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import type { Batcher } from './batcher.js'

export interface AckedSource {
  read(max: number, waitMs: number): Promise<Delivery | null>
  ack(upTo: number): Promise<void>
  start(): Promise<void>
  stop(): Promise<void>
}

export type LogPumpCounter = 'log_pump_events_total' | 'log_pump_ack_errors_total'

export class LogPump {
  readonly counters = new Counters<LogPumpCounter>()
  private running = false
  private done: Promise<void> = Promise.resolve()

  constructor(readonly name: string, private readonly source: AckedSource, private readonly batcher: Batcher, private readonly log?: Logger, private readonly readMax = 500) {}

  async start(): Promise<void> {
    await this.source.start()
    this.running = true
    this.done = this.loop()
  }

  /** Stops reading; events handed to the batcher are acked when the batcher flushes them. */
  async stop(): Promise<void> {
    this.running = false
    await this.done
  }

  /** The source itself (stopped after the batcher has flushed, so the last acks land). */
  async stopSource(): Promise<void> {
    await this.source.stop()
  }

  private async loop(): Promise<void> {
    while (this.running) {
      if (!this.batcher.hasRoom()) {
        await Promise.race([this.batcher.waitForRoom(), new Promise((r) => setTimeout(r, 200))])
        continue
      }
      const d = await this.source.read(this.readMax, 200)
      if (!d) continue
      this.counters.inc('log_pump_events_total', d.events.length)
      this.batcher.addEvents(d.events, () => {
        this.source.ack(d.upTo).catch((err: unknown) => {
          this.counters.inc('log_pump_ack_errors_total')
          this.log?.warn({ source: this.name, err: (err as Error).message }, 'checkpoint write failed')
        })
      })
    }
  }
}
