import type { AppSession } from '../app/app-session.js'
import { addrTextOfWords } from './addr-text-cache.js'
import { communityIdV1 } from './community-id.js'
import type { FlowKey } from './flow-key.js'
import type { TcpEndpoint } from './tcp-endpoint.js'
import { grownColumn, SlotPool } from './slot-pool.js'
import { macText } from './mac-text.js'

export { macNumber, macText } from './mac-text.js'

/*
 * Per-connection numbers (times, counters, timers, MACs) live in shared typed-array columns
 * indexed by a slot rather than in object fields: every double field of a V8 object is a
 * separate boxed HeapNumber (16 bytes + the 8-byte field). With 120k concurrent flows a Conn
 * was 472 bytes of fields plus ~9 boxes; the columns take 160 bytes. The flow table
 * releases the slot once the connection's record is emitted.
 */
const F64_STRIDE = 19
/**
 * histSeen, vlan, innerVlan, flags, then the key (proto, a0..a3, b0..b3, pa, pb, hash),
 * ipProto, origP, respP. Flags: origActive 1, respActive 2, origIsA 4, v6 8, localOrig and
 * localResp as two 2-bit tri-states (bit 4/6 = known, bit 5/7 = value), then the TCP state bits
 * (0x100 partial, 0x600 first packets seen, 0x800 started with SYN-ACK).
 */
const I32_STRIDE = 19
const F_ORIG_IS_A = 4
const F_V6 = 8
// TCP state bits (see TcpState): isPartial, firstPacketSeen (2 bits), startedWithSynAck.
const F_TCP_PARTIAL = 0x100
const F_TCP_FIRST_SHIFT = 9
const F_TCP_FIRST = 0x600
const F_TCP_SYNACK_START = 0x800

function triState(bits: number): boolean | undefined {
  return (bits & 1) === 0 ? undefined : (bits & 2) !== 0
}

function triBits(v: boolean | undefined): number {
  return v === undefined ? 0 : v ? 3 : 1
}

let F64 = new Float64Array(0)
let I32 = new Int32Array(0)
const slots = new SlotPool((n) => {
  F64 = grownColumn(F64, n * F64_STRIDE)
  I32 = grownColumn(I32, n * I32_STRIDE)
})

/** Plain stores, not TypedArray.fill: three fill calls were ~2% of a flows-only replay (one slot per flow). */
function allocSlot(): number {
  const slot = slots.acquire()
  const f = slot * F64_STRIDE
  const d = F64
  for (let j = 0; j < 9; j++) d[f + j] = 0
  d[f + 9] = -1; d[f + 10] = -1 // no MACs
  d[f + 11] = 60 // inactivityTimeout
  for (let j = 12; j < 17; j++) d[f + j] = Infinity // nextTimer, expireAt, attemptAt, partialCloseAt, deleteAt
  d[f + 17] = 0
  d[f + 18] = 0 // lastTouch
  const i = slot * I32_STRIDE
  const w = I32
  for (let j = 0; j < I32_STRIDE; j++) w[i + j] = 0
  w[i + 1] = -1; w[i + 2] = -1 // no VLAN
  w[i + 3] = F_ORIG_IS_A
  w[i + 16] = 6 // ipProto
  return slot
}

/** Connection slots in use (tests and the memory bench). */
export function connSlotsInUse(): number {
  return slots.inUse
}

/** Transport family of a connection, as Zeek's `proto` column. */
export type ConnProto = 'tcp' | 'udp' | 'icmp' | 'unknown_transport'

/**
 * TCP-only connection state (Zeek's TCPSessionAdapter). A TCP Conn is its own TcpState
 * (`c.tcp === c`): the endpoints are two Conn fields and the flags bits of the Conn's
 * column row, so a TCP flow costs no separate 64-byte state object.
 */
export interface TcpState {
  orig: TcpEndpoint
  resp: TcpEndpoint
  isPartial: boolean
  /** bit 1: first orig packet seen, bit 2: first resp packet seen */
  firstPacketSeen: number
  /** The connection began with a SYN-ACK from its originator and has not been re-oriented yet. */
  startedWithSynAck: boolean
}

/**
 * One tracked connection. Allocated once per flow (never per packet); fields are mutated in
 * place. Directions are orig/resp as in Zeek.
 */
export class Conn {
  /** Drawn on first use (tunnel parent, analyzer log, record): most flows need it only once. */
  private uidText: string | undefined = undefined
  uidSource: { next(): string } | undefined = undefined
  private hCache: [string, string] | undefined = undefined
  history = ''
  /** TCP endpoints (see TcpState); undefined for other transports. */
  orig: TcpEndpoint | undefined = undefined
  resp: TcpEndpoint | undefined = undefined
  tunnelParents: string[] | undefined = undefined
  iface = ''
  service = ''
  /** Application-layer session while analyzers are attached or detection is looking. */
  app: AppSession | undefined = undefined
  /** UDP: the session was parked between datagrams (AppDispatcher.park); `service` holds its services. */
  appParked = false
  /** Set once the record is emitted (stays on the object: the timer heap checks it later). */
  removed: boolean
  // ---- intrusive LRU list (least recently active first), linked only while the table is near full ----
  lruPrev: Conn | undefined = undefined
  lruNext: Conn | undefined = undefined
  /** Row of this connection in the numeric columns (see the top of this file); -1 once released. */
  private slot: number

  constructor() {
    // Assigned here, not in the field initializers: V8 then treats the fields as mutable from
    // the first Conn on. Initialised in place, it was "const" until the first release(),
    // which deoptimised ~46 functions mid-replay (the hot path, every column accessor) and
    // recompiled them (measured with --trace-deopt).
    this.slot = allocSlot()
    this.removed = false
  }

  /**
   * Returns the column slot to the pool once the record is emitted. Only the key, ports and
   * flags stay readable (a record's lazy Community ID reads them). The uid and address texts
   * are dropped: the record holds them, and a dead Conn still in old space would otherwise
   * keep them alive (they were promoted at every scavenge while a capture's last flows are
   * flushed: +40 MB heap with 120k flows). Asking for the uid after this is a bug and throws.
   */
  release(): void {
    if (this.slot < 0) return
    slots.release(this.slot)
    this.slot = -1
    this.hCache = undefined
    this.uidText = undefined
    this.uidSource = undefined
  }

  // ---- numbers held in the columns ----
  get startTime(): number { return F64[this.slot * F64_STRIDE]! }
  set startTime(v: number) { F64[this.slot * F64_STRIDE] = v }
  get lastTime(): number { return F64[this.slot * F64_STRIDE + 1]! }
  set lastTime(v: number) { F64[this.slot * F64_STRIDE + 1] = v }
  get origPkts(): number { return F64[this.slot * F64_STRIDE + 2]! }
  set origPkts(v: number) { F64[this.slot * F64_STRIDE + 2] = v }
  get origIpBytes(): number { return F64[this.slot * F64_STRIDE + 3]! }
  set origIpBytes(v: number) { F64[this.slot * F64_STRIDE + 3] = v }
  get respPkts(): number { return F64[this.slot * F64_STRIDE + 4]! }
  set respPkts(v: number) { F64[this.slot * F64_STRIDE + 4] = v }
  get respIpBytes(): number { return F64[this.slot * F64_STRIDE + 5]! }
  set respIpBytes(v: number) { F64[this.slot * F64_STRIDE + 5] = v }
  /** UDP/ICMP payload bytes per direction (TCP sizes come from sequence space). */
  get origLen(): number { return F64[this.slot * F64_STRIDE + 6]! }
  set origLen(v: number) { F64[this.slot * F64_STRIDE + 6] = v }
  get respLen(): number { return F64[this.slot * F64_STRIDE + 7]! }
  set respLen(v: number) { F64[this.slot * F64_STRIDE + 7] = v }
  get missedBytes(): number { return F64[this.slot * F64_STRIDE + 8]! }
  set missedBytes(v: number) { F64[this.slot * F64_STRIDE + 8] = v }
  /** MAC addresses of the first frame as 48-bit numbers (-1 = none); formatted on demand. */
  get origMacN(): number { return F64[this.slot * F64_STRIDE + 9]! }
  set origMacN(v: number) { F64[this.slot * F64_STRIDE + 9] = v }
  get respMacN(): number { return F64[this.slot * F64_STRIDE + 10]! }
  set respMacN(v: number) { F64[this.slot * F64_STRIDE + 10] = v }
  // ---- timers (packet time) ----
  get inactivityTimeout(): number { return F64[this.slot * F64_STRIDE + 11]! }
  set inactivityTimeout(v: number) { F64[this.slot * F64_STRIDE + 11] = v }
  /** Earliest time any timer of this connection must be looked at. */
  get nextTimer(): number { return F64[this.slot * F64_STRIDE + 12]! }
  set nextTimer(v: number) { F64[this.slot * F64_STRIDE + 12] = v }
  /** TCP: next expire-timer check, attempt check, partial-close check, delete time. */
  get expireAt(): number { return F64[this.slot * F64_STRIDE + 13]! }
  set expireAt(v: number) { F64[this.slot * F64_STRIDE + 13] = v }
  get attemptAt(): number { return F64[this.slot * F64_STRIDE + 14]! }
  set attemptAt(v: number) { F64[this.slot * F64_STRIDE + 14] = v }
  get partialCloseAt(): number { return F64[this.slot * F64_STRIDE + 15]! }
  set partialCloseAt(v: number) { F64[this.slot * F64_STRIDE + 15] = v }
  get deleteAt(): number { return F64[this.slot * F64_STRIDE + 16]! }
  set deleteAt(v: number) { F64[this.slot * F64_STRIDE + 16] = v }
  /** Last interim record (active timeout). */
  get lastInterim(): number { return F64[this.slot * F64_STRIDE + 17]! }
  set lastInterim(v: number) { F64[this.slot * F64_STRIDE + 17] = v }
  /** Flow-table sequence number of the last packet (or the creation) of this connection: its recency rank. */
  get lastTouch(): number { return F64[this.slot * F64_STRIDE + 18]! }
  set lastTouch(v: number) { F64[this.slot * F64_STRIDE + 18] = v }
  // ---- canonical key (copied from FlowKey once, at creation), ports, flags ----
  get kProto(): number { return I32[this.slot * I32_STRIDE + 4]! }
  get kA0(): number { return I32[this.slot * I32_STRIDE + 5]! }
  get kA1(): number { return I32[this.slot * I32_STRIDE + 6]! }
  get kA2(): number { return I32[this.slot * I32_STRIDE + 7]! }
  get kA3(): number { return I32[this.slot * I32_STRIDE + 8]! }
  get kB0(): number { return I32[this.slot * I32_STRIDE + 9]! }
  get kB1(): number { return I32[this.slot * I32_STRIDE + 10]! }
  get kB2(): number { return I32[this.slot * I32_STRIDE + 11]! }
  get kB3(): number { return I32[this.slot * I32_STRIDE + 12]! }
  get kPA(): number { return I32[this.slot * I32_STRIDE + 13]! }
  get kPB(): number { return I32[this.slot * I32_STRIDE + 14]! }
  get hash(): number { return I32[this.slot * I32_STRIDE + 15]! }
  get ipProto(): number { return I32[this.slot * I32_STRIDE + 16]! }
  set ipProto(v: number) { I32[this.slot * I32_STRIDE + 16] = v }
  get origP(): number { return I32[this.slot * I32_STRIDE + 17]! }
  set origP(v: number) { I32[this.slot * I32_STRIDE + 17] = v }
  get respP(): number { return I32[this.slot * I32_STRIDE + 18]! }
  set respP(v: number) { I32[this.slot * I32_STRIDE + 18] = v }
  /** Transport family, from the IP protocol (ICMPv6 is 'icmp', as Zeek). */
  get proto(): ConnProto {
    const p = this.ipProto
    return p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 || p === 58 ? 'icmp' : 'unknown_transport'
  }
  /** Whether the originator is the lower endpoint of the canonical key (see flow-key.ts). */
  get origIsA(): boolean { return (I32[this.slot * I32_STRIDE + 3]! & F_ORIG_IS_A) !== 0 }
  set origIsA(v: boolean) { this.setFlags(F_ORIG_IS_A, v ? F_ORIG_IS_A : 0) }
  /** IPv6 key (addresses are 4 words) or IPv4 (1 word). */
  get v6(): boolean { return (I32[this.slot * I32_STRIDE + 3]! & F_V6) !== 0 }
  get localOrig(): boolean | undefined { return triState(I32[this.slot * I32_STRIDE + 3]! >> 4) }
  set localOrig(v: boolean | undefined) { this.setFlags(0x30, triBits(v) << 4) }
  get localResp(): boolean | undefined { return triState(I32[this.slot * I32_STRIDE + 3]! >> 6) }
  set localResp(v: boolean | undefined) { this.setFlags(0xc0, triBits(v) << 6) }

  private setFlags(mask: number, bits: number): void {
    const i = this.slot * I32_STRIDE + 3
    I32[i] = (I32[i]! & ~mask) | bits
  }

  get histSeen(): number { return I32[this.slot * I32_STRIDE]! }
  set histSeen(v: number) { I32[this.slot * I32_STRIDE] = v }
  get vlan(): number { return I32[this.slot * I32_STRIDE + 1]! }
  set vlan(v: number) { I32[this.slot * I32_STRIDE + 1] = v }
  get innerVlan(): number { return I32[this.slot * I32_STRIDE + 2]! }
  set innerVlan(v: number) { I32[this.slot * I32_STRIDE + 2] = v }
  get origActive(): boolean { return (I32[this.slot * I32_STRIDE + 3]! & 1) !== 0 }
  set origActive(v: boolean) { const i = this.slot * I32_STRIDE + 3; I32[i] = v ? I32[i]! | 1 : I32[i]! & ~1 }
  get respActive(): boolean { return (I32[this.slot * I32_STRIDE + 3]! & 2) !== 0 }
  set respActive(v: boolean) { const i = this.slot * I32_STRIDE + 3; I32[i] = v ? I32[i]! | 2 : I32[i]! & ~2 }

  /** TCP state: the Conn itself once initTcp() was called (see TcpState), else undefined. */
  get tcp(): TcpState | undefined {
    return this.orig !== undefined ? this as unknown as TcpState : undefined
  }

  /** Makes this a TCP connection with two fresh endpoints (called once, at creation). */
  initTcp(orig: TcpEndpoint, resp: TcpEndpoint): TcpState {
    this.orig = orig
    this.resp = resp
    this.setFlags(F_TCP_PARTIAL | F_TCP_FIRST | F_TCP_SYNACK_START, 0)
    return this as unknown as TcpState
  }

  get isPartial(): boolean { return (I32[this.slot * I32_STRIDE + 3]! & F_TCP_PARTIAL) !== 0 }
  set isPartial(v: boolean) { this.setFlags(F_TCP_PARTIAL, v ? F_TCP_PARTIAL : 0) }
  get firstPacketSeen(): number { return (I32[this.slot * I32_STRIDE + 3]! & F_TCP_FIRST) >> F_TCP_FIRST_SHIFT }
  set firstPacketSeen(v: number) { this.setFlags(F_TCP_FIRST, (v << F_TCP_FIRST_SHIFT) & F_TCP_FIRST) }
  get startedWithSynAck(): boolean { return (I32[this.slot * I32_STRIDE + 3]! & F_TCP_SYNACK_START) !== 0 }
  set startedWithSynAck(v: boolean) { this.setFlags(F_TCP_SYNACK_START, v ? F_TCP_SYNACK_START : 0) }

  get uid(): string {
    return (this.uidText ??= this.uidSource!.next())
  }

  /** Originator / responder address text, derived from the key words (no strings kept per flow until asked). */
  get origH(): string {
    return (this.hCache ??= this.formatHosts())[0]
  }

  get respH(): string {
    return (this.hCache ??= this.formatHosts())[1]
  }

  /**
   * Originator and responder address texts without caching them: for a final record, whose
   * connection dies right after (texts cached on a long-lived Conn are garbage in old space
   * until the next full GC).
   */
  hostTexts(): [string, string] {
    return this.hCache ?? this.formatHosts()
  }

  /**
   * Address bytes of the originator (true) or responder (false), written into `out` (16
   * bytes); returns a view of the 4 or 16 address bytes. `out` must be scratchA or scratchB
   * (their views are made once: nothing is allocated per call).
   */
  addrBytes(orig: boolean, out: Uint8Array): Uint8Array {
    const b = this.slot * I32_STRIDE + (orig === this.origIsA ? 5 : 9)
    const n = this.v6 ? 4 : 1
    for (let i = 0; i < n; i++) {
      const w = I32[b + i]!
      out[i * 4] = w >>> 24; out[i * 4 + 1] = (w >>> 16) & 0xff; out[i * 4 + 2] = (w >>> 8) & 0xff; out[i * 4 + 3] = w & 0xff
    }
    if (n === 4) return out.length === 16 ? out : out.subarray(0, 16)
    return out === scratchA ? scratchA4 : out === scratchB ? scratchB4 : out.subarray(0, 4)
  }

  /** The texts come from the address-text cache: a host's flows share one string (see addr-text-cache.ts). */
  private formatHosts(): [string, string] {
    const b = this.slot * I32_STRIDE
    const v6 = this.v6
    const aIsOrig = this.origIsA
    return [addrTextOfWords(I32, b + (aIsOrig ? 5 : 9), v6), addrTextOfWords(I32, b + (aIsOrig ? 9 : 5), v6)]
  }

  get origMac(): string | undefined {
    return this.origMacN < 0 ? undefined : macText(this.origMacN)
  }

  get respMac(): string | undefined {
    return this.respMacN < 0 ? undefined : macText(this.respMacN)
  }

  /** Community ID v1, computed when asked (once per emitted record). */
  get communityId(): string {
    return communityIdV1(this.ipProto, this.addrBytes(true, scratchA), this.addrBytes(false, scratchB), this.origP, this.respP)
  }

  setKey(k: FlowKey): void {
    const b = this.slot * I32_STRIDE
    this.setFlags(F_V6, k.v6 ? F_V6 : 0)
    I32[b + 4] = k.proto
    I32[b + 5] = k.a0; I32[b + 6] = k.a1; I32[b + 7] = k.a2; I32[b + 8] = k.a3
    I32[b + 9] = k.b0; I32[b + 10] = k.b1; I32[b + 11] = k.b2; I32[b + 12] = k.b3
    I32[b + 13] = k.pa
    I32[b + 14] = k.pb
    I32[b + 15] = k.hash
  }

  keyEquals(k: FlowKey): boolean {
    return keyEqualsAtSlot(this.slot, k)
  }

  /** Row of this connection in the columns (the flow index keeps it next to the key hash); -1 once released. */
  get slotIndex(): number {
    return this.slot
  }

  /** Zeek's Connection::CheckHistory: add `code` the first time `mask` is seen. Returns true if seen before. */
  checkHistory(mask: number, code: string): boolean {
    if ((this.histSeen & mask) === 0) {
      this.histSeen |= mask
      this.history += code
      return false
    }
    return true
  }

  addHistory(code: string): void {
    this.history += code
  }

  /** Zeek's Connection::FlipRoles: swap endpoints and everything per direction; append '^'. */
  flipRoles(): void {
    this.hCache = undefined
    let n = this.origP; this.origP = this.respP; this.respP = n
    n = this.origPkts; this.origPkts = this.respPkts; this.respPkts = n
    n = this.origIpBytes; this.origIpBytes = this.respIpBytes; this.respIpBytes = n
    n = this.origLen; this.origLen = this.respLen; this.respLen = n
    const a = this.origActive; this.origActive = this.respActive; this.respActive = a
    const m = this.origMacN; this.origMacN = this.respMacN; this.respMacN = m
    const l = this.localOrig; this.localOrig = this.localResp; this.localResp = l
    if (this.tcp) {
      const t = this.tcp
      const e = t.orig; t.orig = t.resp; t.resp = e
      t.orig.isOrig = true
      t.resp.isOrig = false
      t.firstPacketSeen = ((t.firstPacketSeen & 1) ? 2 : 0) | ((t.firstPacketSeen & 2) ? 1 : 0)
      t.isPartial = false
      t.startedWithSynAck = false
    }
    this.origIsA = !this.origIsA
    this.app?.flip()
    this.addHistory('^')
  }
}

/** Whether the connection in column row `slot` has key `k` (Conn.keyEquals without the Conn). */
export function keyEqualsAtSlot(slot: number, k: FlowKey): boolean {
  const b = slot * I32_STRIDE
  const w = I32
  return w[b + 5] === k.a0 && w[b + 9] === k.b0 && w[b + 13] === k.pa && w[b + 14] === k.pb && w[b + 4] === k.proto &&
    w[b + 6] === k.a1 && w[b + 7] === k.a2 && w[b + 8] === k.a3 && w[b + 10] === k.b1 && w[b + 11] === k.b2 && w[b + 12] === k.b3
}

const scratchA = new Uint8Array(16)
const scratchB = new Uint8Array(16)
const scratchA4 = scratchA.subarray(0, 4)
const scratchB4 = scratchB.subarray(0, 4)

