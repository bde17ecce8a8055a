/**
 * Delivers alert events to the configured webhooks: JSON POST with an HMAC signature
 * (webhook-signature.ts). A bounded queue (`webhook_queue`; when full the newest delivery
 * is dropped and counted) drained by one worker; each delivery is retried on network
 * errors, 408, 429 and 5xx with jittered exponential backoff (Retry-After honoured, capped)
 * up to `webhook_attempts`. Component shape: inert constructor, start/stop (stop waits for
 * the delivery in progress, then drops what is queued and counts it).
 */
import { request } from 'undici'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import type { AlertEvent } from './alert-manager.js'
import { SEVERITY_RANK } from './alert-types.js'
import type { Severity } from '../detection/detection-types.js'
import type { AlertsConfig } from './alerts-config.js'
import { signWebhook, SIGNATURE_HEADER, TIMESTAMP_HEADER } from './webhook-signature.js'

export type WebhookCounter = 'webhook_sent_total' | 'webhook_failed_total' | 'webhook_retries_total' | 'webhook_dropped_total'

interface Delivery { hook: AlertsConfig['webhooks'][number]; body: string; attempt: number }

export class WebhookSender {
  readonly counters = new Counters<WebhookCounter>()
  private readonly queue: Delivery[] = []
  private running = false
  private draining: Promise<void> | undefined
  private stopped = true
  private wake: (() => void) | undefined

  constructor(private readonly cfg: AlertsConfig, private readonly log: Logger) {}

  start(): void { this.stopped = false }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    await this.draining
    if (this.queue.length > 0) {
      this.counters.inc('webhook_dropped_total', this.queue.length)
      this.log.warn({ dropped: this.queue.length }, 'webhook deliveries dropped at shutdown')
      this.queue.length = 0
    }
  }

  get pending(): number { return this.queue.length }

  /** Queues the event for every webhook that wants it. */
  onAlert(ev: AlertEvent): void {
    if (this.stopped || this.cfg.webhooks.length === 0) return
    for (const hook of this.cfg.webhooks) {
      if (!hook.events.includes(ev.kind)) continue
      if (SEVERITY_RANK[ev.alert.severity] < SEVERITY_RANK[hook.min_severity as Severity]) continue
      if (this.queue.length >= this.cfg.webhook_queue) {
        this.counters.inc('webhook_dropped_total')
        continue
      }
      this.queue.push({ hook, body: JSON.stringify({ event: ev.kind, alert: ev.alert }), attempt: 0 })
    }
    if (!this.running) this.draining = this.drain()
  }

  private async drain(): Promise<void> {
    this.running = true
    try {
      while (!this.stopped && this.queue.length > 0) {
        const d = this.queue.shift()!
        await this.deliver(d)
      }
    } finally {
      this.running = false
    }
  }

  private async deliver(d: Delivery): Promise<void> {
    for (;;) {
      d.attempt++
      let retryAfterMs = -1
      let outcome: 'ok' | 'retry' | 'fail'
      try {
        const ts = Math.floor(Date.now() / 1000)
        const r = await request(d.hook.url, {
          method: 'POST', body: d.body, headersTimeout: this.cfg.webhook_timeout_ms, bodyTimeout: this.cfg.webhook_timeout_ms,
          headers: { 'content-type': 'application/json', [TIMESTAMP_HEADER]: String(ts), [SIGNATURE_HEADER]: signWebhook(d.hook.secret, ts, d.body), 'user-agent': 'telltale-collector' },
        })
        await r.body.dump()
        if (r.statusCode >= 200 && r.statusCode < 300) outcome = 'ok'
        else if (r.statusCode === 408 || r.statusCode === 429 || r.statusCode >= 500) {
          outcome = 'retry'
          const ra = Number(r.headers['retry-after'])
          if (Number.isFinite(ra) && ra >= 0) retryAfterMs = ra * 1000
        } else outcome = 'fail'
      } catch {
        outcome = 'retry'
      }
      if (outcome === 'ok') { this.counters.inc('webhook_sent_total'); return }
      if (outcome === 'fail' || d.attempt >= this.cfg.webhook_attempts || this.stopped) {
        this.counters.inc('webhook_failed_total')
        this.log.warn({ url: d.hook.url, attempts: d.attempt }, 'webhook delivery failed')
        return
      }
      this.counters.inc('webhook_retries_total')
      const base = this.cfg.webhook_retry_initial_ms * 2 ** (d.attempt - 1)
      const wait = Math.min(60_000, retryAfterMs >= 0 ? Math.max(retryAfterMs, base) : base * (0.5 + Math.random()))
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, wait); this.wake = () => { clearTimeout(t); resolve() } })
      this.wake = undefined
    }
  }
}
