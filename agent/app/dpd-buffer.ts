/**
 * The first bytes of each direction of one connection, kept for dynamic protocol detection
 * (Zeek's PIA buffer, dpd_buffer_size): one contiguous copy per direction, so detectors see
 * the whole prefix without a concat per packet, and the arrival order of the chunks, to
 * replay them to an analyzer that detection attaches later.
 *
 * Copies are exact-size and unpooled: a long-lived session never pins a shared 8 KB pool
 * slab (with pooled copies, tens of thousands of live sessions held ~100 MB of slabs).
 * A prefix handed out is never written again (growing allocates a new buffer), so views
 * given to detectors and analyzers stay valid. Bound: `limit` bytes per direction.
 */
const EMPTY = Buffer.alloc(0)
const NO_CHUNKS: number[] = Object.freeze([]) as unknown as number[]

export type ReplayTarget = (isOrig: boolean, data: Buffer, ts: number) => void

export class DpdBuffer {
  private orig: Buffer = EMPTY
  private resp: Buffer = EMPTY
  /** Chunks in arrival order, three numbers each: direction (1 = originator), end offset in its direction, time. */
  private chunks: number[] = NO_CHUNKS

  constructor(readonly limit: number) {}

  /** Bytes kept for one direction. */
  bytes(isOrig: boolean): number {
    return (isOrig ? this.orig : this.resp).length
  }

  /** Both directions hold `limit` bytes: detection has seen all it may. */
  get full(): boolean {
    return this.orig.length >= this.limit && this.resp.length >= this.limit
  }

  /** Keeps what fits of `data`; returns the direction's whole prefix so far. Call only while there is room. */
  add(isOrig: boolean, data: Buffer, ts: number): Buffer {
    const old = isOrig ? this.orig : this.resp
    const take = Math.min(data.length, this.limit - old.length)
    const grown = Buffer.allocUnsafeSlow(old.length + take)
    old.copy(grown, 0)
    data.copy(grown, old.length, 0, take)
    if (isOrig) this.orig = grown
    else this.resp = grown
    if (this.chunks === NO_CHUNKS) this.chunks = [isOrig ? 1 : 0, grown.length, ts]
    else this.chunks.push(isOrig ? 1 : 0, grown.length, ts)
    return grown
  }

  /** Hands every kept chunk except the `skipLast` most recent ones to `to`, in arrival order. */
  replay(to: ReplayTarget, skipLast: number, stop: () => boolean): void {
    const c = this.chunks
    const orig = this.orig
    const resp = this.resp
    let o = 0
    let r = 0
    for (let i = 0, n = c.length - 3 * skipLast; i < n && !stop(); i += 3) {
      const end = c[i + 1]!
      if (c[i] === 1) { to(true, orig.subarray(o, end), c[i + 2]!); o = end } else { to(false, resp.subarray(r, end), c[i + 2]!); r = end }
    }
  }

  /** The connection's roles were swapped. */
  flip(): void {
    // Nothing kept, nothing to swap (and the dispatcher's shared empty buffer is never written).
    if (this.chunks === NO_CHUNKS) return
    const b = this.orig
    this.orig = this.resp
    this.resp = b
    const c = this.chunks
    for (let i = 0; i < c.length; i += 3) c[i] = 1 - c[i]!
  }
}
