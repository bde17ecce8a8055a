/**
 * IPv4 / IPv6 fragment reassembly in bounded memory.
 *
 * Each datagram being reassembled holds its fragments as a small list of non-overlapping
 * pieces sorted by offset (copies of the caller's views). A datagram is complete when the
 * last fragment (MF = 0) fixed its length and the pieces cover [0, length) without a gap.
 *
 * Overlaps:
 * - IPv4 follows Zeek (src/Frag.cc + Reassembler): data already received wins; only the
 *   uncovered parts of a new fragment are kept. An overlap with identical bytes counts
 *   `fragment_overlap`, with different bytes `fragment_inconsistency` (Zeek's weird names).
 * - IPv6 follows RFC 5722 / RFC 8200 §4.5: overlapping fragments abandon the whole datagram
 *   (counted as above plus `fragment_ipv6_overlap_dropped`). An exact duplicate (same offset,
 *   length and bytes) is dropped on its own and the datagram kept, as RFC 5722 allows.
 *   Fragments of an abandoned datagram that arrive later start a fresh datagram that cannot
 *   complete without the discarded pieces and is expired by the timeout.
 *
 * Limits (all counted, never silent):
 * - A fragment ending beyond 65535 bytes of payload abandons the datagram
 *   (`excessively_large_fragment`).
 * - Memory: the bytes of all held pieces plus a fixed per-piece and per-datagram overhead are
 *   kept ≤ maxBytes, and at most maxDatagrams datagrams are held. When a new fragment does not
 *   fit, the OLDEST incomplete datagram (by arrival of its first fragment) is dropped and
 *   counted in `fragment_memory_evicted`, until it fits; a datagram too big on its own is
 *   dropped too.
 * - Datagrams whose first fragment is older than timeoutSec (Zeek: frag_timeout) are dropped
 *   by expire() and, lazily, when another fragment of them arrives (`fragment_timeout`).
 */
import { Counters } from '../util/counters.js'

export interface FragmentReassemblerConfig {
  /** Total bytes held across all datagrams, overhead included. Default 16 MiB. */
  maxBytes: number
  /** Datagrams held at once. Default 8192. */
  maxDatagrams: number
  /** Seconds a datagram may stay incomplete (Zeek: frag_timeout). Default 30. */
  timeoutSec: number
}

export const DEFAULT_FRAGMENT_REASSEMBLER_CONFIG: Readonly<FragmentReassemblerConfig> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDatagrams: 8192,
  timeoutSec: 30,
})

export type FragmentCounter =
  | 'fragments_received'
  | 'datagrams_reassembled'
  | 'fragment_overlap'
  | 'fragment_inconsistency'
  | 'fragment_size_inconsistency'
  | 'fragment_ipv6_overlap_dropped'
  | 'excessively_large_fragment'
  | 'fragment_timeout'
  | 'fragment_memory_evicted'

/** Largest payload a reassembled datagram may have (16-bit length fields). */
export const MAX_REASSEMBLED_PAYLOAD = 65535
/** Bookkeeping charged against maxBytes for each held piece / datagram. */
const PIECE_OVERHEAD = 64
const DATAGRAM_OVERHEAD = 256

interface Piece {
  off: number
  end: number
  data: Buffer
}

interface Datagram {
  firstTs: number
  ipv6: boolean
  pieces: Piece[]
  /** Sum of piece lengths (pieces never overlap). */
  covered: number
  /** Payload length fixed by the last fragment, or -1 while unknown. */
  total: number
  /** Highest fragment end seen. */
  maxEnd: number
  /** Bytes charged against maxBytes. */
  charged: number
}

export class FragmentReassembler {
  readonly counters = new Counters<FragmentCounter>()
  private readonly cfg: FragmentReassemblerConfig
  /** Insertion order = arrival order of first fragments: the first entry is the oldest. */
  private readonly datagrams = new Map<string, Datagram>()
  private bytesHeld = 0

  constructor(cfg?: Partial<FragmentReassemblerConfig>) {
    this.cfg = { ...DEFAULT_FRAGMENT_REASSEMBLER_CONFIG, ...cfg }
  }

  /** Datagrams currently held (incomplete). */
  get pending(): number {
    return this.datagrams.size
  }

  /** Bytes currently charged against maxBytes. */
  get heldBytes(): number {
    return this.bytesHeld
  }

  /**
   * key: caller-built string identifying the datagram (src, dst, id, proto/next header, family,
   * + vlan/tunnel scope). offset: fragment offset in BYTES; more: MF flag; payload: the
   * fragment's data after the IP (or IPv6 fragment) header (a view; what is kept is copied).
   * ipv6: apply RFC 5722 overlap handling (default false = IPv4, Zeek's first-wins).
   * Returns the complete reassembled payload (a new Buffer) when the datagram is complete,
   * else null.
   */
  add(key: string, ts: number, offset: number, more: boolean, payload: Buffer, ipv6 = false): Buffer | null {
    this.counters.inc('fragments_received')
    const len = payload.length
    const end = offset + len
    if (!Number.isInteger(offset) || offset < 0 || end > MAX_REASSEMBLED_PAYLOAD) {
      this.counters.inc('excessively_large_fragment')
      this.drop(key)
      return null
    }

    let dg = this.datagrams.get(key)
    if (dg !== undefined && ts - dg.firstTs > this.cfg.timeoutSec) {
      this.counters.inc('fragment_timeout')
      this.drop(key)
      dg = undefined
    }
    if (dg === undefined) {
      if (offset === 0 && !more) {
        // Not actually fragmented ("atomic fragment"): hand it straight back.
        this.counters.inc('datagrams_reassembled')
        return Buffer.from(payload)
      }
      while (this.datagrams.size >= this.cfg.maxDatagrams && this.evictOldest(undefined)) { /* make room */ }
      dg = { firstTs: ts, ipv6, pieces: [], covered: 0, total: -1, maxEnd: 0, charged: DATAGRAM_OVERHEAD }
      this.datagrams.set(key, dg)
      this.bytesHeld += DATAGRAM_OVERHEAD
    }

    if (len > 0 && !this.insert(key, dg, offset, end, payload)) return null

    if (end > dg.maxEnd) dg.maxEnd = end
    if (!more) {
      if (dg.total >= 0 && dg.total !== end) this.counters.inc('fragment_size_inconsistency')
      dg.total = Math.max(end, dg.total)
    }
    if (dg.total >= 0 && dg.maxEnd > dg.total) {
      // A fragment beyond the length a last fragment announced (Zeek: take the larger).
      this.counters.inc('fragment_size_inconsistency')
      dg.total = dg.maxEnd
    }
    if (dg.total < 0 || dg.covered !== dg.total) {
      if (this.bytesHeld > this.cfg.maxBytes) this.fitMemory(key, dg)
      return null
    }
    return this.complete(key, dg)
  }

  /** Drop datagrams whose first fragment is older than ts - timeoutSec; call periodically. */
  expire(ts: number): void {
    const limit = ts - this.cfg.timeoutSec
    for (const [key, dg] of this.datagrams) {
      // Map order is arrival order; with (nearly) monotonic time the first young one ends the scan.
      if (dg.firstTs >= limit) break
      this.counters.inc('fragment_timeout')
      this.drop(key)
    }
  }

  /**
   * Adds [off, end) of `payload` to dg. Returns false when the datagram was abandoned
   * (IPv6 overlap, or it alone exceeds the memory budget).
   */
  private insert(key: string, dg: Datagram, off: number, end: number, payload: Buffer): boolean {
    const pieces = dg.pieces
    // First piece that ends after `off` (pieces are sorted and disjoint, so ends are sorted too).
    let i = 0
    let lo = 0
    let hi = pieces.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (pieces[mid]!.end <= off) lo = mid + 1
      else hi = mid
    }
    i = lo

    if (i >= pieces.length || pieces[i]!.off >= end) {
      // No overlap: the common case.
      return this.store(key, dg, i, off, end, payload, off)
    }

    // Overlap with pieces[i..]. Compare the overlapping bytes.
    let same = true
    for (let j = i; j < pieces.length && pieces[j]!.off < end; j++) {
      const p = pieces[j]!
      const a = Math.max(off, p.off)
      const b = Math.min(end, p.end)
      if (payload.compare(p.data, a - p.off, b - p.off, a - off, b - off) !== 0) {
        same = false
        break
      }
    }
    this.counters.inc(same ? 'fragment_overlap' : 'fragment_inconsistency')

    if (dg.ipv6) {
      const p = pieces[i]!
      if (same && p.off === off && p.end === end) return true // exact duplicate: ignore it
      this.counters.inc('fragment_ipv6_overlap_dropped')
      this.drop(key)
      return false
    }

    // IPv4: keep what was there first, fill only the gaps the new fragment covers.
    let cursor = off
    let j = i
    while (cursor < end) {
      const p = pieces[j]
      if (p === undefined || p.off >= end) {
        return this.store(key, dg, j, cursor, end, payload, off)
      }
      if (p.off > cursor) {
        if (!this.store(key, dg, j, cursor, p.off, payload, off)) return false
        j++ // skip the piece just inserted
      }
      cursor = Math.max(cursor, pieces[j]!.end)
      j++
    }
    return true
  }

  /** Stores payload[from - base, to - base) as a new piece at index `at`. */
  private store(key: string, dg: Datagram, at: number, from: number, to: number, payload: Buffer, base: number): boolean {
    const need = to - from + PIECE_OVERHEAD
    if (dg.charged + need > this.cfg.maxBytes) {
      this.counters.inc('fragment_memory_evicted')
      this.drop(key)
      return false
    }
    while (this.bytesHeld + need > this.cfg.maxBytes && this.evictOldest(key)) { /* make room */ }
    const data = Buffer.from(payload.subarray(from - base, to - base))
    dg.pieces.splice(at, 0, { off: from, end: to, data })
    dg.covered += to - from
    dg.charged += need
    this.bytesHeld += need
    return true
  }

  /** Last resort when only the current datagram is left over budget. */
  private fitMemory(key: string, dg: Datagram): void {
    while (this.bytesHeld > this.cfg.maxBytes && this.evictOldest(key)) { /* make room */ }
    if (this.bytesHeld > this.cfg.maxBytes && this.datagrams.get(key) === dg) {
      this.counters.inc('fragment_memory_evicted')
      this.drop(key)
    }
  }

  /** Drops the oldest datagram other than `keep`; false when there is none. */
  private evictOldest(keep: string | undefined): boolean {
    for (const k of this.datagrams.keys()) {
      if (k === keep) continue
      this.counters.inc('fragment_memory_evicted')
      this.drop(k)
      return true
    }
    return false
  }

  private complete(key: string, dg: Datagram): Buffer {
    const out = Buffer.allocUnsafe(dg.total)
    for (const p of dg.pieces) p.data.copy(out, p.off)
    this.drop(key)
    this.counters.inc('datagrams_reassembled')
    return out
  }

  private drop(key: string): void {
    const dg = this.datagrams.get(key)
    if (dg === undefined) return
    this.bytesHeld -= dg.charged
    this.datagrams.delete(key)
  }
}
