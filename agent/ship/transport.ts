/**
 * The result of one attempt to deliver one request, shared by the transport (which makes
 * the attempt) and the retry wrapper (which decides what to do next).
 */
import type { Ack } from '../../protocol/index.js'

export type SendResult =
  | { kind: 'ok'; status: number; ack: Ack }
  /** Worth another try: network error, 408, 429, 5xx (retryAfterMs from the response). */
  | { kind: 'retryable'; status?: number; reason: string; retryAfterMs?: number }
  /** Final: the collector refused this request (a 4xx other than 408/429, or an unusable answer). */
  | { kind: 'rejected'; status: number; reason: string; code?: string }
  /**
   * The collector refused the agent's credential, not the batch (401, or 403 for a revoked
   * agent or token): the batch is fine and stays in the spool until the agent is enrolled
   * again (see credential-refusal.ts).
   */
  | { kind: 'refused'; status: number; reason: string }

export interface BatchRequest {
  /** gzipped Batch bytes. */
  body: Uint8Array
  epoch: number
  seq: number
}

export interface BatchTransport {
  send(req: BatchRequest, signal?: AbortSignal): Promise<SendResult>
}
