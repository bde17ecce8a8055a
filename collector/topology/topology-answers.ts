/**
 * Stale-while-revalidate cache of `/api/v1/topology` answers (encoded bodies, per query
 * string), so that a merged ingest batch never puts a rebuild on a request's path.
 *
 * Each answer carries the topology generation and the time (`asOfMs`) its build started:
 * it holds every change merged before `asOfMs`. A request for key K at time t gets:
 * - the cached answer when no change was merged since it was built (current);
 * - the cached answer when `t − asOfMs ≤ maxStalenessMs` (stale, but every change it misses
 *   is younger than the bound); once `t − asOfMs ≥ refreshMs` a background rebuild of K
 *   starts (at most one per key at a time, so at most one per `refreshMs` while requests
 *   keep coming and the topology keeps changing);
 * - otherwise (first request, or older than the bound) it waits for a build that started
 *   no earlier than `t − maxStalenessMs`.
 * Builds run one at a time (a queue), in slices that yield to the event loop
 * (topology-build.ts). With `maxStalenessMs` 0 every answer is current.
 */
export interface AnswerCacheOptions {
  maxStalenessMs: number
  refreshMs: number
  maxEntries: number
  now?: () => number
}

export interface Answer { body: Buffer; type: string; generation: number; asOfMs: number }

export interface Served {
  answer: Answer
  /** 'current' (nothing merged since), 'stale' (within the bound) or 'built' (waited for a build). */
  how: 'current' | 'stale' | 'built'
}

interface Entry { answer: Answer | undefined; building: Promise<Answer> | undefined }

export type AnswerCounter = 'answers_current' | 'answers_stale' | 'answers_built' | 'builds' | 'build_errors' | 'background_builds'

export class TopologyAnswers {
  private readonly entries = new Map<string, Entry>()
  private queue: Promise<unknown> = Promise.resolve()
  /** The clock answers' `asOfMs` must be read from (ms). */
  readonly now: () => number
  readonly counters: Record<AnswerCounter, number> = { answers_current: 0, answers_stale: 0, answers_built: 0, builds: 0, build_errors: 0, background_builds: 0 }

  constructor(private readonly opts: AnswerCacheOptions, private readonly generation: () => number) {
    this.now = opts.now ?? Date.now
  }

  get size(): number { return this.entries.size }

  /**
   * True when a cached answer for `key` is within the staleness bound: get() serves it (or
   * one as new) without waiting for a build. (A bound of 0 never holds: every answer is built
   * or current.)
   */
  cachedWithinBound(key: string): boolean {
    const a = this.entries.get(key)?.answer
    return a !== undefined && this.withinBound(this.now() - a.asOfMs)
  }

  /** An answer this old may be served stale. */
  private withinBound(ageMs: number): boolean {
    return this.opts.maxStalenessMs > 0 && ageMs <= this.opts.maxStalenessMs
  }

  /** The answer for `key` under the staleness rule above; `build` makes a fresh one (it reads meta at its start). */
  async get(key: string, build: () => Promise<Answer>): Promise<Served> {
    const t = this.now()
    let e = this.entries.get(key)
    const a = e?.answer
    if (e !== undefined && a !== undefined) {
      if (a.generation === this.generation()) { this.counters.answers_current++; return { answer: a, how: 'current' } }
      const age = t - a.asOfMs
      if (this.withinBound(age)) {
        if (age >= this.opts.refreshMs && e.building === undefined) { this.counters.background_builds++; this.start(e, build).catch(() => {}) }
        this.counters.answers_stale++
        return { answer: a, how: 'stale' }
      }
    }
    if (e === undefined) {
      if (this.entries.size >= this.opts.maxEntries) this.entries.delete(this.entries.keys().next().value as string)
      e = { answer: undefined, building: undefined }
      this.entries.set(key, e)
    }
    // Wait for a build recent enough for this request: one already running may have started
    // too early; then one queued now (it starts after t, so a second round always suffices).
    let p = e.building ?? this.start(e, build)
    for (;;) {
      const got = await p
      if (got.generation === this.generation() || got.asOfMs >= t - this.opts.maxStalenessMs) {
        this.counters.answers_built++
        return { answer: got, how: 'built' }
      }
      p = this.start(e, build)
    }
  }

  private start(e: Entry, build: () => Promise<Answer>): Promise<Answer> {
    const p = this.queue.then(async () => {
      this.counters.builds++
      return build()
    })
    this.queue = p.catch(() => undefined)
    e.building = p
    p.then((a) => {
      if (e.answer === undefined || a.asOfMs >= e.answer.asOfMs) e.answer = a
    }, () => { this.counters.build_errors++ }).finally(() => { if (e.building === p) e.building = undefined })
    return p
  }
}
