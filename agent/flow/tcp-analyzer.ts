/**
 * Zeek's TCP connection analysis (packet_analysis/protocol/tcp/TCPSessionAdapter.cc and
 * analyzer/protocol/tcp/TCP_Endpoint.cc), reduced to what conn.log needs: endpoint state
 * machine, history letters with Zeek's case/repetition rules, sequence-space sizes,
 * content gaps (missed_bytes) and the close/expire timers that decide when a connection is
 * removed. Pure with respect to I/O: it only mutates the Conn it is given.
 */
import type { Conn } from './conn.js'
import type { TcpTimers } from './flow-table-config.js'
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../decode/packet-info.js'
import {
  isPow10, seqDelta, TcpEndpoint, TCP_CLOSED, TCP_ESTABLISHED, TCP_INACTIVE, TCP_PARTIAL, TCP_RESET, TCP_SYN_ACK_SENT,
  TCP_SYN_SENT,
} from './tcp-endpoint.js'

const TOO_LARGE_SEQ_DELTA = 1048576

// History masks (Zeek's TCP_Endpoint HIST_*); the responder's are shifted left by 16.
const HIST_SYN_PKT = 0x1
const HIST_FIN_PKT = 0x2
const HIST_RST_PKT = 0x4
const HIST_FIN_RST_PKT = 0x8
const HIST_DATA_PKT = 0x10
const HIST_ACK_PKT = 0x20
const HIST_MULTI_FLAG_PKT = 0x40

export { ZEEK_TCP_TIMERS } from './flow-table-config.js'
export type { TcpTimers } from './flow-table-config.js'

/** Makes `c` a TCP connection (two fresh endpoints; the Conn holds the TCP state itself). */
export function initTcpState(c: Conn): NonNullable<Conn['tcp']> {
  return c.initTcp(new TcpEndpoint(true), new TcpEndpoint(false))
}

function endpointCheckHistory(c: Conn, ep: TcpEndpoint, mask: number, code: string): boolean {
  if (!ep.isOrig) mask <<= 16
  if ((c.histSeen & mask) !== 0) return true
  return c.checkHistory(mask, ep.isOrig ? code : code.toLowerCase())
}

function endpointAddHistory(c: Conn, ep: TcpEndpoint, code: string): void {
  c.addHistory(ep.isOrig ? code : code.toLowerCase())
}

/** Logarithmic letters: C (checksum), T (retransmit), W (zero window), G (gap). */
function scaled(c: Conn, ep: TcpEndpoint, kind: 'C' | 'T' | 'W' | 'G'): void {
  const code = ep.isOrig ? kind : kind.toLowerCase()
  switch (kind) {
    case 'C': if (isPow10(++ep.chkCnt)) c.addHistory(code); break
    case 'T': if (isPow10(++ep.rxmtCnt)) c.addHistory(code); break
    case 'W': if (isPow10(++ep.win0Cnt)) c.addHistory(code); break
    case 'G': if (isPow10(++ep.gapCnt)) c.addHistory(code); break
  }
}

/** A packet whose TCP checksum failed: Zeek records 'C' and ignores the packet otherwise. */
export function tcpBadChecksum(c: Conn, isOrig: boolean): void {
  const t = c.tcp!
  scaled(c, isOrig ? t.orig : t.resp, 'C')
}

function initEndpoint(ep: TcpEndpoint, flags: number, firstSeq: number, lastSeq: number): void {
  switch (ep.state) {
    case TCP_INACTIVE:
      if (flags & TCP_SYN) {
        ep.ackSeq = firstSeq
        ep.startSeq = firstSeq
      } else {
        ep.ackSeq = (firstSeq - 1) >>> 0
        ep.startSeq = (firstSeq - 1) >>> 0
        lastSeq = firstSeq
      }
      ep.lastSeq = lastSeq
      break
    case TCP_SYN_SENT:
    case TCP_SYN_ACK_SENT:
      if ((flags & TCP_SYN) && firstSeq !== ep.startSeq) {
        ep.startSeq = firstSeq; ep.ackSeq = firstSeq; ep.lastSeq = lastSeq
      }
      break
    case TCP_ESTABLISHED:
    case TCP_PARTIAL:
      if (flags & TCP_SYN) {
        ep.startSeq = firstSeq; ep.ackSeq = firstSeq; ep.lastSeq = lastSeq
      }
      break
    case TCP_RESET:
      if ((flags & TCP_SYN) && ep.prevState === TCP_INACTIVE) {
        ep.startSeq = firstSeq; ep.ackSeq = firstSeq; ep.lastSeq = lastSeq
      }
      break
  }
}

const underflowFlag = { v: false }

function relativeSeq(ep: TcpEndpoint, cur: number, last: number, wraps: number): number {
  let delta = seqDelta(cur, last)
  if (delta < 0) {
    if (wraps && cur > last) --wraps
  } else if (delta > 0) {
    if (cur < last) ++wraps
  }
  if (wraps === 0) {
    delta = seqDelta(cur, ep.startSeq)
    if (delta < 0) underflowFlag.v = true
    return delta
  }
  return ep.toRelative(cur, wraps)
}

function isClean(e: TcpEndpoint): boolean {
  return e.state === TCP_ESTABLISHED || (e.state === TCP_CLOSED && e.prevState === TCP_ESTABLISHED)
}

/**
 * What the last tcpPacket() call left for the application layer: the packet's direction after
 * any re-orientation, the relative sequence of its payload (-1 when the payload is not to be
 * delivered), and the relative acknowledgement it carried for the peer's stream (0 = none).
 */
export const tcpLast = { isOrig: true, dataSeq: -1, relAck: 0 }

/**
 * Process one TCP packet (checksum already verified) on connection `c`.
 * `len` = payload length per the IP header; `captured` = payload bytes present in the capture.
 */
export function tcpPacket(c: Conn, isOrig: boolean, flags: number, seq: number, ack: number, window: number,
  len: number, captured: number, t: number, timers: TcpTimers): void {
  const tcp = c.tcp!
  // Zeek PR #2191: a connection that began with a SYN-ACK is re-oriented as soon as an ACK
  // or data follows (stealth scans never produce those).
  if (tcp.startedWithSynAck && !(flags & (TCP_SYN | TCP_FIN | TCP_RST)) && ((flags & TCP_ACK) || len > 0) &&
    tcp.orig.state === TCP_SYN_ACK_SENT && tcp.resp.state === TCP_INACTIVE) {
    c.flipRoles()
    isOrig = !isOrig
  }
  tcp.startedWithSynAck = false
  const ep = isOrig ? tcp.orig : tcp.resp
  const peer = isOrig ? tcp.resp : tcp.orig

  // SetPartialStatus
  if (isOrig) {
    if (!(tcp.firstPacketSeen & 1)) tcp.isPartial = !(flags & TCP_SYN) || (flags & TCP_ACK) !== 0
  } else if (!(tcp.firstPacketSeen & 2) && !tcp.isPartial) {
    tcp.isPartial = !(flags & TCP_SYN)
  }

  let segLen = len
  if (flags & TCP_SYN) segLen++
  if (flags & TCP_FIN) segLen++
  if (flags & TCP_RST) segLen -= len
  const onePast = (seq + segLen) >>> 0

  initEndpoint(ep, flags, seq, onePast)
  underflowFlag.v = false
  const relSeq = relativeSeq(ep, seq, ep.lastSeq, ep.seqWraps)
  const seqUnderflow = underflowFlag.v

  // update_history
  const bits = ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0) + ((flags & TCP_RST) ? 1 : 0)
  if (bits > 1) {
    if ((flags & TCP_FIN) && (flags & TCP_RST)) endpointCheckHistory(c, ep, HIST_FIN_RST_PKT, 'I')
    else endpointCheckHistory(c, ep, HIST_MULTI_FLAG_PKT, 'Q')
  } else if (bits === 1) {
    if (flags & TCP_SYN) {
      const code = (flags & TCP_ACK) ? 'H' : 'S'
      if (endpointCheckHistory(c, ep, HIST_SYN_PKT, code) && relSeq !== ep.histLastSyn) endpointAddHistory(c, ep, code)
      ep.histLastSyn = relSeq
    }
    if (flags & TCP_FIN) {
      if (endpointCheckHistory(c, ep, HIST_FIN_PKT, 'F') && relSeq + len !== ep.histLastFin) endpointAddHistory(c, ep, 'F')
      ep.histLastFin = relSeq + len
    }
    if (flags & TCP_RST) {
      if (endpointCheckHistory(c, ep, HIST_RST_PKT, 'R') && relSeq !== ep.histLastRst) endpointAddHistory(c, ep, 'R')
      ep.histLastRst = relSeq
    }
  } else if (len) {
    endpointCheckHistory(c, ep, HIST_DATA_PKT, 'D')
  } else if (flags & TCP_ACK) {
    endpointCheckHistory(c, ep, HIST_ACK_PKT, 'A')
  }

  // update_window: only the zero-window letter matters for conn.log.
  if (window === 0 && !(flags & TCP_RST) && peer.state !== TCP_CLOSED && ep.state !== TCP_RESET) scaled(c, ep, 'W')

  if (!tcp.orig.didClose || !tcp.resp.didClose) c.lastTime = t

  if (flags & TCP_FIN) {
    ep.finCnt++
    ep.finSeq = relSeq + segLen
  }
  if (flags & TCP_RST) ep.rstCnt++

  let relAck = 0
  if (flags & TCP_ACK) {
    if (peer.state === TCP_INACTIVE) {
      relAck = 1
      const a = (ack - 1) >>> 0
      peer.startSeq = a; peer.ackSeq = a; peer.lastSeq = a
    } else {
      underflowFlag.v = false
      relAck = relativeSeq(peer, ack, peer.ackSeq, peer.ackWraps)
      if (underflowFlag.v) relAck = 0
      else if (!(flags & TCP_RST)) {
        const d = seqDelta(ack, peer.ackSeq)
        if (!(ack === 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0) peer.updateAckSeq(ack)
      }
    }
  }

  // update_last_seq
  const deltaLast = seqDelta(onePast, ep.lastSeq)
  if ((flags & (TCP_SYN | TCP_RST)) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
    // untrusted
  } else if ((flags & TCP_FIN) && ep.lastSeq === ((ep.startSeq + 1) >>> 0)) {
    ep.updateLastSeq(onePast)
  } else if (ep.state === TCP_RESET) {
    // don't trust sequence numbers after a reset
  } else if (deltaLast > 0) {
    ep.updateLastSeq(onePast)
  } else if (len > 0) {
    scaled(c, ep, 'T')
  }

  const close = updateStateMachine(c, ep, peer, seq, isOrig, flags, len, deltaLast, timers, t)

  if (flags & TCP_ACK) {
    const missing = peer.ackReceived(relAck, tcp.isPartial)
    if (missing > 0 && isClean(peer) && isClean(peer === tcp.orig ? tcp.resp : tcp.orig)) {
      for (let h = 0; h < peer.lastHoles; h++) scaled(c, peer, 'G')
      c.missedBytes += missing
    }
  }

  if (isOrig && !(tcp.firstPacketSeen & 1)) tcp.firstPacketSeen |= 1
  if (!isOrig && !(tcp.firstPacketSeen & 2)) tcp.firstPacketSeen |= 2

  const relDataSeq = (flags & TCP_SYN) ? relSeq + 1 : relSeq
  tcpLast.isOrig = isOrig
  // The ACK of a FIN acknowledges the FIN's sequence number, not data (Zeek clamps it too).
  tcpLast.relAck = (flags & TCP_ACK) ? (peer.finCnt > 0 && relAck >= peer.finSeq ? peer.finSeq - 1 : relAck) : 0
  tcpLast.dataSeq = -1
  if (len > 0 && captured >= len && !(flags & TCP_RST) && !seqUnderflow) {
    ep.dataSent(relDataSeq, len)
    tcpLast.dataSeq = relDataSeq
  }

  if (close !== CLOSE_NONE) connectionClosed(c, ep, peer, timers)
}

const CLOSE_NONE = 0
const CLOSE_YES = 1

function updateStateMachine(c: Conn, ep: TcpEndpoint, peer: TcpEndpoint, baseSeq: number, isOrig: boolean,
  flags: number, len: number, deltaLast: number, timers: TcpTimers, t: number): number {
  let doClose = CLOSE_NONE
  const tcp = c.tcp!
  switch (ep.state) {
    case TCP_INACTIVE: {
      if (flags & TCP_SYN) {
        if (isOrig) {
          setEndpointState(c, timers, ep, (flags & TCP_ACK) ? TCP_SYN_ACK_SENT : TCP_SYN_SENT)
          c.attemptAt = Math.min(c.attemptAt, t + timers.attemptDelay)
        } else {
          if (flags & TCP_ACK) {
            // bad_SYN_ack weird only
          } else if (peer.state === TCP_SYN_ACK_SENT && baseSeq === ep.startSeq) {
            // SYN/SYN-ACK reversal: flip and establish.
            tcp.isPartial = false
            c.flipRoles()
            // after the flip `ep` is the originator endpoint object; states are per object
            peer.setState(TCP_ESTABLISHED)
            tcp.firstPacketSeen |= 1
          }
          if (peer.state === TCP_SYN_SENT) setEndpointState(c, timers, peer, TCP_ESTABLISHED)
          setEndpointState(c, timers, ep, TCP_ESTABLISHED)
        }
      }
      if (flags & TCP_FIN) {
        setEndpointState(c, timers, ep, TCP_CLOSED)
        doClose = CLOSE_YES
      }
      if (flags & TCP_RST) {
        setEndpointState(c, timers, ep, TCP_RESET)
        doClose = CLOSE_YES
      }
      if (ep.state === TCP_INACTIVE) {
        if (!isOrig && len === 0 && tcp.orig.state === TCP_SYN_SENT) {
          // an eccentric TCP acking the SYN before answering it
        } else if ((flags & TCP_ACK) && peer.state === TCP_ESTABLISHED) {
          setEndpointState(c, timers, ep, TCP_ESTABLISHED)
          tcp.isPartial = false
          tcp.firstPacketSeen |= isOrig ? 1 : 2
        } else {
          setEndpointState(c, timers, ep, TCP_PARTIAL)
        }
      }
      break
    }
    case TCP_SYN_SENT:
    case TCP_SYN_ACK_SENT:
      if (flags & TCP_FIN) { setEndpointState(c, timers, ep, TCP_CLOSED); doClose = CLOSE_YES }
      if (flags & TCP_RST) { setEndpointState(c, timers, ep, TCP_RESET); doClose = CLOSE_YES }
      break
    case TCP_ESTABLISHED:
    case TCP_PARTIAL:
      if ((flags & TCP_SYN) && ep.state === TCP_PARTIAL && peer.state === TCP_INACTIVE && !(flags & TCP_ACK)) {
        setEndpointState(c, timers, ep, TCP_SYN_SENT)
      }
      if ((flags & TCP_FIN) && !(flags & TCP_RST)) {
        setEndpointState(c, timers, ep, TCP_CLOSED)
        if (peer.state === TCP_RESET && peer.prevState === TCP_CLOSED) peer.setState(TCP_CLOSED)
        doClose = CLOSE_YES
      }
      if (flags & TCP_RST) { setEndpointState(c, timers, ep, TCP_RESET); doClose = CLOSE_YES }
      break
    case TCP_CLOSED:
      if ((flags & TCP_RST) && peer.state !== TCP_CLOSED) {
        setEndpointState(c, timers, ep, TCP_RESET)
        if (!ep.didClose) doClose = CLOSE_YES
      }
      break
    case TCP_RESET:
      break
  }
  void deltaLast
  return doClose
}

/** TCP_Endpoint::SetState: leaving the handshake switches to the TCP inactivity timeout. */
function setEndpointState(c: Conn, timers: TcpTimers, e: TcpEndpoint, s: number): void {
  const tcp = c.tcp!
  const wasHandshake = isHandshake(e.state) && isHandshake((e === tcp.orig ? tcp.resp : tcp.orig).state)
  e.setState(s)
  if (!isHandshake(s) && wasHandshake) c.inactivityTimeout = timers.inactivityTimeout
}

function isHandshake(s: number): boolean {
  return s === TCP_INACTIVE || s === TCP_SYN_SENT || s === TCP_SYN_ACK_SENT
}

function connectionClosed(c: Conn, ep: TcpEndpoint, peer: TcpEndpoint, timers: TcpTimers): void {
  if (ep.didClose) return
  ep.didClose = true
  const complete = ep.state === TCP_RESET || peer.didClose || peer.state === TCP_INACTIVE
  if (complete) {
    c.attemptAt = Infinity
    c.expireAt = Infinity
    c.partialCloseAt = Infinity
    c.deleteAt = c.lastTime + timers.closeDelay
  } else if (ep.prevState === TCP_INACTIVE) {
    c.partialCloseAt = c.lastTime + timers.partialCloseDelay
  } else {
    c.expireAt = Math.min(c.expireAt, c.lastTime + timers.sessionTimer)
  }
}

/** Zeek's TCPSessionAdapter::IsReuse for a SYN arriving on an existing connection. */
export function tcpIsReuse(c: Conn, flags: number, seq: number): boolean {
  if (!(flags & TCP_SYN)) return false
  const tcp = c.tcp!
  let connOrig = tcp.orig
  if (flags & TCP_ACK) {
    if (tcp.orig.state !== TCP_INACTIVE) return false
    connOrig = tcp.resp
  }
  if (!(tcp.orig.didClose || tcp.resp.didClose)) {
    if (seq === connOrig.startSeq) return false
    if (!(flags & TCP_ACK) && connOrig.state === TCP_SYN_ACK_SENT && tcp.resp.state === TCP_INACTIVE &&
      seq === tcp.resp.startSeq) return false
  }
  return true
}

/**
 * Timer checks at packet time `t` (Zeek's AttemptTimer, ExpireTimer, PartialCloseTimer,
 * delete timer). Returns true when the connection must be removed now.
 */
export function tcpTimersExpired(c: Conn, t: number, timers: TcpTimers): boolean {
  const tcp = c.tcp!
  const o = tcp.orig
  const r = tcp.resp
  if (c.deleteAt <= t) return true
  if (c.attemptAt <= t) {
    c.attemptAt = Infinity
    if ((o.state === TCP_SYN_SENT || o.state === TCP_SYN_ACK_SENT) && r.state === TCP_INACTIVE) return true
  }
  if (c.partialCloseAt <= t) {
    c.partialCloseAt = Infinity
    if (o.state !== TCP_INACTIVE && r.state !== TCP_INACTIVE && (!o.didClose || !r.didClose) &&
      o.state !== TCP_RESET && r.state !== TCP_RESET) return true
  }
  if (c.expireAt <= t) {
    c.expireAt = t + timers.sessionTimer
    if (c.lastTime + timers.connectionLinger < t) {
      if (o.didClose || r.didClose) {
        if ((o.didClose && r.didClose) || o.state === TCP_RESET || r.state === TCP_RESET ||
          o.state === TCP_INACTIVE || r.state === TCP_INACTIVE) return true
      }
      if (r.state === TCP_INACTIVE && o.state === TCP_INACTIVE) return true
    }
  }
  return false
}
