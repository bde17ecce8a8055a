/*
 * The flow table over connection rows: canonical-key index (open addressing, backward-shift
 * deletion), timer heap in packet time, least-recently-active eviction at the cap, interim
 * records, flush. A port of agent/flow/flow-table.ts (same emission order: the differential
 * test compares the two record by record).
 */
import {
  allocSlot, checkHistory, flipRoles, grown, releaseSlot, rowOf, slotOf,
} from './conn-row'
import {
  activeTimeout, handshakeInactivity, icmpTimeout, maxFlows, otherTimeout, synTimeout, udpTimeout,
} from './config'
import {
  C_ATTEMPT, C_DELETE, C_EXPIRE, C_FLAGS, C_GEN, C_HASH, C_HIST, C_HLEN, C_IFACE, C_INACT, C_INTERIM, C_IPPROTO,
  C_IVLAN, C_KA, C_KB, C_KPROTO, C_LAST, C_LIVE, C_LRUN, C_LRUP, C_MISSED, C_NEXT, C_OIPB, C_OLEN, C_OMAC, C_OPKTS,
  C_OPORT, C_PA, C_PB, C_PCLOSE, C_RIPB, C_RLEN, C_RMAC, C_RPKTS, C_RPORT, C_START, C_TOUCH, C_TPARENT, C_VLAN,
  F_ORIG_ACTIVE, F_ORIG_IS_A, F_RESP_ACTIVE, F_TCP, F_V6, HIST_CAP, R_HIST, R_HLEN, R_IFACE, R_IPPROTO, R_IVLAN,
  R_LAST, R_MISSED, R_OADDR, R_OBYTES, R_OIPB, R_OMAC, R_OPKTS, R_OPORT, R_RADDR, R_RBYTES, R_RIPB, R_RMAC,
  R_RPKTS, R_RPORT, R_SLOT, R_STATE, R_TPARENT, R_TS, R_V6, R_VLAN, REC_BYTES, R_LOCAL, R_ULEN, R_UID, C_ULEN, C_UID,
  UID_CAP,
} from './layout'
import { writeConnLine, writerOn } from './conn-log-line'
import { isLocal } from './local-nets'
import { ensureUid } from './uid'
import {
  L4_BAD_CHECKSUM, L4_OTHER, pAck, pBroadcastDst, pDMac, pDport, pDst, pFlags, pIcmpC, pIcmpT, pIface, pIVlan,
  pL4, pL4Cap, pL4Len, pPlen, pProto, pSeq, pSMac, pSport, pSrc, pTotal, pTParent, pThl, pV6, pVlan, pWin,
} from './packet'
import {
  epSize, epState, initTcp, origEp, respEp, setSynAckStart, tcpBadChecksum, tcpIsReuse, tcpPacket, tcpTimersExpired,
  TCP_CLOSED, TCP_ESTABLISHED, TCP_INACTIVE, TCP_PARTIAL, TCP_RESET, TCP_SYN_ACK_SENT, TCP_SYN_SENT,
} from './tcp-state'

/**
 * The host takes the record from the record area (recPtr()); reasons as REASON_* in the host.
 * `flags`: EMIT_INTERIM, EMIT_WRITTEN (the core wrote its conn.log row; the host only needs
 * what it keeps besides, e.g. the host inventory).
 */
@external("env", "emit")
declare function emitRecord(reason: i32, flags: i32): void
const EMIT_INTERIM: i32 = 1
const EMIT_WRITTEN: i32 = 2
/** With the core writing conn.log: whether the host wants the written records too. */
let notifyWritten: bool = true

export function setNotifyWritten(on: bool): void {
  notifyWritten = on
}
/** A connection holding a tunnel parent id was created (+1) or released (-1). */
@external("env", "parentRef")
declare function parentRef(id: i32, delta: i32): void

const REASON_END: i32 = 0
const REASON_INACTIVE: i32 = 1
const REASON_ACTIVE_TIMEOUT: i32 = 2
const REASON_EVICTED: i32 = 3
const REASON_FLUSH: i32 = 4

/** conn_state codes (the host's CONN_STATES order); 13 = RSTOS0 or OTH, decided on the whole history. */
const S_S0: i32 = 0
const S_S1: i32 = 1
const S_SF: i32 = 2
const S_REJ: i32 = 3
const S_S2: i32 = 4
const S_S3: i32 = 5
const S_RSTO: i32 = 6
const S_RSTR: i32 = 7
const S_RSTRH: i32 = 9
const S_SH: i32 = 10
const S_SHR: i32 = 11
const S_OTH: i32 = 12
const S_RSTOS0_OR_OTH: i32 = 13

export const REC: usize = memory.data(REC_BYTES, 16)

// ---- counters ----
export let created: f64 = 0
export let emitted: f64 = 0
export let evicted: f64 = 0
export let interim: f64 = 0
export let reused: f64 = 0
export let tracked: f64 = 0
export let live: i32 = 0
let touchSeq: f64 = 0

// ---- key scratch ----
const KEY: usize = memory.data(32, 16) // A (16 bytes), B (16 bytes)
let kProto: i32 = 0
let kPa: i32 = 0
let kPb: i32 = 0
let kHash: i32 = 0
let kSrcIsA: bool = true
let kSport: i32 = 0
let kDport: i32 = 0

function mix(h: i32, v: i32): i32 {
  const x = (h ^ v) * <i32>0x9e3779b1
  return (x << 13) | (x >>> 19)
}

function icmpCounterpart(proto: i32, type: i32): i32 {
  if (proto === 1) {
    switch (type) {
      case 8: return 0
      case 0: return 8
      case 13: return 14
      case 14: return 13
      case 15: return 16
      case 16: return 15
      case 10: return 9
      case 9: return 10
      case 17: return 18
      case 18: return 17
    }
    return -1
  }
  switch (type) {
    case 128: return 129
    case 129: return 128
    case 130: return 131
    case 131: return 130
    case 133: return 134
    case 134: return 133
    case 135: return 136
    case 136: return 135
    case 139: return 140
    case 140: return 139
    case 144: return 145
    case 145: return 144
  }
  return -1
}

function buildKey(sport: i32, dport: i32): void {
  const n: i32 = pV6 ? 16 : 4
  kSport = sport
  kDport = dport
  let cmp: i32 = 0
  for (let i = 0; i < n; i++) {
    const x = <i32>load<u8>(pSrc + <usize>i) - <i32>load<u8>(pDst + <usize>i)
    if (x !== 0) { cmp = x; break }
  }
  if (cmp === 0) cmp = sport - dport
  kSrcIsA = cmp <= 0
  const a = kSrcIsA ? pSrc : pDst
  const b = kSrcIsA ? pDst : pSrc
  kProto = pProto | (pV6 ? 0x100 : 0)
  kPa = kSrcIsA ? sport : dport
  kPb = kSrcIsA ? dport : sport
  let h = mix(0x1234567 ^ kProto, (kPa << 16) | kPb)
  if (n === 4) {
    store<u64>(KEY, <u64>load<u32>(a))
    store<u64>(KEY + 8, 0)
    store<u64>(KEY + 16, <u64>load<u32>(b))
    store<u64>(KEY + 24, 0)
    h = mix(mix(h, load<i32>(a)), load<i32>(b))
  } else {
    memory.copy(KEY, a, 16)
    memory.copy(KEY + 16, b, 16)
    for (let i: usize = 0; i < 16; i += 4) h = mix(h, load<i32>(a + i))
    for (let i: usize = 0; i < 16; i += 4) h = mix(h, load<i32>(b + i))
  }
  h ^= h >>> 16
  kHash = h & 0x3fffffff
}

function keyEquals(r: usize): bool {
  return load<i32>(r + C_PA) === kPa && load<i32>(r + C_PB) === kPb && load<i32>(r + C_KPROTO) === kProto &&
    load<u64>(r + C_KA) === load<u64>(KEY) && load<u64>(r + C_KB) === load<u64>(KEY + 16) &&
    load<u64>(r + C_KA + 8) === load<u64>(KEY + 8) && load<u64>(r + C_KB + 8) === load<u64>(KEY + 24)
}

// ---- index: entries of (hash, slot), -1 = empty ----
let ents: usize = 0
let imask: i32 = 0
let icount: i32 = 0

function indexInit(capacity: i32): void {
  ents = heap.alloc(<usize>capacity << 3)
  memory.fill(ents, 0xff, <usize>capacity << 3)
  imask = capacity - 1
}

function indexFind(): i32 {
  let i = kHash & imask
  let e = load<i32>(ents + (<usize>i << 3))
  while (e !== -1) {
    if (e === kHash) {
      const s = load<i32>(ents + (<usize>i << 3) + 4)
      if (keyEquals(rowOf(s))) return s
    }
    i = (i + 1) & imask
    e = load<i32>(ents + (<usize>i << 3))
  }
  return -1
}

function indexPlace(h: i32, slot: i32): void {
  let i = h & imask
  while (load<i32>(ents + (<usize>i << 3)) !== -1) i = (i + 1) & imask
  store<i32>(ents + (<usize>i << 3), h)
  store<i32>(ents + (<usize>i << 3) + 4, slot)
}

function indexInsert(h: i32, slot: i32): void {
  if ((icount + 1) * 2 > imask + 1) {
    const old = ents
    const oldCap = imask + 1
    indexInit(oldCap * 2)
    for (let i = 0; i < oldCap; i++) {
      const e = load<i32>(old + (<usize>i << 3))
      if (e !== -1) indexPlace(e, load<i32>(old + (<usize>i << 3) + 4))
    }
    heap.free(old)
  }
  indexPlace(h, slot)
  icount++
}

function indexDelete(h: i32, slot: i32): void {
  let i = h & imask
  for (;;) {
    const e = load<i32>(ents + (<usize>i << 3))
    if (e === -1) return
    if (load<i32>(ents + (<usize>i << 3) + 4) === slot) break
    i = (i + 1) & imask
  }
  icount--
  let j = i
  for (;;) {
    j = (j + 1) & imask
    const e = load<i32>(ents + (<usize>j << 3))
    if (e === -1) break
    const home = e & imask
    const stays = i <= j ? (home > i && home <= j) : (home > i || home <= j)
    if (!stays) {
      store<i32>(ents + (<usize>i << 3), e)
      store<i32>(ents + (<usize>i << 3) + 4, load<i32>(ents + (<usize>j << 3) + 4))
      i = j
    }
  }
  store<i64>(ents + (<usize>i << 3), -1)
}

// ---- timer heap: entries of (time f64, slot i32, generation i32) ----
let heapPtr: usize = 0
let heapCap: i32 = 0
let heapSize: i32 = 0

function heapPush(t: f64, slot: i32, gen: i32): void {
  if (heapSize === heapCap) {
    heapCap = heapCap === 0 ? 1024 : heapCap * 2
    heapPtr = grown(heapPtr, <usize>heapCap << 4)
  }
  let i = heapSize++
  while (i > 0) {
    const p = (i - 1) >> 1
    const pe = heapPtr + (<usize>p << 4)
    if (load<f64>(pe) <= t) break
    moveEntry(heapPtr + (<usize>i << 4), pe)
    i = p
  }
  const e = heapPtr + (<usize>i << 4)
  store<f64>(e, t)
  store<i32>(e + 8, slot)
  store<i32>(e + 12, gen)
}

/** Two 8-byte moves: memory.copy is a call out of the compiled code, for 16 bytes. */
// @ts-ignore: decorator
@inline function moveEntry(to: usize, from: usize): void {
  store<u64>(to, load<u64>(from))
  store<u64>(to + 8, load<u64>(from + 8))
}

// @ts-ignore: decorator
@inline function heapPeek(): f64 {
  return heapSize > 0 ? load<f64>(heapPtr) : Infinity
}

let popSlot: i32 = 0
let popGen: i32 = 0

function heapPop(): void {
  popSlot = load<i32>(heapPtr + 8)
  popGen = load<i32>(heapPtr + 12)
  const n = heapSize
  const m = n - 1
  heapSize = m
  if (m === 0) return
  const lastE = heapPtr + (<usize>m << 4)
  const lastT = load<f64>(lastE)
  const lastS = load<i32>(lastE + 8)
  const lastG = load<i32>(lastE + 12)
  let i = 0
  for (;;) {
    const l = 2 * i + 1
    if (l >= m) break
    const rr = l + 1
    const c = rr < m && load<f64>(heapPtr + (<usize>rr << 4)) < load<f64>(heapPtr + (<usize>l << 4)) ? rr : l
    if (load<f64>(heapPtr + (<usize>c << 4)) >= lastT) break
    moveEntry(heapPtr + (<usize>i << 4), heapPtr + (<usize>c << 4))
    i = c
  }
  const e = heapPtr + (<usize>i << 4)
  store<f64>(e, lastT)
  store<i32>(e + 8, lastS)
  store<i32>(e + 12, lastG)
}

// ---- least-recently-active list (slot + 1, 0 = none), linked only near the cap ----
let lruOn: bool = false
let lruHead: i32 = 0
let lruTail: i32 = 0

function lruAppend(slot: i32): void {
  const r = rowOf(slot)
  store<i32>(r + C_LRUP, lruTail)
  store<i32>(r + C_LRUN, 0)
  if (lruTail !== 0) store<i32>(rowOf(lruTail - 1) + C_LRUN, slot + 1)
  else lruHead = slot + 1
  lruTail = slot + 1
}

function lruUnlink(slot: i32): void {
  const r = rowOf(slot)
  const p = load<i32>(r + C_LRUP)
  const n = load<i32>(r + C_LRUN)
  if (p !== 0) store<i32>(rowOf(p - 1) + C_LRUN, n)
  else if (lruHead === slot + 1) lruHead = n
  if (n !== 0) store<i32>(rowOf(n - 1) + C_LRUP, p)
  else if (lruTail === slot + 1) lruTail = p
  store<i32>(r + C_LRUP, 0)
  store<i32>(r + C_LRUN, 0)
}

function lruTouch(slot: i32): void {
  if (lruTail === slot + 1) return
  lruUnlink(slot)
  lruAppend(slot)
}

/** Live slots, least recently active first, into a fresh block of `live` i32 (caller frees). */
function byRecency(): usize {
  const n = live
  const cnt: i32 = n > 0 ? n : 1
  // (stamp, slot) pairs gathered once, then sorted where they lie: the rows are read n times,
  // not n log n times at random (a heap sort over the rows was ~3 % of a replay, in cache misses).
  const pairs = heap.alloc(<usize>cnt << 4)
  let k = 0
  const cap = imask + 1
  for (let i = 0; i < cap; i++) {
    if (load<i32>(ents + (<usize>i << 3)) !== -1) {
      const slot = load<i32>(ents + (<usize>i << 3) + 4)
      const e = pairs + (<usize>(k++) << 4)
      store<f64>(e, load<f64>(rowOf(slot) + C_TOUCH))
      store<i32>(e + 8, slot)
    }
  }
  // Heapsort by stamp (stamps are distinct: any correct sort gives the one order).
  for (let start = (k >> 1) - 1; start >= 0; start--) siftDown(pairs, start, k)
  for (let end = k - 1; end > 0; end--) {
    swapPairs(pairs, 0, end)
    siftDown(pairs, 0, end)
  }
  const out = heap.alloc(<usize>cnt << 2)
  for (let i = 0; i < k; i++) store<i32>(out + (<usize>i << 2), load<i32>(pairs + (<usize>i << 4) + 8))
  heap.free(pairs)
  return out
}

// @ts-ignore: decorator
@inline function swapPairs(pairs: usize, i: i32, j: i32): void {
  const a = pairs + (<usize>i << 4)
  const b = pairs + (<usize>j << 4)
  const x = load<u64>(a)
  const y = load<u64>(a + 8)
  store<u64>(a, load<u64>(b))
  store<u64>(a + 8, load<u64>(b + 8))
  store<u64>(b, x)
  store<u64>(b + 8, y)
}

function siftDown(pairs: usize, startIn: i32, n: i32): void {
  let i = startIn
  for (;;) {
    let c = 2 * i + 1
    if (c >= n) return
    if (c + 1 < n && load<f64>(pairs + (<usize>(c + 1) << 4)) > load<f64>(pairs + (<usize>c << 4))) c++
    if (load<f64>(pairs + (<usize>i << 4)) >= load<f64>(pairs + (<usize>c << 4))) return
    swapPairs(pairs, i, c)
    i = c
  }
}

function linkLru(): void {
  lruOn = true
  lruHead = 0
  lruTail = 0
  const order = byRecency()
  const n = live
  for (let i = 0; i < n; i++) lruAppend(load<i32>(order + (<usize>i << 2)))
  heap.free(order)
}

function unlinkLru(): void {
  lruOn = false
  let s = lruHead
  while (s !== 0) {
    const r = rowOf(s - 1)
    const next = load<i32>(r + C_LRUN)
    store<i32>(r + C_LRUP, 0)
    store<i32>(r + C_LRUN, 0)
    s = next
  }
  lruHead = 0
  lruTail = 0
}

// ---- lifecycle ----
export function init(): void {
  indexInit(1024)
}

function isTcp(r: usize): bool {
  return (load<i32>(r + C_FLAGS) & F_TCP) !== 0
}

function dueTime(r: usize): f64 {
  let due = load<f64>(r + C_LAST) + load<f64>(r + C_INACT)
  if (isTcp(r)) {
    const d = load<f64>(r + C_DELETE)
    if (d < due) due = d
    const a = load<f64>(r + C_ATTEMPT)
    if (a < due) due = a
    const p = load<f64>(r + C_PCLOSE)
    if (p < due) due = p
    const e = load<f64>(r + C_EXPIRE)
    if (e < due) due = e
  }
  return due
}

function expired(r: usize, t: f64): bool {
  if (load<f64>(r + C_LAST) + load<f64>(r + C_INACT) <= t) return true
  return isTcp(r) && tcpTimersExpired(r, t)
}

/** Whether advance(t) has anything to do (its first test, for the record loop to skip the call). */
// @ts-ignore: decorator
@inline export function timerDue(t: f64): bool {
  return heapPeek() <= t
}

/** Fire every timer due at or before packet time `t`. */
export function advance(t: f64): void {
  while (heapPeek() <= t) {
    heapPop()
    const slot = popSlot
    const r = rowOf(slot)
    if (load<i32>(r + C_LIVE) === 0 || load<i32>(r + C_GEN) !== popGen) continue
    const due = dueTime(r)
    if (due > t) {
      if (due !== Infinity) heapPush(due, slot, popGen)
      store<f64>(r + C_NEXT, due)
      continue
    }
    if (expired(r, t)) {
      remove(slot, REASON_INACTIVE)
      continue
    }
    const next = dueTime(r)
    store<f64>(r + C_NEXT, next)
    if (next !== Infinity) heapPush(next, slot, popGen)
  }
}

function connState(r: usize): i32 {
  if (isTcp(r)) {
    const o = origEp(r)
    const p = respEp(r)
    const os = epState(o)
    const rs = epState(p)
    const oInactive = os === TCP_INACTIVE || os === TCP_PARTIAL
    const rInactive = rs === TCP_INACTIVE || rs === TCP_PARTIAL
    if (rs === TCP_RESET) {
      if (os === TCP_SYN_SENT || os === TCP_SYN_ACK_SENT ||
        (os === TCP_RESET && epSize(o, rs) === 0 && epSize(p, os) === 0)) return S_REJ
      if (oInactive) return S_RSTRH
      return S_RSTR
    }
    if (os === TCP_RESET) {
      if (rInactive) return S_RSTOS0_OR_OTH
      return S_RSTO
    }
    if (rs === TCP_CLOSED && os === TCP_CLOSED) return S_SF
    if (os === TCP_CLOSED) return rInactive ? S_SH : S_S2
    if (rs === TCP_CLOSED) return oInactive ? S_SHR : S_S3
    if (os === TCP_SYN_SENT && rs === TCP_INACTIVE) return S_S0
    if (os === TCP_ESTABLISHED && rs === TCP_ESTABLISHED) return S_S1
    return S_OTH
  }
  if (load<i32>(r + C_IPPROTO) === 17) {
    const f = load<i32>(r + C_FLAGS)
    if ((f & F_ORIG_ACTIVE) !== 0) return (f & F_RESP_ACTIVE) !== 0 ? S_SF : S_S0
    return (f & F_RESP_ACTIVE) !== 0 ? S_SHR : S_OTH
  }
  return S_OTH
}

/** Zeek's RSTOS0 history test, /^\^?S[^HAFGIQ]*R/, on the letters the row keeps. */
function rstos0History(r: usize, n: i32): bool {
  let i = 0
  if (n > 0 && load<u8>(r + C_HIST) === 0x5e) i = 1
  if (i >= n || load<u8>(r + C_HIST + <usize>i) !== 0x53) return false
  for (i++; i < n; i++) {
    const c = load<u8>(r + C_HIST + <usize>i)
    if (c === 0x52) return true
    if (c === 0x48 || c === 0x41 || c === 0x46 || c === 0x47 || c === 0x49 || c === 0x51) return false
  }
  return false
}

function emitConn(r: usize, reason: i32, isInterim: bool): void {
  const start = load<f64>(r + C_START)
  const last = load<f64>(r + C_LAST)
  const hasDuration = last - start > 0
  let ob: f64 = -1
  let rb: f64 = -1
  if (hasDuration) {
    if (isTcp(r)) {
      ob = epSize(origEp(r), epState(respEp(r)))
      rb = epSize(respEp(r), epState(origEp(r)))
    } else {
      ob = load<f64>(r + C_OLEN)
      rb = load<f64>(r + C_RLEN)
    }
  }
  const hlen = load<i32>(r + C_HLEN)
  let state = connState(r)
  // Decided here unless the row's letters are not all of the history (the host has the rest).
  if (state === S_RSTOS0_OR_OTH && hlen <= HIST_CAP) state = rstos0History(r, hlen) ? 8 : S_OTH
  const f = load<i32>(r + C_FLAGS)
  const v6 = (f & F_V6) !== 0
  const origIsA = (f & F_ORIG_IS_A) !== 0
  const oaddr = r + (origIsA ? C_KA : C_KB)
  const raddr = r + (origIsA ? C_KB : C_KA)
  const localOrig = isLocal(oaddr, v6)
  const localResp = isLocal(raddr, v6)
  ensureUid(r)
  const missed = load<f64>(r + C_MISSED)
  let flags = isInterim ? EMIT_INTERIM : 0
  if (writerOn && writeConnLine(r, start, last, ob, rb, missed, state, localOrig, localResp, oaddr, raddr, v6)) {
    if (!notifyWritten) return
    flags |= EMIT_WRITTEN
  }
  store<f64>(REC + R_TS, start)
  store<f64>(REC + R_LAST, last)
  store<f64>(REC + R_OBYTES, ob)
  store<f64>(REC + R_RBYTES, rb)
  store<f64>(REC + R_MISSED, missed)
  store<f64>(REC + R_OPKTS, load<f64>(r + C_OPKTS))
  store<f64>(REC + R_OIPB, load<f64>(r + C_OIPB))
  store<f64>(REC + R_RPKTS, load<f64>(r + C_RPKTS))
  store<f64>(REC + R_RIPB, load<f64>(r + C_RIPB))
  store<f64>(REC + R_OMAC, load<f64>(r + C_OMAC))
  store<f64>(REC + R_RMAC, load<f64>(r + C_RMAC))
  store<i32>(REC + R_OPORT, load<i32>(r + C_OPORT))
  store<i32>(REC + R_RPORT, load<i32>(r + C_RPORT))
  store<i32>(REC + R_IPPROTO, load<i32>(r + C_IPPROTO))
  store<i32>(REC + R_STATE, state)
  store<i32>(REC + R_VLAN, load<i32>(r + C_VLAN))
  store<i32>(REC + R_IVLAN, load<i32>(r + C_IVLAN))
  store<i32>(REC + R_V6, v6 ? 1 : 0)
  store<i32>(REC + R_IFACE, load<i32>(r + C_IFACE))
  store<i32>(REC + R_TPARENT, load<i32>(r + C_TPARENT))
  store<i32>(REC + R_HLEN, hlen)
  store<i32>(REC + R_SLOT, slotOf(r))
  store<i32>(REC + R_LOCAL, (localOrig ? 1 : 0) | (localResp ? 2 : 0))
  memory.copy(REC + R_OADDR, oaddr, 16)
  memory.copy(REC + R_RADDR, raddr, 16)
  memory.copy(REC + R_HIST, r + C_HIST, <usize>(hlen < HIST_CAP ? hlen : HIST_CAP))
  const ulen = load<u8>(r + C_ULEN)
  store<i32>(REC + R_ULEN, ulen)
  memory.copy(REC + R_UID, r + C_UID, <usize>ulen)
  emitRecord(reason, flags)
}

/** Writes the uid of the live connection in `slot` (drawn now if it had none) at `to`; returns its length. */
export function uidOf(slot: i32, to: usize): i32 {
  const r = rowOf(slot)
  ensureUid(r)
  const n = <i32>load<u8>(r + C_ULEN)
  memory.copy(to, r + C_UID, <usize>(n < UID_CAP ? n : UID_CAP))
  return n
}

function remove(slot: i32, reason: i32): void {
  const r = rowOf(slot)
  if (load<i32>(r + C_LIVE) === 0) return
  indexDelete(load<i32>(r + C_HASH), slot)
  live--
  if (lruOn) {
    lruUnlink(slot)
    if (live <= (maxFlows >> 1)) unlinkLru()
  }
  emitted++
  emitConn(r, reason, false)
  const tp = load<i32>(r + C_TPARENT)
  releaseSlot(slot)
  if (tp !== 0) parentRef(tp, -1)
}

/** Emit and drop every tracked connection (end of capture, shutdown), least recently active first. */
export function flushAll(): void {
  const n = live
  const order = byRecency()
  for (let i = 0; i < n; i++) remove(load<i32>(order + (<usize>i << 2)), REASON_FLUSH)
  heap.free(order)
  heapSize = 0
}

function isLikelyServerPort(port: i32, tcp: bool): bool {
  if (tcp) {
    switch (port) {
      case 21: case 2811: case 22: case 25: case 587: case 53: case 80: case 81: case 631: case 1080: case 3128:
      case 8000: case 8080: case 8888: case 88: case 110: case 135: case 139: case 445: case 143: case 443:
      case 563: case 585: case 614: case 636: case 989: case 990: case 992: case 993: case 995: case 5223:
      case 502: case 1433: case 3306: case 1723: case 3389: case 5060: case 5061: case 5222: case 5269:
      case 5900: case 5901: case 5902: case 5903: case 5904: case 5905: case 5906: case 5907: case 5908:
      case 5909: case 20000: case 1812: case 6379: case 11211:
        return true
    }
    return false
  }
  switch (port) {
    case 53: case 137: case 5353: case 5355: case 67: case 69: case 88: case 123: case 161: case 162: case 500:
    case 4500: case 514: case 1812: case 1813: case 1900: case 3544: case 4789: case 5060: case 5246: case 5247:
    case 2152: case 2123: case 47808:
      return true
  }
  return false
}

function create(t: f64): i32 {
  if (live >= maxFlows) {
    if (!lruOn) linkLru()
    if (lruHead !== 0) {
      evicted++
      remove(lruHead - 1, REASON_EVICTED)
    }
  }
  const slot = allocSlot()
  const r = rowOf(slot)
  store<i32>(r + C_KPROTO, kProto)
  store<i32>(r + C_PA, kPa)
  store<i32>(r + C_PB, kPb)
  store<i32>(r + C_HASH, kHash)
  memory.copy(r + C_KA, KEY, 32)
  store<i32>(r + C_FLAGS, (kSrcIsA ? F_ORIG_IS_A : 0) | (pV6 ? F_V6 : 0))
  store<i32>(r + C_IPPROTO, pProto)
  store<i32>(r + C_OPORT, kSport)
  store<i32>(r + C_RPORT, kDport)
  store<f64>(r + C_START, t)
  store<f64>(r + C_LAST, t)
  store<i32>(r + C_VLAN, pVlan)
  store<i32>(r + C_IVLAN, pIVlan)
  store<i32>(r + C_IFACE, pIface)
  store<f64>(r + C_OMAC, pSMac)
  store<f64>(r + C_RMAC, pDMac)
  store<f64>(r + C_NEXT, Infinity)
  store<f64>(r + C_EXPIRE, Infinity)
  store<f64>(r + C_ATTEMPT, Infinity)
  store<f64>(r + C_PCLOSE, Infinity)
  store<f64>(r + C_DELETE, Infinity)
  if (pTParent !== 0) {
    store<i32>(r + C_TPARENT, pTParent)
    parentRef(pTParent, 1)
  }
  const proto = pProto
  if (proto === 6) {
    initTcp(r)
    store<f64>(r + C_INACT, handshakeInactivity)
    store<f64>(r + C_EXPIRE, t + synTimeout)
    const f = pFlags
    if (pL4 !== L4_BAD_CHECKSUM && ((f & 0x02) === 0 || (f & 0x10) !== 0)) {
      let flip = false
      if (isLikelyServerPort(kSport, true)) {
        flip = isLikelyServerPort(kDport, true) ? ((f & 0x02) === 0 && kSport < kDport) : true
      }
      if (flip) flipRoles(r)
      else if ((f & 0x02) !== 0 && (f & 0x10) !== 0) setSynAckStart(r)
    }
  } else if (proto === 17) {
    store<f64>(r + C_INACT, udpTimeout)
    if (isLikelyServerPort(kSport, false) && !isLikelyServerPort(kDport, false) && !pBroadcastDst) flipRoles(r)
  } else if (proto === 1 || proto === 58) {
    store<f64>(r + C_INACT, icmpTimeout)
  } else {
    store<f64>(r + C_INACT, otherTimeout)
  }
  indexInsert(kHash, slot)
  live++
  store<f64>(r + C_TOUCH, ++touchSeq)
  if (lruOn) lruAppend(slot)
  created++
  const due = dueTime(r)
  store<f64>(r + C_NEXT, due)
  heapPush(due, slot, load<i32>(r + C_GEN))
  return slot
}

/** Packets and IP bytes of one direction (Zeek's ConnSize). */
// @ts-ignore: decorator
@inline function countPacket(r: usize, isOrig: bool): void {
  const pk = isOrig ? C_OPKTS : C_RPKTS
  const ib = isOrig ? C_OIPB : C_RIPB
  store<f64>(r + pk, load<f64>(r + pk) + 1)
  store<f64>(r + ib, load<f64>(r + ib) + <f64>pTotal)
}

function account(r: usize, isOrig: bool, t: f64): void {
  tracked++
  const proto = pProto
  if (proto === 6) {
    if (pL4 === L4_BAD_CHECKSUM) { tcpBadChecksum(r, isOrig); return }
    countPacket(r, isOrig)
    let captured = pL4Cap - pThl
    if (pPlen < captured) captured = pPlen
    if (captured < 0) captured = 0
    tcpPacket(r, isOrig, pFlags, pSeq, pAck, pWin, pPlen, captured, t)
    const due = dueTime(r)
    if (due < load<f64>(r + C_NEXT)) {
      store<f64>(r + C_NEXT, due)
      heapPush(due, slotOf(r), load<i32>(r + C_GEN))
    }
    return
  }
  countPacket(r, isOrig)
  if (pL4 === L4_BAD_CHECKSUM) {
    checkHistory(r, isOrig ? 0x4 : 0x8, isOrig ? 0x43 : 0x63)
    return
  }
  store<f64>(r + C_LAST, t)
  let len: f64 = <f64>pPlen
  if (proto === 17) {
    checkHistory(r, isOrig ? 0x1 : 0x2, isOrig ? 0x44 : 0x64)
  } else if (pL4 === L4_OTHER) {
    len = <f64>pL4Len
  }
  if (isOrig) {
    store<f64>(r + C_OLEN, load<f64>(r + C_OLEN) + len)
    store<i32>(r + C_FLAGS, load<i32>(r + C_FLAGS) | F_ORIG_ACTIVE)
  } else {
    store<f64>(r + C_RLEN, load<f64>(r + C_RLEN) + len)
    store<i32>(r + C_FLAGS, load<i32>(r + C_FLAGS) | F_RESP_ACTIVE)
  }
}

/**
 * Account the packet in the packet fields (packet.ts) at time `t`; returns its connection's
 * slot (the host asks for the uid of a tunnel's outer connection by slot).
 */
export function packet(t: f64): i32 {
  const proto = pProto
  if (proto === 1 || proto === 58) {
    const cp = icmpCounterpart(proto, pIcmpT)
    buildKey(pIcmpT, cp >= 0 ? cp : pIcmpC)
  } else if (proto === 6 || proto === 17) {
    buildKey(pSport, pDport)
  } else {
    buildKey(0, 0)
  }
  let slot = indexFind()
  if (slot >= 0 && proto === 6 && pL4 !== L4_BAD_CHECKSUM && tcpIsReuse(rowOf(slot), pFlags, pSeq)) {
    reused++
    remove(slot, REASON_END)
    slot = -1
  }
  if (slot < 0) {
    slot = create(t)
  } else {
    store<f64>(rowOf(slot) + C_TOUCH, ++touchSeq)
    if (lruOn) lruTouch(slot)
  }
  const r = rowOf(slot)
  const isOrig = kSrcIsA === ((load<i32>(r + C_FLAGS) & F_ORIG_IS_A) !== 0)
  account(r, isOrig, t)
  if (activeTimeout > 0) {
    const li = load<f64>(r + C_INTERIM)
    if (t - (li !== 0 ? li : load<f64>(r + C_START)) >= activeTimeout) {
      store<f64>(r + C_INTERIM, t)
      interim++
      emitConn(r, REASON_ACTIVE_TIMEOUT, true)
    }
  }
  return slot
}

