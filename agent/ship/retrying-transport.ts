/**
 * Retry as a wrapper around any BatchTransport: retryable results are tried again after
 * retryDelayMs (jittered exponential backoff with a cap, Retry-After honoured); `ok` and
 * `rejected` are returned as they are. Retries go on until `signal` aborts (the spool
 * keeps the batch meanwhile) or, when set, `giveUpAfterMs` has passed.
 */
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import { RETRY_DEFAULTS, retryDelayMs, type RetryPolicyConfig } from './retry-policy.js'
import type { BatchRequest, BatchTransport, SendResult } from './transport.js'

export type RetryCounter = 'retry_attempts_total' | 'retry_retries_total' | 'retry_gave_up_total'

export interface RetryingTransportDeps {
  log?: Logger
  rand?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  now?: () => number
}

export class RetryingTransport implements BatchTransport {
  readonly counters = new Counters<RetryCounter>()
  readonly policy: Readonly<RetryPolicyConfig & { giveUpAfterMs: number }>
  private readonly inner: BatchTransport
  private readonly deps: Required<Omit<RetryingTransportDeps, 'log'>> & { log?: Logger }
  private lastLogMs = 0

  constructor(inner: BatchTransport, policy: Partial<RetryPolicyConfig & { giveUpAfterMs: number }>, deps: RetryingTransportDeps = {}) {
    this.inner = inner
    this.policy = Object.freeze({ ...RETRY_DEFAULTS, giveUpAfterMs: 0, ...policy })
    this.deps = { rand: Math.random, sleep: abortableSleep, now: Date.now, ...deps }
  }

  async send(req: BatchRequest, signal?: AbortSignal): Promise<SendResult> {
    const started = this.deps.now()
    for (let attempt = 1; ; attempt++) {
      this.counters.inc('retry_attempts_total')
      const res = await this.inner.send(req, signal)
      if (res.kind !== 'retryable') return res
      if (signal?.aborted) return res
      if (this.policy.giveUpAfterMs > 0 && this.deps.now() - started >= this.policy.giveUpAfterMs) {
        this.counters.inc('retry_gave_up_total')
        return res
      }
      const delay = retryDelayMs(this.policy, attempt, this.deps.rand(), res.retryAfterMs)
      this.counters.inc('retry_retries_total')
      const now = this.deps.now()
      if (now - this.lastLogMs >= 60_000) {
        this.lastLogMs = now
        this.deps.log?.warn({ seq: req.seq, attempt, delayMs: Math.round(delay), reason: res.reason }, 'collector not reachable or busy; retrying (logged at most once a minute)')
      }
      try {
        await this.deps.sleep(delay, signal)
      } catch {
        return res
      }
    }
  }
}

/** setTimeout as a promise that rejects when `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) { reject(new Error('aborted')); return }
    const onAbort = (): void => { clearTimeout(t); reject(new Error('aborted')) }
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve() }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
