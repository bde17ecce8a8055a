/*
 * Zeek's TCP connection analysis for conn.log (TCPSessionAdapter.cc, TCP_Endpoint.cc, the
 * range-only part of TCP_Reassembler.cc), over connection rows. A line-for-line port of
 * agent/flow/tcp-analyzer.ts and tcp-endpoint.ts: the differential test holds them equal.
 */
import {
  blockAt, blockCount, blockSplice, blocksOf, addHistory, checkHistory, ensureBlocks, flipRoles, MAX_BLOCKS,
} from './conn-row'
import {
  attemptDelay, closeDelay, connectionLinger, partialCloseDelay, sessionTimer, tcpInactivity,
} from './config'
import {
  C_ATTEMPT, C_DELETE, C_EP0, C_EP1, C_EXPIRE, C_FLAGS, C_HSEEN, C_INACT, C_LAST, C_MISSED, C_PCLOSE,
  E_ACK, E_ACKW, E_CHK, E_FINCNT, E_FINSEQ, E_FLAGS, E_GAP, E_HFIN, E_HOLES, E_HRST, E_HSYN, E_LAST, E_PREV,
  E_REASSEM, E_RSTCNT, E_RXMT, E_SEQW, E_START, E_STATE, E_TRIM, E_WIN0, EF_DID_CLOSE, F_ORIG_EP1, F_TCP,
  F_TCP_FIRST, F_TCP_FIRST_SHIFT, F_TCP_PARTIAL, F_TCP_SYNACK_START,
} from './layout'

export const TCP_INACTIVE: i32 = 0
export const TCP_SYN_SENT: i32 = 1
export const TCP_SYN_ACK_SENT: i32 = 2
export const TCP_PARTIAL: i32 = 3
export const TCP_ESTABLISHED: i32 = 4
export const TCP_CLOSED: i32 = 5
export const TCP_RESET: i32 = 6

const FIN: i32 = 0x01
const SYN: i32 = 0x02
const RST: i32 = 0x04
const ACK: i32 = 0x10

const TWO32: f64 = 4294967296
const TOO_LARGE_SEQ_DELTA: i32 = 1048576

const HIST_SYN_PKT: i32 = 0x1
const HIST_FIN_PKT: i32 = 0x2
const HIST_RST_PKT: i32 = 0x4
const HIST_FIN_RST_PKT: i32 = 0x8
const HIST_DATA_PKT: i32 = 0x10
const HIST_ACK_PKT: i32 = 0x20
const HIST_MULTI_FLAG_PKT: i32 = 0x40

// ---- endpoint fields ----
// @ts-ignore: decorator
@inline export function epState(ep: usize): i32 { return load<i32>(ep + E_STATE) }
// @ts-ignore: decorator
@inline function epPrev(ep: usize): i32 { return load<i32>(ep + E_PREV) }
// @ts-ignore: decorator
@inline function startSeq(ep: usize): u32 { return load<u32>(ep + E_START) }
// @ts-ignore: decorator
@inline function didClose(ep: usize): bool { return (load<i32>(ep + E_FLAGS) & EF_DID_CLOSE) !== 0 }

export function origEp(r: usize): usize {
  return (load<i32>(r + C_FLAGS) & F_ORIG_EP1) !== 0 ? r + C_EP1 : r + C_EP0
}

export function respEp(r: usize): usize {
  return (load<i32>(r + C_FLAGS) & F_ORIG_EP1) !== 0 ? r + C_EP0 : r + C_EP1
}

function initEndpointRow(ep: usize): void {
  // Row memory is zeroed at allocation; only non-zero initial values here.
  store<f64>(ep + E_HSYN, -1)
  store<f64>(ep + E_HFIN, -1)
  store<f64>(ep + E_HRST, -1)
  store<f64>(ep + E_REASSEM, 1)
  store<f64>(ep + E_TRIM, 1)
}

/** Makes row `r` a TCP connection with two fresh endpoints. */
export function initTcp(r: usize): void {
  initEndpointRow(r + C_EP0)
  initEndpointRow(r + C_EP1)
  const f = load<i32>(r + C_FLAGS) & ~(F_TCP_PARTIAL | F_TCP_FIRST | F_TCP_SYNACK_START | F_ORIG_EP1)
  store<i32>(r + C_FLAGS, f | F_TCP)
}

function setState(ep: usize, s: i32): void {
  const cur = load<i32>(ep + E_STATE)
  if (s !== cur) {
    store<i32>(ep + E_PREV, cur)
    store<i32>(ep + E_STATE, s)
  }
}

function updateLastSeq(ep: usize, seq: u32): void {
  if (seq < load<u32>(ep + E_LAST)) store<i32>(ep + E_SEQW, load<i32>(ep + E_SEQW) + 1)
  store<u32>(ep + E_LAST, seq)
}

function updateAckSeq(ep: usize, seq: u32): void {
  if (seq < load<u32>(ep + E_ACK)) store<i32>(ep + E_ACKW, load<i32>(ep + E_ACKW) + 1)
  store<u32>(ep + E_ACK, seq)
}

// @ts-ignore: decorator
@inline function toFull(seq: u32, wraps: i32): f64 {
  return <f64>wraps * TWO32 + <f64>seq
}

// @ts-ignore: decorator
@inline function toRelative(ep: usize, seq: u32, wraps: i32): f64 {
  return toFull(seq, wraps) - <f64>startSeq(ep)
}

// @ts-ignore: decorator
@inline function seqDelta(a: u32, b: u32): i32 {
  return <i32>(a - b)
}

function noDataAcked(ep: usize): bool {
  const ack = toFull(load<u32>(ep + E_ACK), load<i32>(ep + E_ACKW))
  const s = <f64>startSeq(ep)
  return ack === s || ack === s + 1
}

/** Zeek's TCP_Endpoint::Size(): payload bytes in sequence space. */
export function epSize(ep: usize, peerState: i32): f64 {
  if (epPrev(ep) === TCP_SYN_SENT && epState(ep) === TCP_RESET && peerState === TCP_INACTIVE && !noDataAcked(ep)) return 0
  const last = toFull(load<u32>(ep + E_LAST), load<i32>(ep + E_SEQW))
  const ack = toFull(load<u32>(ep + E_ACK), load<i32>(ep + E_ACKW))
  let size = (last > ack ? last : ack) - <f64>startSeq(ep)
  if (size < 0) size += 18446744073709551616.0
  if (size !== 0) size--
  if (load<i32>(ep + E_FINCNT) > 0 && size !== 0) size--
  return size
}

function absorbBlocks(ep: usize): void {
  const b = blocksOf(ep)
  const n = blockCount(b)
  let last = load<f64>(ep + E_REASSEM)
  let i = 0
  while (i < n && blockAt(b, i) <= last) {
    if (blockAt(b, i + 1) > last) last = blockAt(b, i + 1)
    i += 2
  }
  store<f64>(ep + E_REASSEM, last)
  if (i > 0) blockSplice(b, 0, i, 0, 0, 0)
}

function insertBlock(ep: usize, start: f64, end: f64): void {
  const b = ensureBlocks(ep)
  const n = load<i32>(b)
  let i = 0
  while (i < n && blockAt(b, i + 1) < start) i += 2
  let s = start
  let e = end
  let j = i
  while (j < n && blockAt(b, j) <= e) {
    if (blockAt(b, j) < s) s = blockAt(b, j)
    if (blockAt(b, j + 1) > e) e = blockAt(b, j + 1)
    j += 2
  }
  blockSplice(b, i, j - i, 2, s, e)
  if (load<i32>(b) > MAX_BLOCKS * 2) blockSplice(b, 0, 2, 0, 0, 0)
}

/** Record data [seq, seq+len) as seen (the reassembler's DataSent). */
function dataSent(ep: usize, seq: f64, len: f64): void {
  const ack = toRelative(ep, load<u32>(ep + E_ACK), load<i32>(ep + E_ACKW))
  let start = seq
  const end = seq + len
  if (start < ack) {
    if (end <= ack) return
    start = ack
  }
  const last = load<f64>(ep + E_REASSEM)
  if (end <= last) return
  if (start <= last) {
    store<f64>(ep + E_REASSEM, end)
    absorbBlocks(ep)
    return
  }
  insertBlock(ep, start, end)
}

/** The peer acknowledged up to `seq` (relative): bytes never seen below it (content gaps). */
function ackReceived(ep: usize, seqIn: f64, isPartial: bool): f64 {
  let seq = seqIn
  store<i32>(ep + E_HOLES, 0)
  if (load<i32>(ep + E_FINCNT) > 0 && seq >= load<f64>(ep + E_FINSEQ)) seq = load<f64>(ep + E_FINSEQ) - 1
  if (seq <= load<f64>(ep + E_TRIM)) return 0
  let missing: f64 = 0
  let last = load<f64>(ep + E_REASSEM)
  const b = blocksOf(ep)
  if (last < seq && !(seq <= 2 && isPartial)) {
    let holes = 0
    while (blockCount(b) > 0 && blockAt(b, 0) < seq) {
      const gap = blockAt(b, 0) - last
      if (gap > 0) { missing += gap; holes++ }
      if (blockAt(b, 1) > last) last = blockAt(b, 1)
      blockSplice(b, 0, 2, 0, 0, 0)
    }
    if (seq > last) {
      missing += seq - last
      holes++
    }
    if (seq > last) last = seq
    store<f64>(ep + E_REASSEM, last)
    store<i32>(ep + E_HOLES, holes)
  }
  while (blockCount(b) > 0 && blockAt(b, 1) <= seq) blockSplice(b, 0, 2, 0, 0, 0)
  store<f64>(ep + E_TRIM, seq)
  return missing
}

function isPow10(v: i32): bool {
  let n = v
  while (n >= 10 && n % 10 === 0) n /= 10
  return n === 1
}

// @ts-ignore: decorator
@inline function lower(code: i32, isOrig: bool): i32 {
  return isOrig ? code : code | 0x20
}

function endpointCheckHistory(r: usize, isOrig: bool, maskIn: i32, code: i32): bool {
  const mask = isOrig ? maskIn : maskIn << 16
  if ((load<i32>(r + C_HSEEN) & mask) !== 0) return true
  return checkHistory(r, mask, lower(code, isOrig))
}

/** Logarithmic letters (C, T, W, G): added at the 1st, 10th, 100th… occurrence. */
function scaled(r: usize, ep: usize, isOrig: bool, field: i32, code: i32): void {
  const n = load<i32>(ep + field) + 1
  store<i32>(ep + field, n)
  if (isPow10(n)) addHistory(r, lower(code, isOrig))
}

/** A packet whose TCP checksum failed: Zeek records 'C' and ignores it otherwise. */
export function tcpBadChecksum(r: usize, isOrig: bool): void {
  scaled(r, isOrig ? origEp(r) : respEp(r), isOrig, E_CHK, 0x43)
}

function initEndpoint(ep: usize, flags: i32, firstSeq: u32, lastSeqIn: u32): void {
  let lastSeq = lastSeqIn
  const st = epState(ep)
  if (st === TCP_INACTIVE) {
    if ((flags & SYN) !== 0) {
      store<u32>(ep + E_ACK, firstSeq)
      store<u32>(ep + E_START, firstSeq)
    } else {
      store<u32>(ep + E_ACK, firstSeq - 1)
      store<u32>(ep + E_START, firstSeq - 1)
      lastSeq = firstSeq
    }
    store<u32>(ep + E_LAST, lastSeq)
  } else if (st === TCP_SYN_SENT || st === TCP_SYN_ACK_SENT) {
    if ((flags & SYN) !== 0 && firstSeq !== startSeq(ep)) resetSeqs(ep, firstSeq, lastSeq)
  } else if (st === TCP_ESTABLISHED || st === TCP_PARTIAL) {
    if ((flags & SYN) !== 0) resetSeqs(ep, firstSeq, lastSeq)
  } else if (st === TCP_RESET) {
    if ((flags & SYN) !== 0 && epPrev(ep) === TCP_INACTIVE) resetSeqs(ep, firstSeq, lastSeq)
  }
}

function resetSeqs(ep: usize, first: u32, last: u32): void {
  store<u32>(ep + E_START, first)
  store<u32>(ep + E_ACK, first)
  store<u32>(ep + E_LAST, last)
}

let underflow: bool = false

function relativeSeq(ep: usize, cur: u32, last: u32, wrapsIn: i32): f64 {
  let wraps = wrapsIn
  const delta = seqDelta(cur, last)
  if (delta < 0) {
    if (wraps !== 0 && cur > last) --wraps
  } else if (delta > 0) {
    if (cur < last) ++wraps
  }
  if (wraps === 0) {
    const d = seqDelta(cur, startSeq(ep))
    if (d < 0) underflow = true
    return <f64>d
  }
  return toRelative(ep, cur, wraps)
}

function isClean(e: usize): bool {
  const s = epState(e)
  return s === TCP_ESTABLISHED || (s === TCP_CLOSED && epPrev(e) === TCP_ESTABLISHED)
}

function firstSeen(r: usize): i32 {
  return (load<i32>(r + C_FLAGS) & F_TCP_FIRST) >> F_TCP_FIRST_SHIFT
}

function setFirstSeen(r: usize, v: i32): void {
  const f = load<i32>(r + C_FLAGS)
  store<i32>(r + C_FLAGS, (f & ~F_TCP_FIRST) | ((v << F_TCP_FIRST_SHIFT) & F_TCP_FIRST))
}

function setPartial(r: usize, on: bool): void {
  const f = load<i32>(r + C_FLAGS)
  store<i32>(r + C_FLAGS, on ? f | F_TCP_PARTIAL : f & ~F_TCP_PARTIAL)
}

// @ts-ignore: decorator
@inline function isPartial(r: usize): bool {
  return (load<i32>(r + C_FLAGS) & F_TCP_PARTIAL) !== 0
}

export function setSynAckStart(r: usize): void {
  store<i32>(r + C_FLAGS, load<i32>(r + C_FLAGS) | F_TCP_SYNACK_START)
}

/**
 * One TCP packet (checksum verified) on connection row `r`. `len`: payload length per the IP
 * header; `captured`: payload bytes present in the capture.
 */
export function tcpPacket(r: usize, isOrigIn: bool, flags: i32, seq: u32, ack: u32, window: i32,
  len: i32, captured: i32, t: f64): void {
  let isOrig = isOrigIn
  if ((load<i32>(r + C_FLAGS) & F_TCP_SYNACK_START) !== 0 && (flags & (SYN | FIN | RST)) === 0 &&
    ((flags & ACK) !== 0 || len > 0) && epState(origEp(r)) === TCP_SYN_ACK_SENT && epState(respEp(r)) === TCP_INACTIVE) {
    flipRoles(r)
    isOrig = !isOrig
  }
  store<i32>(r + C_FLAGS, load<i32>(r + C_FLAGS) & ~F_TCP_SYNACK_START)
  const ep = isOrig ? origEp(r) : respEp(r)
  const peer = isOrig ? respEp(r) : origEp(r)

  // SetPartialStatus
  if (isOrig) {
    if ((firstSeen(r) & 1) === 0) setPartial(r, (flags & SYN) === 0 || (flags & ACK) !== 0)
  } else if ((firstSeen(r) & 2) === 0 && !isPartial(r)) {
    setPartial(r, (flags & SYN) === 0)
  }

  let segLen = len
  if ((flags & SYN) !== 0) segLen++
  if ((flags & FIN) !== 0) segLen++
  if ((flags & RST) !== 0) segLen -= len
  const onePast: u32 = seq + <u32>segLen

  initEndpoint(ep, flags, seq, onePast)
  underflow = false
  const relSeq = relativeSeq(ep, seq, load<u32>(ep + E_LAST), load<i32>(ep + E_SEQW))
  const seqUnderflow = underflow

  // update_history
  const bits = ((flags & SYN) !== 0 ? 1 : 0) + ((flags & FIN) !== 0 ? 1 : 0) + ((flags & RST) !== 0 ? 1 : 0)
  if (bits > 1) {
    if ((flags & FIN) !== 0 && (flags & RST) !== 0) endpointCheckHistory(r, isOrig, HIST_FIN_RST_PKT, 0x49) // I
    else endpointCheckHistory(r, isOrig, HIST_MULTI_FLAG_PKT, 0x51) // Q
  } else if (bits === 1) {
    if ((flags & SYN) !== 0) {
      const code = (flags & ACK) !== 0 ? 0x48 : 0x53 // H : S
      if (endpointCheckHistory(r, isOrig, HIST_SYN_PKT, code) && relSeq !== load<f64>(ep + E_HSYN)) addHistory(r, lower(code, isOrig))
      store<f64>(ep + E_HSYN, relSeq)
    }
    if ((flags & FIN) !== 0) {
      if (endpointCheckHistory(r, isOrig, HIST_FIN_PKT, 0x46) && relSeq + <f64>len !== load<f64>(ep + E_HFIN)) addHistory(r, lower(0x46, isOrig))
      store<f64>(ep + E_HFIN, relSeq + <f64>len)
    }
    if ((flags & RST) !== 0) {
      if (endpointCheckHistory(r, isOrig, HIST_RST_PKT, 0x52) && relSeq !== load<f64>(ep + E_HRST)) addHistory(r, lower(0x52, isOrig))
      store<f64>(ep + E_HRST, relSeq)
    }
  } else if (len !== 0) {
    endpointCheckHistory(r, isOrig, HIST_DATA_PKT, 0x44) // D
  } else if ((flags & ACK) !== 0) {
    endpointCheckHistory(r, isOrig, HIST_ACK_PKT, 0x41) // A
  }

  if (window === 0 && (flags & RST) === 0 && epState(peer) !== TCP_CLOSED && epState(ep) !== TCP_RESET) scaled(r, ep, isOrig, E_WIN0, 0x57)

  if (!didClose(origEp(r)) || !didClose(respEp(r))) store<f64>(r + C_LAST, t)

  if ((flags & FIN) !== 0) {
    store<i32>(ep + E_FINCNT, load<i32>(ep + E_FINCNT) + 1)
    store<f64>(ep + E_FINSEQ, relSeq + <f64>segLen)
  }
  if ((flags & RST) !== 0) store<i32>(ep + E_RSTCNT, load<i32>(ep + E_RSTCNT) + 1)

  let relAck: f64 = 0
  if ((flags & ACK) !== 0) {
    if (epState(peer) === TCP_INACTIVE) {
      relAck = 1
      const a: u32 = ack - 1
      store<u32>(peer + E_START, a)
      store<u32>(peer + E_ACK, a)
      store<u32>(peer + E_LAST, a)
    } else {
      underflow = false
      relAck = relativeSeq(peer, ack, load<u32>(peer + E_ACK), load<i32>(peer + E_ACKW))
      if (underflow) relAck = 0
      else if ((flags & RST) === 0) {
        const d = seqDelta(ack, load<u32>(peer + E_ACK))
        if (!(ack === 0 && d > TOO_LARGE_SEQ_DELTA) && d > 0) updateAckSeq(peer, ack)
      }
    }
  }

  // update_last_seq
  const deltaLast = seqDelta(onePast, load<u32>(ep + E_LAST))
  if ((flags & (SYN | RST)) !== 0 && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
    // untrusted
  } else if ((flags & FIN) !== 0 && load<u32>(ep + E_LAST) === startSeq(ep) + 1) {
    updateLastSeq(ep, onePast)
  } else if (epState(ep) === TCP_RESET) {
    // no trust in sequence numbers after a reset
  } else if (deltaLast > 0) {
    updateLastSeq(ep, onePast)
  } else if (len > 0) {
    scaled(r, ep, isOrig, E_RXMT, 0x54) // T
  }

  const close = updateStateMachine(r, ep, peer, seq, isOrig, flags, len, t)

  if ((flags & ACK) !== 0) {
    const missing = ackReceived(peer, relAck, isPartial(r))
    if (missing > 0 && isClean(peer) && isClean(peer === origEp(r) ? respEp(r) : origEp(r))) {
      const holes = load<i32>(peer + E_HOLES)
      const peerIsOrig = peer === origEp(r) // its role now: the state machine may have flipped them
      for (let h = 0; h < holes; h++) scaled(r, peer, peerIsOrig, E_GAP, 0x47) // G
      store<f64>(r + C_MISSED, load<f64>(r + C_MISSED) + missing)
    }
  }

  if (isOrig && (firstSeen(r) & 1) === 0) setFirstSeen(r, firstSeen(r) | 1)
  if (!isOrig && (firstSeen(r) & 2) === 0) setFirstSeen(r, firstSeen(r) | 2)

  const relDataSeq = (flags & SYN) !== 0 ? relSeq + 1 : relSeq
  if (len > 0 && captured >= len && (flags & RST) === 0 && !seqUnderflow) dataSent(ep, relDataSeq, <f64>len)

  if (close) connectionClosed(r, ep, peer)
}

function isHandshake(s: i32): bool {
  return s === TCP_INACTIVE || s === TCP_SYN_SENT || s === TCP_SYN_ACK_SENT
}

/** TCP_Endpoint::SetState: leaving the handshake switches to the TCP inactivity timeout. */
function setEndpointState(r: usize, e: usize, s: i32): void {
  const other = e === origEp(r) ? respEp(r) : origEp(r)
  const wasHandshake = isHandshake(epState(e)) && isHandshake(epState(other))
  setState(e, s)
  if (!isHandshake(s) && wasHandshake) store<f64>(r + C_INACT, tcpInactivity)
}

function updateStateMachine(r: usize, ep: usize, peer: usize, baseSeq: u32, isOrig: bool, flags: i32, len: i32, t: f64): bool {
  let doClose = false
  const st = epState(ep)
  if (st === TCP_INACTIVE) {
    if ((flags & SYN) !== 0) {
      if (isOrig) {
        setEndpointState(r, ep, (flags & ACK) !== 0 ? TCP_SYN_ACK_SENT : TCP_SYN_SENT)
        const a = t + attemptDelay
        if (a < load<f64>(r + C_ATTEMPT)) store<f64>(r + C_ATTEMPT, a)
      } else {
        if ((flags & ACK) !== 0) {
          // bad_SYN_ack: a weird only
        } else if (epState(peer) === TCP_SYN_ACK_SENT && baseSeq === startSeq(ep)) {
          // SYN/SYN-ACK reversal: flip and establish (states stay with the endpoint objects).
          setPartial(r, false)
          flipRoles(r)
          setState(peer, TCP_ESTABLISHED)
          setFirstSeen(r, firstSeen(r) | 1)
        }
        if (epState(peer) === TCP_SYN_SENT) setEndpointState(r, peer, TCP_ESTABLISHED)
        setEndpointState(r, ep, TCP_ESTABLISHED)
      }
    }
    if ((flags & FIN) !== 0) {
      setEndpointState(r, ep, TCP_CLOSED)
      doClose = true
    }
    if ((flags & RST) !== 0) {
      setEndpointState(r, ep, TCP_RESET)
      doClose = true
    }
    if (epState(ep) === TCP_INACTIVE) {
      if (!isOrig && len === 0 && epState(origEp(r)) === TCP_SYN_SENT) {
        // an eccentric TCP acking the SYN before answering it
      } else if ((flags & ACK) !== 0 && epState(peer) === TCP_ESTABLISHED) {
        setEndpointState(r, ep, TCP_ESTABLISHED)
        setPartial(r, false)
        setFirstSeen(r, firstSeen(r) | (isOrig ? 1 : 2))
      } else {
        setEndpointState(r, ep, TCP_PARTIAL)
      }
    }
  } else if (st === TCP_SYN_SENT || st === TCP_SYN_ACK_SENT) {
    if ((flags & FIN) !== 0) { setEndpointState(r, ep, TCP_CLOSED); doClose = true }
    if ((flags & RST) !== 0) { setEndpointState(r, ep, TCP_RESET); doClose = true }
  } else if (st === TCP_ESTABLISHED || st === TCP_PARTIAL) {
    if ((flags & SYN) !== 0 && epState(ep) === TCP_PARTIAL && epState(peer) === TCP_INACTIVE && (flags & ACK) === 0) {
      setEndpointState(r, ep, TCP_SYN_SENT)
    }
    if ((flags & FIN) !== 0 && (flags & RST) === 0) {
      setEndpointState(r, ep, TCP_CLOSED)
      if (epState(peer) === TCP_RESET && epPrev(peer) === TCP_CLOSED) setState(peer, TCP_CLOSED)
      doClose = true
    }
    if ((flags & RST) !== 0) { setEndpointState(r, ep, TCP_RESET); doClose = true }
  } else if (st === TCP_CLOSED) {
    if ((flags & RST) !== 0 && epState(peer) !== TCP_CLOSED) {
      setEndpointState(r, ep, TCP_RESET)
      if (!didClose(ep)) doClose = true
    }
  }
  return doClose
}

function connectionClosed(r: usize, ep: usize, peer: usize): void {
  if (didClose(ep)) return
  store<i32>(ep + E_FLAGS, load<i32>(ep + E_FLAGS) | EF_DID_CLOSE)
  const last = load<f64>(r + C_LAST)
  const complete = epState(ep) === TCP_RESET || didClose(peer) || epState(peer) === TCP_INACTIVE
  if (complete) {
    store<f64>(r + C_ATTEMPT, Infinity)
    store<f64>(r + C_EXPIRE, Infinity)
    store<f64>(r + C_PCLOSE, Infinity)
    store<f64>(r + C_DELETE, last + closeDelay)
  } else if (epPrev(ep) === TCP_INACTIVE) {
    store<f64>(r + C_PCLOSE, last + partialCloseDelay)
  } else {
    const e = last + sessionTimer
    if (e < load<f64>(r + C_EXPIRE)) store<f64>(r + C_EXPIRE, e)
  }
}

/** Zeek's TCPSessionAdapter::IsReuse for a SYN arriving on an existing connection. */
export function tcpIsReuse(r: usize, flags: i32, seq: u32): bool {
  if ((flags & SYN) === 0) return false
  const o = origEp(r)
  const rp = respEp(r)
  let connOrig = o
  if ((flags & ACK) !== 0) {
    if (epState(o) !== TCP_INACTIVE) return false
    connOrig = rp
  }
  if (!(didClose(o) || didClose(rp))) {
    if (seq === startSeq(connOrig)) return false
    if ((flags & ACK) === 0 && epState(connOrig) === TCP_SYN_ACK_SENT && epState(rp) === TCP_INACTIVE &&
      seq === startSeq(rp)) return false
  }
  return true
}

/** Timer checks at packet time `t`; true when the connection must be removed now. */
export function tcpTimersExpired(r: usize, t: f64): bool {
  const o = origEp(r)
  const rp = respEp(r)
  if (load<f64>(r + C_DELETE) <= t) return true
  if (load<f64>(r + C_ATTEMPT) <= t) {
    store<f64>(r + C_ATTEMPT, Infinity)
    if ((epState(o) === TCP_SYN_SENT || epState(o) === TCP_SYN_ACK_SENT) && epState(rp) === TCP_INACTIVE) return true
  }
  if (load<f64>(r + C_PCLOSE) <= t) {
    store<f64>(r + C_PCLOSE, Infinity)
    if (epState(o) !== TCP_INACTIVE && epState(rp) !== TCP_INACTIVE && (!didClose(o) || !didClose(rp)) &&
      epState(o) !== TCP_RESET && epState(rp) !== TCP_RESET) return true
  }
  if (load<f64>(r + C_EXPIRE) <= t) {
    store<f64>(r + C_EXPIRE, t + sessionTimer)
    if (load<f64>(r + C_LAST) + connectionLinger < t) {
      if (didClose(o) || didClose(rp)) {
        if ((didClose(o) && didClose(rp)) || epState(o) === TCP_RESET || epState(rp) === TCP_RESET ||
          epState(o) === TCP_INACTIVE || epState(rp) === TCP_INACTIVE) return true
      }
      if (epState(rp) === TCP_INACTIVE && epState(o) === TCP_INACTIVE) return true
    }
  }
  return false
}

/** Both endpoints closed by a FIN. */
export function tcpEnded(r: usize): bool {
  const o = origEp(r)
  const rp = respEp(r)
  return epState(o) === TCP_CLOSED && epState(rp) === TCP_CLOSED && load<i32>(o + E_FINCNT) > 0 && load<i32>(rp + E_FINCNT) > 0
}

