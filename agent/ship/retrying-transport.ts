/**
 * Retry as a wrapper around any BatchTransport: retryable results are tried again after
 * retryDelayMs (jittered exponential backoff with a cap, Retry-After honoured); `ok` and
 * `rejected` are returned as they are. A refused credential (`refused`: 401, or 403 for a
 * revoked agent) pauses: it is tried again every `maxDelayMs` (jittered), recorded in
 * `credential` and logged as an error once a minute with what to do; the batch is never
 * given up for it. Retries go on until `signal` aborts (the spool keeps the batch
 * meanwhile) or, when set, `giveUpAfterMs` has passed.
 */
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import type { CredentialRefusal } from './credential-refusal.js'
import { RETRY_DEFAULTS, retryDelayMs, type RetryPolicyConfig } from './retry-policy.js'
import type { BatchRequest, BatchTransport, SendResult } from './transport.js'

/** A clock further off the collector's than this is logged (once an hour). */
const CLOCK_OFFSET_WARN_MS = 60_000

export type RetryCounter = 'retry_attempts_total' | 'retry_retries_total' | 'retry_gave_up_total' | 'retry_credential_refused_total'

export interface RetryingTransportDeps {
  log?: Logger
  rand?: () => number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  now?: () => number
  /** Where a refused credential is recorded (shared with status and replay). */
  credential?: CredentialRefusal
  /** The re-enrollment hint in the refusal log line (e.g. the enroll command for this agent). */
  reenrollHint?: string
}

export class RetryingTransport implements BatchTransport {
  readonly counters = new Counters<RetryCounter>()
  readonly policy: Readonly<RetryPolicyConfig & { giveUpAfterMs: number }>
  private readonly inner: BatchTransport
  private readonly deps: Required<Pick<RetryingTransportDeps, 'rand' | 'sleep' | 'now'>> & RetryingTransportDeps
  private lastLogMs = 0
  private lastRefusalLogMs = -Infinity
  private lastClockLogMs = -Infinity
  /** This machine's clock minus the collector's at the last ack (ms; includes the answer's network delay). */
  clockOffsetMs: number | undefined

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
      if (res.kind === 'ok') {
        this.deps.credential?.accepted()
        this.checkClock(res.ack.serverTimeUs)
      }
      if (res.kind === 'refused') {
        this.counters.inc('retry_credential_refused_total')
        this.deps.credential?.refused(res.status, res.reason, this.deps.now())
        this.logRefusal(req, res.reason)
      }
      if (res.kind !== 'retryable' && res.kind !== 'refused') return res
      if (signal?.aborted) return res
      if (this.policy.giveUpAfterMs > 0 && this.deps.now() - started >= this.policy.giveUpAfterMs) {
        this.counters.inc('retry_gave_up_total')
        return res
      }
      // A refused credential does not get better sooner for asking often: the longest delay.
      const delay = res.kind === 'refused'
        ? retryDelayMs({ ...this.policy, initialDelayMs: this.policy.maxDelayMs }, 1, this.deps.rand())
        : retryDelayMs(this.policy, attempt, this.deps.rand(), res.retryAfterMs)
      this.counters.inc('retry_retries_total')
      const now = this.deps.now()
      if (res.kind === 'retryable' && now - this.lastLogMs >= 60_000) {
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

  /** Compares this machine's clock with the ack's server time; more than a minute off is logged once an hour. */
  private checkClock(serverTimeUs: number | null | undefined): void {
    const server = Number(serverTimeUs ?? 0) / 1000
    if (!(server > 0)) return
    const now = this.deps.now()
    const offset = Math.round(now - server)
    this.clockOffsetMs = offset
    if (Math.abs(offset) <= CLOCK_OFFSET_WARN_MS || now - this.lastClockLogMs < 3_600_000) return
    this.lastClockLogMs = now
    this.deps.log?.warn({ offsetMs: offset },
      `this machine's clock is ${Math.round(Math.abs(offset) / 1000)} s ${offset > 0 ? 'ahead of' : 'behind'} the collector's; flow and event times are stamped with it: fix its time sync (logged once an hour)`)
  }

  private logRefusal(req: BatchRequest, reason: string): void {
    const now = this.deps.now()
    if (now - this.lastRefusalLogMs < 60_000) return
    this.lastRefusalLogMs = now
    this.deps.log?.error({ seq: req.seq, reason },
      'the collector refuses this agent\'s credential: shipping is paused and batches stay in the spool (the oldest become gap records if it fills up); ' +
      `enroll again on this machine${this.deps.reenrollHint ? ` (${this.deps.reenrollHint})` : ''} and restart the agent: the spooled batches are then sent under the new identity (logged at most once a minute)`)
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
