/**
 * Webhook signature: `X-Telltale-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`
 * with `X-Telltale-Timestamp: <unix seconds>` — the receiver recomputes it and rejects old
 * timestamps (replay protection), as Stripe/GitHub-style webhooks do.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

export const SIGNATURE_HEADER = 'x-telltale-signature'
export const TIMESTAMP_HEADER = 'x-telltale-timestamp'

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

export function verifyWebhook(secret: string, timestamp: number, body: string, signature: string): boolean {
  const want = Buffer.from(signWebhook(secret, timestamp, body))
  const got = Buffer.from(signature)
  return want.length === got.length && timingSafeEqual(want, got)
}
