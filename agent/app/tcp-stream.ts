/**
 * In-order byte delivery for one TCP direction, for application analyzers.
 * Segments are identified by relative sequence number (first data byte = 1 after a SYN).
 * Data at or before the delivery point is trimmed (retransmissions are not re-delivered);
 * data beyond it waits in a bounded out-of-order buffer.
 *
 * Bound: `maxBuffered` bytes per direction; a segment that would exceed it is dropped and
 * counted (`dropped`). A hole is skipped (reported as a gap) when the peer acknowledges past
 * it, or when `flush()` is called at the end of the connection.
 */
/** Receives what a stream releases; implemented by the session (no closure per packet). */
export interface StreamTarget {
  streamData(isOrig: boolean, data: Buffer): void
  streamGap(isOrig: boolean, len: number): void
}

const NO_SEGS: Array<{ seq: number; data: Buffer }> = Object.freeze([]) as unknown as Array<{ seq: number; data: Buffer }>

export class TcpStream {
  /** Next relative sequence number to deliver; 0 = not yet anchored. */
  next = 0
  buffered = 0
  dropped = 0
  delivered = 0
  /** Out-of-order segments by sequence number (a shared empty list until the first one). */
  private segs: Array<{ seq: number; data: Buffer }> = NO_SEGS

  constructor(private readonly maxBuffered: number, private readonly isOrig: boolean, private readonly target: StreamTarget) {}

  /** A payload segment [seq, seq + data.length). `data` may be a view: it is copied only if buffered. */
  add(seq: number, data: Buffer): void {
    if (this.next === 0) this.next = seq
    const end = seq + data.length
    if (end <= this.next) return
    if (seq <= this.next) {
      const part = seq < this.next ? data.subarray(this.next - seq) : data
      this.next = end
      this.delivered += part.length
      this.target.streamData(this.isOrig, part)
      this.drain()
      return
    }
    if (this.buffered + data.length > this.maxBuffered) {
      this.dropped += data.length
      return
    }
    const copy = Buffer.from(data)
    if (this.segs === NO_SEGS) this.segs = []
    let i = this.segs.length
    while (i > 0 && this.segs[i - 1]!.seq > seq) i--
    this.segs.splice(i, 0, { seq, data: copy })
    this.buffered += copy.length
  }

  /** Segments wait beyond a hole (flush() would deliver them). */
  get holding(): boolean {
    return this.segs.length > 0
  }

  /** The peer acknowledged up to `ack`: bytes below it that never arrived are a gap. */
  acked(ack: number): void {
    if (this.next === 0 || ack <= this.next) return
    if (this.segs.length === 0) {
      // Nothing buffered beyond the hole: skip to the acknowledged point.
      this.target.streamGap(this.isOrig, ack - this.next)
      this.next = ack
      return
    }
    const first = this.segs[0]!
    if (first.seq > this.next && first.seq <= ack) {
      this.target.streamGap(this.isOrig, first.seq - this.next)
      this.next = first.seq
      this.drain()
    }
  }

  /** End of connection: deliver what is buffered, reporting holes as gaps. */
  flush(): void {
    while (this.segs.length > 0) {
      const s = this.segs[0]!
      if (s.seq > this.next) {
        this.target.streamGap(this.isOrig, s.seq - this.next)
        this.next = s.seq
      }
      this.drain()
    }
  }

  private drain(): void {
    const segs = this.segs
    while (segs.length > 0 && segs[0]!.seq <= this.next) {
      const s = segs.shift()!
      this.buffered -= s.data.length
      const end = s.seq + s.data.length
      if (end > this.next) {
        const part = s.data.subarray(this.next - s.seq)
        this.next = end
        this.delivered += part.length
        this.target.streamData(this.isOrig, part)
      }
    }
  }
}
