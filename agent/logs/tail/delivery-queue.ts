import type { LogEvent } from '../log-event.js'

/**
 * The bounded hand-off between a log source's reader and its sink, with explicit
 * acknowledgement. Every event gets a sequence number and the position it covers
 * (`key` = file fingerprint or journal, `position` = next offset / cursor).
 *
 * Bound: queued + handed-out-but-unacknowledged ≤ `capacity`. When full the reader is
 * told to wait (`hasRoom()` false / `waitForRoom()`): log lines are never dropped, reading
 * pauses instead (backpressure), and lag grows — visible as the lag counter.
 *
 * `ack(upTo)` returns, per key, the furthest position now covered: the caller persists it.
 */
export interface Delivery {
  events: LogEvent[]
  /** Acknowledge with this value once all `events` are durably handed on. */
  upTo: number
}

interface Entry<P> { seq: number; key: string; position: P }

export class DeliveryQueue<P> {
  private readonly capacity: number
  private queued: LogEvent[] = []
  private queuedMeta: Entry<P>[] = []
  private inFlight: Entry<P>[] = []
  private seq = 0
  private readerWaiters: Array<() => void> = []
  private roomWaiters: Array<() => void> = []
  private closed = false

  constructor(capacity: number) {
    this.capacity = Math.max(1, capacity)
  }

  get size(): number {
    return this.queued.length + this.inFlight.length
  }

  hasRoom(): boolean {
    return this.size < this.capacity
  }

  push(ev: LogEvent, key: string, position: P): void {
    this.queued.push(ev)
    this.queuedMeta.push({ seq: ++this.seq, key, position })
    const w = this.readerWaiters
    this.readerWaiters = []
    for (const f of w) f()
  }

  /** Resolves when there is room again (or the queue is closed). */
  waitForRoom(): Promise<void> {
    if (this.hasRoom() || this.closed) return Promise.resolve()
    return new Promise((resolve) => this.roomWaiters.push(resolve))
  }

  /** Next batch of at most `max` events; waits up to `waitMs` for the first one. null when closed and empty or nothing arrived. */
  async take(max: number, waitMs: number): Promise<Delivery | null> {
    if (this.queued.length === 0 && !this.closed && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          this.readerWaiters = this.readerWaiters.filter((f) => f !== done)
          resolve()
        }
        const timer = setTimeout(done, waitMs)
        this.readerWaiters.push(done)
      })
    }
    if (this.queued.length === 0) return null
    const n = Math.min(max, this.queued.length)
    const events = this.queued.splice(0, n)
    const meta = this.queuedMeta.splice(0, n)
    for (const m of meta) this.inFlight.push(m)
    return { events, upTo: meta[meta.length - 1]!.seq }
  }

  /** Marks everything up to `upTo` as durably handed on; returns the positions now covered per key. */
  ack(upTo: number): Map<string, P> {
    const covered = new Map<string, P>()
    let i = 0
    while (i < this.inFlight.length && this.inFlight[i]!.seq <= upTo) {
      const e = this.inFlight[i]!
      covered.set(e.key, e.position)
      i++
    }
    if (i > 0) this.inFlight.splice(0, i)
    if (this.hasRoom()) {
      const w = this.roomWaiters
      this.roomWaiters = []
      for (const f of w) f()
    }
    return covered
  }

  close(): void {
    this.closed = true
    for (const f of this.readerWaiters.splice(0)) f()
    for (const f of this.roomWaiters.splice(0)) f()
  }
}
