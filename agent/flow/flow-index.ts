import { keyEqualsAtSlot, type Conn } from './conn.js'
import type { FlowKey } from './flow-key.js'

const EMPTY = -1
const MIN_CAPACITY = 1024

/**
 * The flow table's index: canonical flow key → connection, as an open-addressing hash table
 * (linear probing, backward-shift deletion, no tombstones) over an Int32Array of (key hash,
 * column slot) pairs and a parallel array of connections. Hand-written hot path (one lookup
 * per packet): a probe compares the 30-bit hash in the typed array first and, on a match,
 * the key words in the connection's column row found through the slot next to the hash —
 * not through the Conn object, so the row and the Conn are fetched from memory side by side
 * rather than one after the other (a cache miss less in a row per packet).
 *
 * It replaced a Map<hash, Conn> with chains through a Conn field: that lookup was the hottest
 * line of FlowTable.packet, and the Map plus the chain field cost ~40 bytes per flow against
 * 16 bytes per slot here (load factor ≤ 1/2, capacity a power of two).
 */
export class FlowIndex {
  private mask = MIN_CAPACITY - 1
  /** Entry i: hash at 2i (EMPTY when free), the connection's column slot at 2i + 1. */
  private ents = new Int32Array(MIN_CAPACITY * 2).fill(EMPTY)
  private conns: Array<Conn | undefined> = new Array<Conn | undefined>(MIN_CAPACITY).fill(undefined)
  private count = 0

  get size(): number {
    return this.count
  }

  /** The connection with key `k`, if indexed. */
  find(k: FlowKey): Conn | undefined {
    const h = k.hash
    const ents = this.ents
    const mask = this.mask
    let i = h & mask
    for (;;) {
      const e = ents[2 * i]!
      if (e === EMPTY) return undefined
      if (e === h && keyEqualsAtSlot(ents[2 * i + 1]!, k)) return this.conns[i]!
      i = (i + 1) & mask
    }
  }

  /** Every indexed connection, in table order (an array made per call: for flushes, not per packet). */
  all(): Conn[] {
    const out: Conn[] = []
    const conns = this.conns
    for (let i = 0; i < conns.length; i++) {
      const c = conns[i]
      if (c !== undefined) out.push(c)
    }
    return out
  }

  /** Adds `c` (its key must not be indexed yet). */
  insert(c: Conn): void {
    if ((this.count + 1) * 2 > this.mask + 1) this.resize((this.mask + 1) * 2)
    this.place(c.hash, c.slotIndex, c)
    this.count++
  }

  /** Removes `c` if it is indexed. */
  delete(c: Conn): void {
    const ents = this.ents
    const conns = this.conns
    const mask = this.mask
    let i = c.hash & mask
    for (;;) {
      const e = ents[2 * i]!
      if (e === EMPTY) return
      if (conns[i] === c) break
      i = (i + 1) & mask
    }
    this.count--
    // Backward-shift: move later entries of the probe run into the hole when their home
    // position is not cyclically within (hole, entry].
    let j = i
    for (;;) {
      j = (j + 1) & mask
      const e = ents[2 * j]!
      if (e === EMPTY) break
      const home = e & mask
      const stays = i <= j ? (home > i && home <= j) : (home > i || home <= j)
      if (!stays) {
        ents[2 * i] = e
        ents[2 * i + 1] = ents[2 * j + 1]!
        conns[i] = conns[j]
        i = j
      }
    }
    ents[2 * i] = EMPTY
    ents[2 * i + 1] = EMPTY
    conns[i] = undefined
  }

  private place(h: number, slot: number, c: Conn): void {
    const ents = this.ents
    const mask = this.mask
    let i = h & mask
    while (ents[2 * i] !== EMPTY) i = (i + 1) & mask
    ents[2 * i] = h
    ents[2 * i + 1] = slot
    this.conns[i] = c
  }

  private resize(capacity: number): void {
    const old = this.ents
    const oldConns = this.conns
    this.ents = new Int32Array(capacity * 2).fill(EMPTY)
    this.conns = new Array<Conn | undefined>(capacity).fill(undefined)
    this.mask = capacity - 1
    for (let i = 0; i < oldConns.length; i++) {
      if (old[2 * i] !== EMPTY) this.place(old[2 * i]!, old[2 * i + 1]!, oldConns[i]!)
    }
  }
}
