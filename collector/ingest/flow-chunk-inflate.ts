/**
 * Inflating a batch's `flow_chunks` (protocol version 2) within a byte cap for all of them.
 *
 * On the event loop when the chunks inflate to at most LOOP_RATIO times their size (at least
 * LOOP_MIN_BYTES): an agent's real chunks inflate ~2.6×, ~2 ms for a 4400-flow batch. Past
 * that the chunks are inflated again on libuv's pool with the full cap, as the body reader
 * does for a gzip body. A DEFLATE bomb of 64 MiB of zeros in one 64 kB chunk took ~0.5 s to
 * inflate, which must not stop the loop on a request from an enrolled agent.
 */
import { constants } from 'node:buffer'
import { inflateRaw, inflateRawSync } from 'node:zlib'
import { promisify } from 'node:util'

const inflateRawAsync = promisify(inflateRaw)

export const LOOP_RATIO = 16
export const LOOP_MIN_BYTES = 1 << 20

export interface Range { start: number; end: number }

/** Why the chunks were not inflated: past `cap` (413), not raw DEFLATE (400), or past the loop's budget only (inflate on the pool). */
export type InflateFailure = { kind: 'too_large' | 'malformed' | 'past_loop_budget'; reason: string }

/** The loop's budget for chunks of `compressedBytes` bytes under the cap. */
export function loopBudget(compressedBytes: number, cap: number): number {
  return Math.min(cap, Math.max(LOOP_MIN_BYTES, LOOP_RATIO * compressedBytes))
}

const capOf = (cap: number | undefined): number => Math.min(cap ?? Infinity, constants.MAX_LENGTH)

const compressedBytes = (chunks: readonly Range[]): number => chunks.reduce((n, r) => n + r.end - r.start, 0)

/** Past `limit`: the loop's budget only (inflate on the pool) or the hard cap (413). */
function overLimit(limit: number, cap: number): InflateFailure {
  return limit < cap
    ? { kind: 'past_loop_budget', reason: `the flow chunks inflate to more than ${limit} bytes` }
    : { kind: 'too_large', reason: `the flow chunks inflate to more than ${cap} bytes` }
}

/** zlib's error for chunk `c`: its output cap reached, or not raw DEFLATE. */
function inflateFailure(err: unknown, c: number, limit: number, cap: number): InflateFailure {
  if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return overLimit(limit, cap)
  return { kind: 'malformed', reason: `flow chunk ${c} is not raw DEFLATE (${(err as Error).message})` }
}

/**
 * Every chunk inflated on this thread within the loop's budget (and `cap`). Pure; never
 * throws. (The pool's version below is the same loop with `await`.)
 */
export function inflateChunksHere(body: Buffer, chunks: readonly Range[], cap?: number): Buffer[] | InflateFailure {
  const hard = capOf(cap)
  const limit = loopBudget(compressedBytes(chunks), hard)
  const parts: Buffer[] = []
  let left = limit
  for (let c = 0; c < chunks.length; c++) {
    try {
      parts.push(inflateRawSync(body.subarray(chunks[c]!.start, chunks[c]!.end), { maxOutputLength: Math.max(1, left) }))
    } catch (err) {
      return inflateFailure(err, c, limit, hard)
    }
    left -= parts[c]!.length
    if (left < 0) return overLimit(limit, hard) // one byte past a spent budget
  }
  return parts
}

/** Every chunk inflated on libuv's pool within `cap` (one at a time: the budget is shared). */
export async function inflateChunksOnPool(body: Buffer, chunks: readonly Range[], cap?: number): Promise<Buffer[] | InflateFailure> {
  const hard = capOf(cap)
  const parts: Buffer[] = []
  let left = hard
  for (let c = 0; c < chunks.length; c++) {
    try {
      parts.push(await inflateRawAsync(body.subarray(chunks[c]!.start, chunks[c]!.end), { maxOutputLength: Math.max(1, left) }))
    } catch (err) {
      return inflateFailure(err, c, hard, hard)
    }
    left -= parts[c]!.length
    if (left < 0) return overLimit(hard, hard)
  }
  return parts
}
