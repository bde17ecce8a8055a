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

function failure(err: unknown, c: number, limit: number, cap: number): InflateFailure {
  if ((err as NodeJS.ErrnoException).code !== 'ERR_BUFFER_TOO_LARGE') {
    return { kind: 'malformed', reason: `flow chunk ${c} is not raw DEFLATE (${(err as Error).message})` }
  }
  return limit < cap
    ? { kind: 'past_loop_budget', reason: `the flow chunks inflate to more than ${limit} bytes` }
    : { kind: 'too_large', reason: `the flow chunks inflate to more than ${cap} bytes` }
}

/** Every chunk inflated on this thread within the loop's budget (and `cap`). Pure; never throws. */
export function inflateChunksHere(body: Buffer, chunks: readonly Range[], cap?: number): Buffer[] | InflateFailure {
  const hard = capOf(cap)
  let compressed = 0
  for (const r of chunks) compressed += r.end - r.start
  const limit = loopBudget(compressed, hard)
  const parts: Buffer[] = []
  let budget = limit
  for (let c = 0; c < chunks.length; c++) {
    const r = chunks[c]!
    let part: Buffer
    try {
      part = inflateRawSync(body.subarray(r.start, r.end), { maxOutputLength: Math.max(1, budget) })
    } catch (err) {
      return failure(err, c, limit, hard)
    }
    budget -= part.length
    if (budget < 0) return failure(Object.assign(new RangeError(), { code: 'ERR_BUFFER_TOO_LARGE' }), c, limit, hard)
    parts.push(part)
  }
  return parts
}

/** Every chunk inflated on libuv's pool within `cap` (one at a time: the budget is shared). */
export async function inflateChunksOnPool(body: Buffer, chunks: readonly Range[], cap?: number): Promise<Buffer[] | InflateFailure> {
  const hard = capOf(cap)
  const parts: Buffer[] = []
  let budget = hard
  for (let c = 0; c < chunks.length; c++) {
    const r = chunks[c]!
    let part: Buffer
    try {
      part = await inflateRawAsync(body.subarray(r.start, r.end), { maxOutputLength: Math.max(1, budget) })
    } catch (err) {
      return failure(err, c, hard, hard)
    }
    budget -= part.length
    if (budget < 0) return failure(Object.assign(new RangeError(), { code: 'ERR_BUFFER_TOO_LARGE' }), c, hard, hard)
    parts.push(part)
  }
  return parts
}
