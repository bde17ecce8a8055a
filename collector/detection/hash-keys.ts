/**
 * Detector state keyed by IPv4 numbers instead of a text built and hashed for every flow
 * ("src|dst|port"): the key is a 52-bit hash of (source, destination, a third number), and
 * the state holds those numbers, so a collision is seen; the triple whose hash another
 * holds is keyed by its text instead (as IPv6 flows always are). A triple is inserted under
 * its hash only when its text key holds nothing, and under its text only when its hash holds
 * another triple, so it never has two states: the map holds the same entries in the same
 * order as when keyed by text, and evicts and expires alike. Hand-written hot path.
 */
import type { BoundedMap } from './bounded-map.js'

/** The IPv4 numbers a state is keyed by; -1 when keyed by text. */
export interface HashKeyed { ko: number; kr: number; kp: number }

/** 52-bit hash of (o, r, p): o and r 32-bit, p a small number. */
export function tripleHash(o: number, r: number, p: number): number {
  let a = Math.imul(o | 0, 0x9e3779b1) ^ (r | 0)
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b)
  let b = Math.imul((r | 0) ^ 0x27d4eb2f, 0xc2b2ae35) ^ Math.imul(p + 1, 0x165667b1) ^ (o | 0)
  b = Math.imul(b ^ (b >>> 13), 0x27d4eb2f)
  return (a >>> 0) * 0x100000 + ((b ^ (b >>> 16)) & 0xfffff)
}

export class HashKeys<S extends HashKeyed> {
  /** Set once an IPv4 triple was keyed by its text: from then on a miss on a hash also looks for the text key. */
  private textKeyed = false
  /** The state the last key() found (undefined: none). */
  found: S | undefined
  /** The numbers of the last key() call (a new state keyed by the hash holds them). */
  o = -1
  r = -1
  p = -1

  /** `hashOf`: tripleHash (tests pass a worse one to make collisions). */
  constructor(private readonly map: BoundedMap<number | string, S>, private readonly hashOf: (o: number, r: number, p: number) => number = tripleHash) {}

  /**
   * The key of (o, r, p) — IPv4 numbers o and r (-1: not IPv4) — whose text key is `text(x)`
   * (called only when needed); its state, if any, in `found`.
   */
  key<X>(o: number, r: number, p: number, x: X, text: (x: X) => string): number | string {
    this.o = o; this.r = r; this.p = p
    if (o >= 0 && r >= 0) {
      const h = this.hashOf(o, r, p)
      const st = this.map.touch(h)
      if (st !== undefined) {
        if (st.ko === o && st.kr === r && st.kp === p) { this.found = st; return h }
        this.textKeyed = true
        const t = text(x)
        this.found = this.map.touch(t)
        return t
      }
      if (!this.textKeyed) { this.found = undefined; return h }
      const t = text(x)
      this.found = this.map.touch(t)
      return this.found !== undefined ? t : h
    }
    const t = text(x)
    this.found = this.map.touch(t)
    return t
  }
}
