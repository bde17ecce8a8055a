import type { Conn } from './conn.js'
import type { FlowKey } from './flow-key.js'

const EMPTY = -1
const MIN_CAPACITY = 1024

/**
 * The flow table's index: canonical flow key → connection, as an open-addressing hash table
 * (linear probing, backward-shift deletion, no tombstones) over an Int32Array of key hashes
 * and a parallel array of connections. Hand-written hot path (one lookup per packet): a probe
 * compares the 30-bit hash in the typed array first and touches the Conn only on a hash match.
 *
 * It replaced a Map<hash, Conn> with chains through a Conn field: that lookup was the hottest
 * line of FlowTable.packet, and the Map plus the chain field cost ~40 bytes per flow against
 * 12 bytes per slot here (load factor ≤ 1/2, capacity a power of two).
 */
export class FlowIndex {
  private mask = MIN_CAPACITY - 1
  private hashes = new Int32Array(MIN_CAPACITY).fill(EMPTY)
  private conns: Array<Conn | undefined> = new Array<Conn | undefined>(MIN_CAPACITY).fill(undefined)
  private count = 0

  get size(): number {
    return this.count
  }

  /** The connection with key `k`, if indexed. */
  find(k: FlowKey): Conn | undefined {
    const h = k.hash
    const hashes = this.hashes
    const mask = this.mask
    let i = h & mask
    for (;;) {
      const e = hashes[i]!
      if (e === EMPTY) return undefined
      if (e === h) {
        const c = this.conns[i]!
        if (c.keyEquals(k)) return c
      }
      i = (i + 1) & mask
    }
  }

  /** Adds `c` (its key must not be indexed yet). */
  insert(c: Conn): void {
    if ((this.count + 1) * 2 > this.hashes.length) this.resize(this.hashes.length * 2)
    this.place(c.hash, c)
    this.count++
  }

  /** Removes `c` if it is indexed. */
  delete(c: Conn): void {
    const hashes = this.hashes
    const conns = this.conns
    const mask = this.mask
    let i = c.hash & mask
    for (;;) {
      const e = hashes[i]!
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
      const e = hashes[j]!
      if (e === EMPTY) break
      const home = e & mask
      const stays = i <= j ? (home > i && home <= j) : (home > i || home <= j)
      if (!stays) {
        hashes[i] = e
        conns[i] = conns[j]
        i = j
      }
    }
    hashes[i] = EMPTY
    conns[i] = undefined
  }

  private place(h: number, c: Conn): void {
    const hashes = this.hashes
    const mask = this.mask
    let i = h & mask
    while (hashes[i] !== EMPTY) i = (i + 1) & mask
    hashes[i] = h
    this.conns[i] = c
  }

  private resize(capacity: number): void {
    const oldHashes = this.hashes
    const oldConns = this.conns
    this.hashes = new Int32Array(capacity).fill(EMPTY)
    this.conns = new Array<Conn | undefined>(capacity).fill(undefined)
    this.mask = capacity - 1
    for (let i = 0; i < oldHashes.length; i++) {
      if (oldHashes[i] !== EMPTY) this.place(oldHashes[i]!, oldConns[i]!)
    }
  }
}
