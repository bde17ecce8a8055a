/**
 * One direction of a TCP connection, with the state Zeek keeps per endpoint
 * (analyzer/protocol/tcp/TCP_Endpoint): endpoint state, 32-bit sequence tracking with wrap
 * counts, FIN/RST bookkeeping, and a *range-only* reassembler that knows which sequence
 * ranges were seen (not their bytes), which is all conn.log needs for content gaps
 * (`G`/`g`, missed_bytes). Payload reassembly for application analyzers is a separate concern.
 */

import { grownColumn, SlotPool } from './slot-pool.js'
export const TCP_INACTIVE = 0
export const TCP_SYN_SENT = 1
export const TCP_SYN_ACK_SENT = 2
export const TCP_PARTIAL = 3
export const TCP_ESTABLISHED = 4
export const TCP_CLOSED = 5
export const TCP_RESET = 6

const TWO32 = 4294967296

/** Signed 32-bit difference a - b, as Zeek's seq_delta. */
export function seqDelta(a: number, b: number): number {
  return (a - b) | 0
}

/** Shared empty list until a direction sees data out of order (saves an array per flow). */
const NO_BLOCKS: number[] = []

/** Most out-of-order ranges remembered per direction; beyond this the oldest are forgotten (bounded memory). */
const MAX_BLOCKS = 64

/*
 * Endpoint numbers live in shared typed-array columns indexed by a slot, not in object
 * fields: a TcpEndpoint object is a header, its slot, the direction and the (usually
 * shared, empty) block list. Measured with 120k concurrent flows: an endpoint was 224 bytes
 * of fields plus ~3 boxed HeapNumbers (uint32 sequence numbers above 2^31); it is now 48
 * bytes of object plus 108 bytes of columns. Slots are recycled by release() (the flow table
 * calls it once a connection's record is emitted); an endpoint must not be read after that.
 */
const U32_STRIDE = 3 // startSeq, lastSeq, ackSeq
const F64_STRIDE = 6 // finSeq, histLastSyn, histLastFin, histLastRst, lastReassemSeq, trimSeq
const I32_STRIDE = 12 // state, prevState, seqWraps, ackWraps, finCnt, rstCnt, chkCnt, rxmtCnt, win0Cnt, gapCnt, lastHoles, flags

const FLAG_DID_CLOSE = 1
const FLAG_SKIP_DELIVERIES = 2
const FLAG_HAD_GAP = 4

let U32 = new Uint32Array(0)
let F64 = new Float64Array(0)
let I32 = new Int32Array(0)
const slots = new SlotPool((n) => {
  U32 = grownColumn(U32, n * U32_STRIDE)
  F64 = grownColumn(F64, n * F64_STRIDE)
  I32 = grownColumn(I32, n * I32_STRIDE)
})

function allocSlot(): number {
  const slot = slots.acquire()
  // Plain stores, not TypedArray.fill (a builtin call each; one slot per endpoint).
  const u = slot * U32_STRIDE
  U32[u] = 0; U32[u + 1] = 0; U32[u + 2] = 0
  const i = slot * I32_STRIDE
  for (let j = 0; j < I32_STRIDE; j++) I32[i + j] = 0
  const f = slot * F64_STRIDE
  F64[f] = 0 // finSeq
  F64[f + 1] = -1; F64[f + 2] = -1; F64[f + 3] = -1 // histLast*
  F64[f + 4] = 1; F64[f + 5] = 1 // lastReassemSeq, trimSeq: first data byte = 1
  return slot
}

/** Endpoint slots in use (tests and the memory bench). */
export function tcpEndpointSlotsInUse(): number {
  return slots.inUse
}

export class TcpEndpoint {
  private slot: number
  /** Sorted, non-overlapping [start, end) pairs above lastReassemSeq. */
  blocks: number[]

  constructor(public isOrig: boolean) {
    this.slot = allocSlot()
    // Assigned here, not initialised in place: V8 would treat the field as "const" until the
    // first release() and then deoptimise the code that relied on it (see Conn's constructor).
    this.blocks = NO_BLOCKS
  }

  /** Returns the slot to the pool; the endpoint must not be used afterwards. */
  release(): void {
    if (this.slot < 0) return
    slots.release(this.slot)
    this.slot = -1
    this.blocks = NO_BLOCKS
  }

  get state(): number { return I32[this.slot * I32_STRIDE]! }
  set state(v: number) { I32[this.slot * I32_STRIDE] = v }
  get prevState(): number { return I32[this.slot * I32_STRIDE + 1]! }
  set prevState(v: number) { I32[this.slot * I32_STRIDE + 1] = v }
  get startSeq(): number { return U32[this.slot * U32_STRIDE]! }
  set startSeq(v: number) { U32[this.slot * U32_STRIDE] = v }
  get lastSeq(): number { return U32[this.slot * U32_STRIDE + 1]! }
  set lastSeq(v: number) { U32[this.slot * U32_STRIDE + 1] = v }
  get ackSeq(): number { return U32[this.slot * U32_STRIDE + 2]! }
  set ackSeq(v: number) { U32[this.slot * U32_STRIDE + 2] = v }
  get seqWraps(): number { return I32[this.slot * I32_STRIDE + 2]! }
  set seqWraps(v: number) { I32[this.slot * I32_STRIDE + 2] = v }
  get ackWraps(): number { return I32[this.slot * I32_STRIDE + 3]! }
  set ackWraps(v: number) { I32[this.slot * I32_STRIDE + 3] = v }
  get finCnt(): number { return I32[this.slot * I32_STRIDE + 4]! }
  set finCnt(v: number) { I32[this.slot * I32_STRIDE + 4] = v }
  get rstCnt(): number { return I32[this.slot * I32_STRIDE + 5]! }
  set rstCnt(v: number) { I32[this.slot * I32_STRIDE + 5] = v }
  /** Relative sequence just past the FIN. */
  get finSeq(): number { return F64[this.slot * F64_STRIDE]! }
  set finSeq(v: number) { F64[this.slot * F64_STRIDE] = v }
  get didClose(): boolean { return (I32[this.slot * I32_STRIDE + 11]! & FLAG_DID_CLOSE) !== 0 }
  set didClose(v: boolean) { this.setFlag(FLAG_DID_CLOSE, v) }
  get histLastSyn(): number { return F64[this.slot * F64_STRIDE + 1]! }
  set histLastSyn(v: number) { F64[this.slot * F64_STRIDE + 1] = v }
  get histLastFin(): number { return F64[this.slot * F64_STRIDE + 2]! }
  set histLastFin(v: number) { F64[this.slot * F64_STRIDE + 2] = v }
  get histLastRst(): number { return F64[this.slot * F64_STRIDE + 3]! }
  set histLastRst(v: number) { F64[this.slot * F64_STRIDE + 3] = v }
  // Logarithmic history counters (C, T, W, G): the letter is added at 1, 10, 100, … (isPow10).
  get chkCnt(): number { return I32[this.slot * I32_STRIDE + 6]! }
  set chkCnt(v: number) { I32[this.slot * I32_STRIDE + 6] = v }
  get rxmtCnt(): number { return I32[this.slot * I32_STRIDE + 7]! }
  set rxmtCnt(v: number) { I32[this.slot * I32_STRIDE + 7] = v }
  get win0Cnt(): number { return I32[this.slot * I32_STRIDE + 8]! }
  set win0Cnt(v: number) { I32[this.slot * I32_STRIDE + 8] = v }
  get gapCnt(): number { return I32[this.slot * I32_STRIDE + 9]! }
  set gapCnt(v: number) { I32[this.slot * I32_STRIDE + 9] = v }
  // Range reassembler (relative sequence numbers, first data byte = 1).
  get lastReassemSeq(): number { return F64[this.slot * F64_STRIDE + 4]! }
  set lastReassemSeq(v: number) { F64[this.slot * F64_STRIDE + 4] = v }
  get trimSeq(): number { return F64[this.slot * F64_STRIDE + 5]! }
  set trimSeq(v: number) { F64[this.slot * F64_STRIDE + 5] = v }
  get skipDeliveries(): boolean { return (I32[this.slot * I32_STRIDE + 11]! & FLAG_SKIP_DELIVERIES) !== 0 }
  set skipDeliveries(v: boolean) { this.setFlag(FLAG_SKIP_DELIVERIES, v) }
  get hadGap(): boolean { return (I32[this.slot * I32_STRIDE + 11]! & FLAG_HAD_GAP) !== 0 }
  set hadGap(v: boolean) { this.setFlag(FLAG_HAD_GAP, v) }
  /** Holes found by the last ackReceived() call (each is one Zeek `Gap`). */
  get lastHoles(): number { return I32[this.slot * I32_STRIDE + 10]! }
  set lastHoles(v: number) { I32[this.slot * I32_STRIDE + 10] = v }

  private setFlag(bit: number, on: boolean): void {
    const i = this.slot * I32_STRIDE + 11
    I32[i] = on ? I32[i]! | bit : I32[i]! & ~bit
  }

  setState(s: number): void {
    if (s !== this.state) {
      this.prevState = this.state
      this.state = s
    }
  }

  updateLastSeq(seq: number): void {
    if (seq < this.lastSeq) this.seqWraps++
    this.lastSeq = seq
  }

  updateAckSeq(seq: number): void {
    if (seq < this.ackSeq) this.ackWraps++
    this.ackSeq = seq
  }

  toFull(seq: number, wraps: number): number {
    return wraps * TWO32 + seq
  }

  toRelative(seq: number, wraps: number): number {
    return this.toFull(seq, wraps) - this.startSeq
  }

  noDataAcked(): boolean {
    const ack = this.toFull(this.ackSeq, this.ackWraps)
    return ack === this.startSeq || ack === this.startSeq + 1
  }

  isActive(): boolean {
    return this.state !== TCP_INACTIVE && !this.didClose
  }

  /** Zeek's TCP_Endpoint::Size(): payload bytes in sequence space. */
  size(peerState: number): number {
    if (this.prevState === TCP_SYN_SENT && this.state === TCP_RESET && peerState === TCP_INACTIVE && !this.noDataAcked()) return 0
    const last = this.toFull(this.lastSeq, this.seqWraps)
    const ack = this.toFull(this.ackSeq, this.ackWraps)
    let size = (last > ack ? last : ack) - this.startSeq
    if (size < 0) size += 2 ** 64 // Zeek's uint64 arithmetic wraps; keep the sign of its result
    if (size !== 0) size--
    if (this.finCnt > 0 && size !== 0) size--
    return size
  }

  /** Record data [seq, seq+len) as seen (DataSent in the reassembler). Returns nothing: gaps show on acks. */
  dataSent(seq: number, len: number): void {
    if (this.skipDeliveries) return
    const ack = this.toRelative(this.ackSeq, this.ackWraps)
    let start = seq
    const end = seq + len
    if (start < ack) {
      if (end <= ack) return
      start = ack
    }
    if (end <= this.lastReassemSeq) return
    if (start <= this.lastReassemSeq) {
      this.lastReassemSeq = end
      this.absorbBlocks()
      return
    }
    this.insertBlock(start, end)
  }

  private absorbBlocks(): void {
    const b = this.blocks
    let i = 0
    while (i < b.length && b[i]! <= this.lastReassemSeq) {
      if (b[i + 1]! > this.lastReassemSeq) this.lastReassemSeq = b[i + 1]!
      i += 2
    }
    if (i > 0) b.splice(0, i)
  }

  private insertBlock(start: number, end: number): void {
    if (this.blocks === NO_BLOCKS) this.blocks = []
    const b = this.blocks
    let i = 0
    while (i < b.length && b[i + 1]! < start) i += 2
    let s = start
    let e = end
    let j = i
    while (j < b.length && b[j]! <= e) {
      if (b[j]! < s) s = b[j]!
      if (b[j + 1]! > e) e = b[j + 1]!
      j += 2
    }
    b.splice(i, j - i, s, e)
    if (b.length > MAX_BLOCKS * 2) b.splice(0, 2)
  }

  /**
   * The peer acknowledged up to `seq` (relative). Returns the bytes never seen below it
   * (content gaps; `lastHoles` says in how many holes). Mirrors TCP_Reassembler::AckReceived
   * → TrimToSeq → Undelivered.
   */
  ackReceived(seq: number, isPartial: boolean): number {
    this.lastHoles = 0
    if (this.finCnt > 0 && seq >= this.finSeq) seq = this.finSeq - 1
    if (seq <= this.trimSeq) return 0
    let missing = 0
    if (this.lastReassemSeq < seq && !(seq <= 2 && isPartial)) {
      if (!this.skipDeliveries) {
        const b = this.blocks
        while (b.length > 0 && b[0]! < seq) {
          const gap = b[0]! - this.lastReassemSeq
          if (gap > 0) { missing += gap; this.lastHoles++ }
          if (b[1]! > this.lastReassemSeq) this.lastReassemSeq = b[1]!
          b.splice(0, 2)
        }
        if (seq > this.lastReassemSeq) {
          missing += seq - this.lastReassemSeq
          this.lastHoles++
        }
      }
      if (seq > this.lastReassemSeq) this.lastReassemSeq = seq
    }
    // Forget ranges now below the acknowledged point.
    const b = this.blocks
    while (b.length > 0 && b[1]! <= seq) b.splice(0, 2)
    this.trimSeq = seq
    return missing
  }

  /** Bytes seen beyond a hole and not yet delivered (Zeek's DataPending, approximated). */
  dataPending(): boolean {
    return !this.skipDeliveries && this.blocks.length > 0
  }
}

/** Zeek's Connection::ScaledHistoryEntry adds the letter when the count reaches 1, 10, 100, … */
export function isPow10(n: number): boolean {
  while (n >= 10 && n % 10 === 0) n /= 10
  return n === 1
}
