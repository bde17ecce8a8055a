/**
 * Follows the store's batches in number order for one consumer (the topology merge,
 * detection), without ever slowing ingest down and without skipping anything acked.
 *
 * Ingest offers every batch once it is durable (`offer`). While the consumer keeps up, the
 * batch waits in a bounded queue (`queueBatches`) and is handed to `handle` in order. When
 * the queue is full the follower is *behind*: it stops queueing (the offer is only counted,
 * `deferred`) and, once the queue is drained, reads the batches it has not processed back
 * from the store, pass after pass, until every number handed out is processed, being
 * written (its live offer will come once `behind` is off) or was never stored (a failed
 * write, retention: `passed`). Then it takes live batches again.
 *
 * The marks (BatchMarks) say which numbers are processed; a consumer that persists them
 * with its own state (the topology's flush, detection's state keeper) resumes after a
 * restart with `start(true)`: everything stored since is read back first.
 */
import type { BatchRecord, CollectorStore } from '../storage/index.js'
import type { Logger } from '../util/logger.js'
import { RateLimitedLog } from '../util/rate-limited-log.js'
import { BatchMarks } from './batch-marks.js'

export interface FollowedBatch { n: number }

/** What a follower counts (the consumer names them in its own counters). */
export type FollowCount = 'deferred' | 'caught_up' | 'passed' | 'dropped' | 'read_errors'

export interface BatchFollowerOptions<B extends FollowedBatch> {
  /** The consumer's name in log lines ("topology", "detection"). */
  name: string
  /** Batches held in memory while the consumer keeps up (each holds its decoded records). */
  queueBatches: number
  /** Reads a stored batch back (catching up). */
  readBack: (rec: BatchRecord) => Promise<B>
  /** Processes one batch; the follower marks it afterwards, also when it throws (the consumer catches, counts and logs its own errors). */
  handle: (b: B) => Promise<void>
  count: (what: FollowCount, n?: number) => void
}

/** Catch-up passes in a row that process nothing before the numbers still missing are passed (a write that will never land). */
const STALLED_PASSES = 50

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r))

export class BatchFollower<B extends FollowedBatch> {
  private readonly queue: B[] = []
  private running: Promise<void> | undefined
  private stopped = true
  /** stop() was called: catching up ends at the next batch (the marks say where to resume). */
  private stopping = false
  private idleWaiters: Array<() => void> = []
  private inProcess = 0
  /** Live batches are not queued: the drain reads them back from the store. */
  private behind = false
  /** "Behind" logged at most once a minute: an overloaded collector falls behind again and again. */
  private readonly behindLog = new RateLimitedLog(60_000)
  private behindUnlogged = false
  private betweenWaiters: Array<() => void> = []

  /**
   * `store` undefined (unit tests of a consumer): a full queue drops the newest batch and
   * counts it (`dropped`). `marks`: shared with a consumer that marks inside its own critical
   * section (the topology marks as it merges, so a flush persists marks and model together).
   */
  constructor(private readonly store: CollectorStore | undefined, private readonly opts: BatchFollowerOptions<B>, private readonly log: Logger, readonly marks = new BatchMarks()) {
    // A batch whose write failed is never stored: nothing to wait for.
    store?.batches.onAbandoned((n) => this.marks.mark(n))
  }

  /**
   * Starts taking batches. `resume`: the marks were restored from a save, so the batches
   * stored since are read back first; otherwise the follower starts at the store's newest
   * batch (nothing before it is owed).
   */
  start(resume: boolean): void {
    this.stopped = false
    this.stopping = false
    if (this.store === undefined) return
    if (!resume) { this.marks.markUpTo(this.store.batches.numbering().last); return }
    this.catchUp()
  }

  /** Reads back every stored batch not marked (after a restart, or after the marks were reset for a rebuild). */
  catchUp(): void {
    if (this.store === undefined || this.stopped) return
    if (this.store.batches.numbering().last <= this.marks.watermark) return
    this.behind = true
    this.running ??= this.drain()
  }

  /** Finishes the batches already queued, interrupts catching up (resumed at the next start), then stops taking new ones. */
  async stop(): Promise<void> {
    this.stopping = true
    await this.idle()
    this.stopped = true
  }

  get pending(): number { return this.queue.length }

  /** Batches queued or being processed, or acked and not processed yet (0: the consumer has seen everything acked). */
  get backlog(): number {
    if (this.behind && this.store !== undefined) return Math.max(this.queue.length + this.inProcess, this.store.batches.numbering().last - this.marks.watermark - this.marks.above.size)
    return this.queue.length + this.inProcess
  }

  /** Ingest's hand-over of a durable batch. */
  offer(b: B): void {
    if (this.stopped) return
    if (this.behind) { this.opts.count('deferred'); return }
    if (this.queue.length >= this.opts.queueBatches) {
      if (this.store === undefined) { this.opts.count('dropped'); return }
      // Read back from the store once the queue is drained.
      this.behind = true
      this.opts.count('deferred')
      this.behindUnlogged = !this.behindLog.hit('behind', (suppressed) => this.log.warn({ queued: this.queue.length, suppressed }, `${this.opts.name} is behind ingest: batches are read back from the store until it has caught up (nothing is skipped; logged at most once a minute)`))
      return
    }
    this.queue.push(b)
    this.running ??= this.drain()
  }

  /** Resolves when the queue is empty, the follower has caught up and nothing is being processed. */
  idle(): Promise<void> {
    if (this.running === undefined && this.queue.length === 0) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  /** Runs `fn` between two batches (at once when none is being processed). */
  betweenBatches<T>(fn: () => T): Promise<T> {
    if (this.inProcess === 0) return Promise.resolve(fn())
    return new Promise((resolve, reject) => this.betweenWaiters.push(() => { try { resolve(fn()) } catch (err) { reject(err as Error) } }))
  }

  /**
   * True when every batch acked before `at` (a numbering() taken then) is processed or
   * passed: a reader that wants what was acked can wait for this.
   */
  reached(at: { last: number; writing: ReadonlySet<number> }): boolean {
    if (this.marks.watermark >= at.last) return true
    for (let m = this.marks.watermark + 1; m <= at.last; m++) if (!at.writing.has(m) && !this.marks.has(m)) return false
    return true
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        while (this.queue.length > 0) {
          // Left in the queue until its turn (the backlog and the bound count it).
          const b = this.queue[0]!
          await yieldToLoop()
          this.queue.shift()
          await this.process(b)
        }
        if (!this.behind || this.stopping) break
        await this.readBackAll()
      }
    } finally {
      this.running = undefined
      const w = this.idleWaiters
      this.idleWaiters = []
      for (const fn of w) fn()
    }
  }

  /** One batch through the consumer (once: a number already marked is skipped), then marked. */
  private async process(b: B): Promise<void> {
    if (this.store !== undefined && this.marks.has(b.n)) return
    this.inProcess = 1
    try {
      await this.opts.handle(b)
    } finally {
      this.marks.mark(b.n)
      this.inProcess = 0
      const w = this.betweenWaiters
      this.betweenWaiters = []
      for (const fn of w) fn()
    }
  }

  private pass(m: number): void {
    this.marks.mark(m)
    this.opts.count('passed')
  }

  /**
   * Reads back, in number order, every stored batch not marked yet, pass after pass, until
   * every number handed out is marked, being written or was never stored. Numbers between two
   * stored batches that are not being written were abandoned or expired: passed.
   */
  private async readBackAll(): Promise<void> {
    const store = this.store!
    let stalled = 0
    while (!this.stopping) {
      const { last, writing } = store.batches.numbering()
      let progressed = false
      let prev = this.marks.watermark
      for await (const rec of store.batches.batchRecords(this.marks.watermark + 1)) {
        if (rec.n > last || this.stopping) break
        for (let m = prev + 1; m < rec.n; m++) if (!writing.has(m) && !this.marks.has(m)) this.pass(m)
        prev = rec.n
        if (this.marks.has(rec.n)) continue
        let b: B
        try {
          b = await this.opts.readBack(rec)
        } catch (err) {
          this.opts.count('read_errors')
          this.log.error({ err: (err as Error).message, batch: rec.n }, `a stored batch could not be read back for ${this.opts.name}; passed`)
          this.marks.mark(rec.n)
          continue
        }
        await yieldToLoop()
        await this.process(b)
        this.opts.count('caught_up')
        progressed = true
      }
      if (this.stopping) return
      // Against the numbering NOW, not the pass's: a batch stored during the pass was offered
      // while behind (deferred), so it must be read back before live hand-over resumes.
      if (this.reached(store.batches.numbering())) {
        // Caught up: batches written from now on are handed over live.
        this.behind = false
        if (!this.behindUnlogged) this.log.info({ watermark: this.marks.watermark }, `${this.opts.name} has caught up with ingest`)
        return
      }
      stalled = progressed ? 0 : stalled + 1
      if (stalled >= STALLED_PASSES) {
        for (let m = this.marks.watermark + 1; m <= last; m++) if (!writing.has(m) && !this.marks.has(m)) this.pass(m)
        stalled = 0
      }
      await new Promise((r) => setTimeout(r, progressed ? 0 : 20))
    }
  }
}
