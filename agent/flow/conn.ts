import type { AppSession } from '../app/app-session.js'
import type { FlowKey } from './flow-key.js'
import type { TcpEndpoint } from './tcp-endpoint.js'

/** Transport family of a connection, as Zeek's `proto` column. */
export type ConnProto = 'tcp' | 'udp' | 'icmp' | 'unknown_transport'

/** TCP-only connection state (Zeek's TCPSessionAdapter). */
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
  uid = ''
  // ---- canonical key (copied from FlowKey once, at creation) ----
  kProto = 0
  kA0 = 0; kA1 = 0; kA2 = 0; kA3 = 0
  kB0 = 0; kB1 = 0; kB2 = 0; kB3 = 0
  kPA = 0
  kPB = 0
  hash = 0
  /** Next connection in the same hash bucket. */
  hashNext: Conn | undefined = undefined
  /** Whether the originator is the lower endpoint of the canonical key (see flow-key.ts). */
  origIsA = true
  proto: ConnProto = 'tcp'
  ipProto = 6
  origH = ''
  origP = 0
  respH = ''
  respP = 0
  startTime = 0
  lastTime = 0
  history = ''
  histSeen = 0
  origPkts = 0
  origIpBytes = 0
  respPkts = 0
  respIpBytes = 0
  /** UDP/ICMP payload bytes per direction (TCP sizes come from sequence space). */
  origLen = 0
  respLen = 0
  origActive = false
  respActive = false
  missedBytes = 0
  tcp: TcpState | undefined = undefined
  tunnelParents: string[] | undefined = undefined
  vlan = -1
  innerVlan = -1
  origMac: string | undefined = undefined
  respMac: string | undefined = undefined
  iface = ''
  localOrig: boolean | undefined = undefined
  localResp: boolean | undefined = undefined
  communityId = ''
  service = ''
  /** Application-layer session while analyzers are attached or detection is looking. */
  app: AppSession | undefined = undefined
  // ---- timers (packet time) ----
  inactivityTimeout = 60
  /** Earliest time any timer of this connection must be looked at. */
  nextTimer = Infinity
  /** TCP: next expire-timer check, attempt check, partial-close check, delete time. */
  expireAt = Infinity
  attemptAt = Infinity
  partialCloseAt = Infinity
  deleteAt = Infinity
  /** Last interim record (active timeout). */
  lastInterim = 0
  removed = false
  // ---- intrusive LRU list (least recently active first) ----
  lruPrev: Conn | undefined = undefined
  lruNext: Conn | undefined = undefined

  setKey(k: FlowKey): void {
    this.kProto = k.proto
    this.kA0 = k.a0; this.kA1 = k.a1; this.kA2 = k.a2; this.kA3 = k.a3
    this.kB0 = k.b0; this.kB1 = k.b1; this.kB2 = k.b2; this.kB3 = k.b3
    this.kPA = k.pa
    this.kPB = k.pb
    this.hash = k.hash
  }

  keyEquals(k: FlowKey): boolean {
    return this.kA0 === k.a0 && this.kB0 === k.b0 && this.kPA === k.pa && this.kPB === k.pb && this.kProto === k.proto &&
      this.kA1 === k.a1 && this.kA2 === k.a2 && this.kA3 === k.a3 && this.kB1 === k.b1 && this.kB2 === k.b2 && this.kB3 === k.b3
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
    const h = this.origH; this.origH = this.respH; this.respH = h
    let n = this.origP; this.origP = this.respP; this.respP = n
    n = this.origPkts; this.origPkts = this.respPkts; this.respPkts = n
    n = this.origIpBytes; this.origIpBytes = this.respIpBytes; this.respIpBytes = n
    n = this.origLen; this.origLen = this.respLen; this.respLen = n
    const a = this.origActive; this.origActive = this.respActive; this.respActive = a
    const m = this.origMac; this.origMac = this.respMac; this.respMac = m
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
