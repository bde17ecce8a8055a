/**
 * One direction of a TCP connection, with the state Zeek keeps per endpoint
 * (analyzer/protocol/tcp/TCP_Endpoint): endpoint state, 32-bit sequence tracking with wrap
 * counts, FIN/RST bookkeeping, and a *range-only* reassembler that knows which sequence
 * ranges were seen (not their bytes), which is all conn.log needs for content gaps
 * (`G`/`g`, missed_bytes). Payload reassembly for application analyzers is a separate concern.
 */
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

export class TcpEndpoint {
  state = TCP_INACTIVE
  prevState = TCP_INACTIVE
  startSeq = 0
  lastSeq = 0
  ackSeq = 0
  seqWraps = 0
  ackWraps = 0
  finCnt = 0
  rstCnt = 0
  /** Relative sequence just past the FIN. */
  finSeq = 0
  didClose = false
  histLastSyn = -1
  histLastFin = -1
  histLastRst = -1
  // Logarithmic history counters (C, T, W, G): the letter is added at 1, 10, 100, … (isPow10).
  chkCnt = 0
  rxmtCnt = 0
  win0Cnt = 0
  gapCnt = 0
  // Range reassembler (relative sequence numbers, first data byte = 1).
  lastReassemSeq = 1
  trimSeq = 1
  /** Sorted, non-overlapping [start, end) pairs above lastReassemSeq. */
  blocks: number[] = NO_BLOCKS
  skipDeliveries = false
  hadGap = false

  constructor(public isOrig: boolean) {}

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

  /** Holes found by the last ackReceived() call (each is one Zeek `Gap`). */
  lastHoles = 0

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
