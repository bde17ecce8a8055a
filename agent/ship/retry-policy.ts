/**
 * When to retry a send and how long to wait: pure functions, no I/O.
 *
 * Retried: network errors (no status), 408, 429 and 5xx. Every other status is final.
 * Delay: exponential from `initialDelayMs` by `multiplier`, capped at `maxDelayMs`, with
 * jitter: the delay is drawn uniformly from [base × (1 − jitter), base], so many agents
 * restarting together do not hammer the collector in step. A `Retry-After` from the
 * collector (seconds or an HTTP date) replaces the computed delay, capped at
 * `maxRetryAfterMs` so a bad header cannot stall an agent for days.
 */
export interface RetryPolicyConfig {
  initialDelayMs: number
  maxDelayMs: number
  multiplier: number
  /** 0 = none, 1 = full jitter. */
  jitter: number
  maxRetryAfterMs: number
}

export const RETRY_DEFAULTS: Readonly<RetryPolicyConfig> = Object.freeze({
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  multiplier: 2,
  jitter: 0.5,
  maxRetryAfterMs: 300_000,
})

/** Only 408, 429 and 5xx are worth another try; other statuses say the request itself is wrong. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599)
}

/**
 * A refusal of the agent's credential rather than of the batch: every 401, and a 403 other
 * than COLLECTOR_ERR_AGENT_MISMATCH (a batch naming another agent, which is the batch's
 * fault). A 401/403 from a proxy in front of the collector (no collector code) counts as a
 * credential refusal too: the batch is kept rather than given up.
 */
export function isCredentialRefusal(status: number, code: string | undefined): boolean {
  if (status === 401) return true
  return status === 403 && code !== 'COLLECTOR_ERR_AGENT_MISMATCH'
}

/** `Retry-After` in ms from now: delta-seconds or an HTTP date; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (v === undefined) return undefined
  const s = v.trim()
  if (/^\d+$/.test(s)) return Number(s) * 1000
  if (s === '' || /^[-+\d.]/.test(s)) return undefined
  const t = Date.parse(s)
  if (!Number.isFinite(t)) return undefined
  return Math.max(0, t - nowMs)
}

/** Delay before retry number `attempt` (1 = first retry). `rand` in [0, 1). */
export function retryDelayMs(cfg: RetryPolicyConfig, attempt: number, rand: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), cfg.maxRetryAfterMs)
  const exp = cfg.initialDelayMs * Math.pow(cfg.multiplier, Math.max(0, attempt - 1))
  const base = Math.min(cfg.maxDelayMs, exp)
  const jitter = Math.min(1, Math.max(0, cfg.jitter))
  return base * (1 - jitter) + base * jitter * Math.min(1, Math.max(0, rand))
}
