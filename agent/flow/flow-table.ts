/**
 * The flow table: finds or creates the connection for each decoded packet, applies Zeek's
 * per-protocol semantics, runs connection timers in packet time, and emits ConnRecords.
 *
 * Bounded memory: at most `maxFlows` connections; when full, the least recently active one
 * is evicted (emitted with reason "evicted" and counted in `flows_evicted`).
 *
 * Recency: every packet stamps its connection with a sequence number (Conn.lastTouch, one
 * store in a column). The least-recently-active list that eviction needs is linked only
 * while the table is near its cap: moving a connection to the tail of a linked list on every
 * packet wrote into two neighbouring Conn objects scattered in the heap (~4% of the flow
 * stage's steady-state CPU on the bench capture, measured), for a list that a table below
 * its cap never reads. When the table
 * reaches the cap, the list is built once from the stamps (sorted), kept up to date per packet
 * until the table is down to half the cap, then unlinked again. A flush without the list
 * emits in stamp order: the same order as the list's.
 */
import type { PacketInfo } from '../decode/packet-info.js'
import { L4_BAD_CHECKSUM, L4_OTHER, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from '../decode/transport-layer.js'
import { TCP_SYN, TCP_ACK, TCP_FIN } from '../decode/packet-info.js'
import { Conn, macNumber } from './conn.js'
import { buildConnRecord } from './conn-summary.js'
import type { ConnRecord } from './conn-record.js'
import { buildFlowKey, FlowKey, icmpPorts } from './flow-key.js'
import { FlowIndex } from './flow-index.js'
import { isLikelyServerPort } from './likely-server-ports.js'
import { byStamp } from './recency-order.js'
import { initTcpState, tcpBadChecksum, tcpIsReuse, tcpLast, tcpPacket, tcpTimersExpired } from './tcp-analyzer.js'
import type { FlowTableConfig, FlowTableCounter, FlowTableLike } from './flow-table-config.js'
import { ConnView } from './conn-view.js'
import { TCP_CLOSED } from './tcp-endpoint.js'
import { TimerHeap } from './timer-heap.js'
import { UidGenerator } from './uid.js'

export { DEFAULT_FLOW_TABLE_CONFIG } from './flow-table-config.js'
export type { FlowTableConfig, FlowTableCounter, FlowTableFactory, FlowTableLike } from './flow-table-config.js'

export class FlowTable implements FlowTableLike {
  // Hot-path counters are plain fields; counters() snapshots them.
  private created = 0
  private emitted = 0
  private evicted = 0
  private interim = 0
  private reused = 0
  private tracked = 0
  private live = 0
  /** Canonical flow key → connection (open addressing over typed arrays). */
  private readonly index = new FlowIndex()
  private readonly heap = new TimerHeap()
  private readonly uids = new UidGenerator()
  private readonly keyOut = new FlowKey()
  /** Recency stamp of the last packet or creation (see the top of this file). */
  private touchSeq = 0
  /** Whether the least-recently-active list is linked (the table is or was lately near full). */
  private lruOn = false
  private lruHead: Conn | undefined = undefined
  private lruTail: Conn | undefined = undefined
  private now = 0

  constructor(private readonly cfg: FlowTableConfig, private readonly emit: (rec: ConnRecord) => void) {}

  get size(): number {
    return this.live
  }

  counters(): Record<FlowTableCounter, number> {
    return {
      flows_created: this.created, flows_emitted: this.emitted, flows_evicted: this.evicted,
      flows_interim: this.interim, flows_reused: this.reused, packets_tracked: this.tracked,
    }
  }

  /** Fire every timer due at or before packet time `t` (call before processing a packet at t). */
  advance(t: number): void {
    if (t > this.now) this.now = t
    const heap = this.heap
    while (heap.peekTime() <= t) {
      const c = heap.pop()!
      if (c.removed) continue
      const due = this.dueTime(c)
      if (due > t) {
        if (due !== Infinity) heap.push(due, c)
        c.nextTimer = due
        continue
      }
      if (this.expired(c, t)) {
        this.remove(c, 'inactive')
        continue
      }
      const next = this.dueTime(c)
      c.nextTimer = next
      if (next !== Infinity) heap.push(next, c)
    }
  }

  /**
   * Account one decoded packet to its connection. `l4` is the transport decode status;
   * `tunnelParent` the uid of the enclosing tunnel, if any. Returns the connection.
   */
  packet(info: PacketInfo, l4: number, t: number, iface: string, tunnelParent: string | undefined): Conn | undefined {
    const proto = info.ipProto
    const k = this.keyOut
    const isIcmp = proto === PROTO_ICMP || proto === PROTO_ICMPV6
    if (isIcmp) {
      icmpPorts(proto, info.icmpType, info.icmpCode, k)
      buildFlowKey(info, k.sport, k.dport, k)
    } else if (proto === PROTO_TCP || proto === PROTO_UDP) {
      buildFlowKey(info, info.sport, info.dport, k)
    } else {
      buildFlowKey(info, 0, 0, k)
    }
    let c = this.index.find(k)
    if (c !== undefined && proto === PROTO_TCP && l4 !== L4_BAD_CHECKSUM && tcpIsReuse(c, info.tcpFlags, info.seq)) {
      this.reused++
      this.remove(c, 'end')
      c = undefined
    }
    if (c === undefined) {
      c = this.create(info, k, t, iface, tunnelParent, l4)
    } else {
      c.lastTouch = ++this.touchSeq
      if (this.lruOn) this.touch(c)
    }
    const isOrig = k.srcIsA === c.origIsA
    this.account(c, info, l4, isOrig, t)
    if (this.cfg.activeTimeout > 0 && t - (c.lastInterim || c.startTime) >= this.cfg.activeTimeout) {
      c.lastInterim = t
      this.interim++
      this.emit(buildConnRecord(c, 'active_timeout', true, this.cfg.localNets, this.cfg.communityId !== false))
    }
    return c
  }

  /** Emit and drop every tracked connection (end of capture, shutdown). */
  flushAll(): void {
    // In stamp order, linked list or not (removing may unlink the list midway).
    for (const c of this.byRecency()) this.remove(c, 'flush')
    this.heap.clear()
  }

  /** Tracked connections, least recently active first (the order of the linked list). */
  private byRecency(): Conn[] {
    return byStamp(this.index.all(), (c) => c.lastTouch)
  }

  /** Links the least-recently-active list from the recency stamps (the table reached its cap). */
  private linkLru(): void {
    this.lruOn = true
    this.lruHead = this.lruTail = undefined
    for (const c of this.byRecency()) this.lruAppend(c)
  }

  /** Drops the list (the table is down to half its cap): no stale links keep dead connections. */
  private unlinkLru(): void {
    this.lruOn = false
    let c = this.lruHead
    while (c !== undefined) {
      const next = c.lruNext
      c.lruPrev = c.lruNext = undefined
      c = next
    }
    this.lruHead = this.lruTail = undefined
  }

  private create(info: PacketInfo, k: FlowKey, t: number, iface: string, tunnelParent: string | undefined, l4: number): Conn {
    if (this.live >= this.cfg.maxFlows) {
      if (!this.lruOn) this.linkLru()
      if (this.lruHead) {
        this.evicted++
        this.remove(this.lruHead, 'evicted')
      }
    }
    const c = new Conn()
    const b = info.buf
    c.uidSource = this.uids
    c.setKey(k)
    c.origIsA = k.srcIsA
    c.ipProto = info.ipProto
    c.origP = k.sport
    c.respP = k.dport
    c.startTime = t
    c.lastTime = t
    c.vlan = info.vlan
    c.innerVlan = info.innerVlan
    c.iface = iface
    if (info.srcMacOff >= 0) c.origMacN = macNumber(info.l2Buf, info.srcMacOff)
    if (info.dstMacOff >= 0) c.respMacN = macNumber(info.l2Buf, info.dstMacOff)
    if (tunnelParent !== undefined) c.tunnelParents = [tunnelParent]
    c.localOrig = this.cfg.localNets.isLocalAt(b, info.srcAddrOff, info.addrLen)
    c.localResp = this.cfg.localNets.isLocalAt(b, info.dstAddrOff, info.addrLen)
    const proto = info.ipProto
    const isIcmp = proto === PROTO_ICMP || proto === PROTO_ICMPV6
    if (proto === PROTO_TCP) {
      const tcp = initTcpState(c)
      c.inactivityTimeout = this.cfg.tcp.handshakeInactivityTimeout
      c.expireAt = t + this.cfg.tcp.synTimeout
      // Zeek's TCPAnalyzer::WantConnection orientation heuristic.
      const f = info.tcpFlags
      if (l4 !== L4_BAD_CHECKSUM && (!(f & TCP_SYN) || (f & TCP_ACK))) {
        let flip = false
        if (isLikelyServerPort(k.sport, 'tcp')) {
          flip = isLikelyServerPort(k.dport, 'tcp') ? (!(f & TCP_SYN) && k.sport < k.dport) : true
        }
        if (flip) c.flipRoles()
        else if ((f & TCP_SYN) && (f & TCP_ACK)) tcp.startedWithSynAck = true
      }
    } else if (proto === PROTO_UDP) {
      c.inactivityTimeout = this.cfg.udpInactivityTimeout
      if (isLikelyServerPort(k.sport, 'udp') && !isLikelyServerPort(k.dport, 'udp') && !isBroadcast(b, info.dstAddrOff, info.addrLen)) {
        c.flipRoles()
      }
    } else if (isIcmp) {
      c.inactivityTimeout = this.cfg.icmpInactivityTimeout
    } else {
      c.inactivityTimeout = this.cfg.otherInactivityTimeout
    }
    const app = this.cfg.app
    if (app !== undefined && (c.proto === 'tcp' || c.proto === 'udp')) c.app = app.open(new ConnView(c), t)
    this.index.insert(c)
    this.live++
    c.lastTouch = ++this.touchSeq
    if (this.lruOn) this.lruAppend(c)
    this.created++
    const due = this.dueTime(c)
    c.nextTimer = due
    this.heap.push(due, c)
    return c
  }

  private account(c: Conn, info: PacketInfo, l4: number, isOrig: boolean, t: number): void {
    this.tracked++
    const proto = info.ipProto
    if (proto === PROTO_TCP) {
      if (l4 === L4_BAD_CHECKSUM) { tcpBadChecksum(c, isOrig); return }
      if (isOrig) { c.origPkts++; c.origIpBytes += info.ipTotalLen } else { c.respPkts++; c.respIpBytes += info.ipTotalLen }
      const captured = Math.max(0, Math.min(info.payloadLen, info.l4CapLen - info.tcpHdrLen))
      tcpPacket(c, isOrig, info.tcpFlags, info.seq, info.ack, info.window, info.payloadLen, captured, t, this.cfg.tcp)
      const s = c.app
      if (s !== undefined) {
        const app = this.cfg.app!
        const o = tcpLast.isOrig
        if (tcpLast.dataSeq >= 0) app.tcpPayload(s, o, tcpLast.dataSeq, info.buf.subarray(info.payloadOff, info.payloadOff + info.payloadLen), t)
        if (tcpLast.relAck > 0) app.tcpAck(s, !o, tcpLast.relAck, t)
        if (!app.active(s)) this.detachApp(c, t)
        // Both ends closed and nothing left for the analyzers to write: no session kept for the close delay.
        else if ((info.tcpFlags & TCP_FIN) !== 0 && tcpEnded(c) && app.idleAtEnd(s, c.tcp!.orig.finSeq, c.tcp!.resp.finSeq)) this.detachApp(c, t)
      }
      const due = this.dueTime(c)
      if (due < c.nextTimer) { c.nextTimer = due; this.heap.push(due, c) }
      return
    }
    // UDP/ICMP/other: ConnSize counts the packet even when the checksum is bad (as Zeek's UDP).
    if (isOrig) { c.origPkts++; c.origIpBytes += info.ipTotalLen } else { c.respPkts++; c.respIpBytes += info.ipTotalLen }
    if (l4 === L4_BAD_CHECKSUM) {
      c.checkHistory(isOrig ? 0x4 : 0x8, isOrig ? 'C' : 'c')
      return
    }
    c.lastTime = t
    if (proto === PROTO_UDP) {
      if (isOrig) { c.checkHistory(0x1, 'D'); c.origLen += info.payloadLen; c.origActive = true } else { c.checkHistory(0x2, 'd'); c.respLen += info.payloadLen; c.respActive = true }
      let s = c.app
      // A parked session comes back with the next datagram that carries payload.
      if (s === undefined && c.appParked && info.payloadLen > 0 && info.l4CapLen > 8) {
        c.appParked = false
        s = c.app = this.cfg.app!.resume(new ConnView(c), c.service)
      }
      if (s !== undefined) {
        const app = this.cfg.app!
        const n = Math.min(info.payloadLen, info.l4CapLen - 8)
        if (n > 0) app.udpPayload(s, isOrig, info.buf.subarray(info.payloadOff, info.payloadOff + n), t)
        if (!app.active(s)) this.detachApp(c, t)
        else if (app.park(s)) {
          // Idle between datagrams: no session kept for the rest of the inactivity timeout.
          c.service = s.services.join(',')
          c.app = undefined
          c.appParked = true
        }
      }
    } else if (l4 === L4_OTHER) {
      const len = info.l4Len
      if (isOrig) { c.origLen += len; c.origActive = true } else { c.respLen += len; c.respActive = true }
    } else {
      if (isOrig) { c.origLen += info.payloadLen; c.origActive = true } else { c.respLen += info.payloadLen; c.respActive = true }
    }
  }

  private dueTime(c: Conn): number {
    let due = c.lastTime + c.inactivityTimeout
    if (c.tcp) {
      if (c.deleteAt < due) due = c.deleteAt
      if (c.attemptAt < due) due = c.attemptAt
      if (c.partialCloseAt < due) due = c.partialCloseAt
      if (c.expireAt < due) due = c.expireAt
    }
    return due
  }

  private expired(c: Conn, t: number): boolean {
    if (c.lastTime + c.inactivityTimeout <= t) return true
    return c.tcp !== undefined && tcpTimersExpired(c, t, this.cfg.tcp)
  }

  /** No analyzer left and detection over: keep the services, drop the session. */
  private detachApp(c: Conn, t: number): void {
    const s = c.app!
    this.cfg.app!.close(s, t)
    c.service = s.services.join(',')
    c.app = undefined
  }

  private remove(c: Conn, reason: ConnRecord['reason']): void {
    if (c.removed) return
    if (c.app !== undefined) this.detachApp(c, Math.max(this.now, c.lastTime))
    c.removed = true
    this.index.delete(c)
    this.live--
    if (this.lruOn) {
      this.lruUnlink(c)
      if (this.live <= this.cfg.maxFlows >> 1) this.unlinkLru()
    }
    this.emitted++
    this.emit(buildConnRecord(c, reason, false, this.cfg.localNets, this.cfg.communityId !== false))
    // The record is built: the endpoints' column slots go back to the pool.
    if (c.tcp !== undefined) { c.tcp.orig.release(); c.tcp.resp.release() }
    c.release()
  }

  private touch(c: Conn): void {
    if (this.lruTail === c) return
    this.lruUnlink(c)
    this.lruAppend(c)
  }

  private lruAppend(c: Conn): void {
    c.lruPrev = this.lruTail
    c.lruNext = undefined
    if (this.lruTail) this.lruTail.lruNext = c
    else this.lruHead = c
    this.lruTail = c
  }

  private lruUnlink(c: Conn): void {
    if (c.lruPrev) c.lruPrev.lruNext = c.lruNext
    else if (this.lruHead === c) this.lruHead = c.lruNext
    if (c.lruNext) c.lruNext.lruPrev = c.lruPrev
    else if (this.lruTail === c) this.lruTail = c.lruPrev
    c.lruPrev = undefined
    c.lruNext = undefined
  }
}

/** Both endpoints closed by a FIN (after a reset, where a direction's bytes end is unknown: not ended). */
function tcpEnded(c: Conn): boolean {
  const o = c.tcp!.orig
  const r = c.tcp!.resp
  return o.state === TCP_CLOSED && r.state === TCP_CLOSED && o.finCnt > 0 && r.finCnt > 0
}

function isBroadcast(b: Buffer, off: number, len: number): boolean {
  return len === 4 && b[off] === 255 && b[off + 1] === 255 && b[off + 2] === 255 && b[off + 3] === 255
}
