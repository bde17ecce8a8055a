/**
 * Pairs DNS queries with responses into dns.log rows exactly as Zeek's
 * base/protocols/dns/main.zeek does: `set_session` (one pending query on a fast path, then
 * per-transaction-ID FIFO queues of unmatched queries and of unmatched replies), the
 * `dns_request` / `dns_rejected` / `do_reply` / `dns_end` handlers, and `finalize_dns`
 * (unmatched messages are logged when the connection goes away). Messages to a multicast
 * responder are never paired: each one is a row of its own.
 *
 * Bounds (Zeek's options): a queue longer than 50 (max_pending_msgs) or more than 50
 * transaction IDs with unmatched messages (max_pending_query_ids) is logged and cleared.
 * Zeek iterates its tables in hash order where it picks "an arbitrary" pending query and at
 * finalization; this uses insertion order.
 */
import { className, isTrackedOpcode, opcodeName, queryTypeName, rcodeName } from './dns-constants.js'
import type { DnsMessage } from './dns-message.js'
import { decodeNetbiosName } from './netbios-name.js'

export const MAX_PENDING_MSGS = 50
export const MAX_PENDING_QUERY_IDS = 50

/** Zeek's DNS::Info while it is being built. */
export interface DnsInfo {
  ts: number
  transId: number
  rtt?: number
  query?: Uint8Array
  qclass?: number
  qclassName?: string
  qtype?: number
  qtypeName?: string
  rcode?: number
  rcodeName?: string
  AA: boolean
  TC: boolean
  RD: boolean
  RA: boolean
  Z: number
  answers?: Array<Uint8Array | string>
  TTLs?: number[]
  rejected: boolean
  opcode?: number
  opcodeName?: string
  totalAnswers?: number
  totalReplies?: number
  sawQuery: boolean
  sawReply: boolean
}

export interface DnsTransactionConfig {
  /** Responder address is multicast (Zeek's DNS::multicast_subnets: 224.0.0.0/4, ff00::/8). */
  multicast: boolean
  /** Responder port is 137 (NetBIOS name service). */
  netbios: boolean
  /** Responder port is 137/udp: query names are NetBIOS-decoded. */
  netbiosUdp: boolean
}

type Pending = Map<number, DnsInfo[]>

/** Where finished records go (the DNS analyzer). */
export interface DnsInfoWriter {
  write(info: DnsInfo): void
}

export class DnsTransactions {
  /** Zeek's c$dns: the record the current message is working on. */
  private current: DnsInfo | undefined
  private pendingQuery: DnsInfo | undefined
  private pendingQueries: Pending | undefined
  private pendingReplies: Pending | undefined

  /** `out.write` gets each finished record (an object, not a closure per connection). */
  constructor(private readonly cfg: DnsTransactionConfig, private readonly out: DnsInfoWriter) {}

  private write(info: DnsInfo): void {
    this.out.write(info)
  }

  /** Nothing pending: a new DnsTransactions would behave the same from here on. */
  idle(): boolean {
    return this.current === undefined && this.pendingQuery === undefined &&
      (this.pendingQueries === undefined || this.pendingQueries.size === 0) &&
      (this.pendingReplies === undefined || this.pendingReplies.size === 0)
  }

  /** All events of one parsed message, in Zeek's order: dns_message, questions, answers, dns_end. */
  message(msg: DnsMessage, ts: number): void {
    const h = msg.header
    const tracked = isTrackedOpcode(h.opcode)
    if (tracked) this.setSession(msg, ts)
    const cur = this.current
    for (const q of msg.questions) {
      if (!h.qr) {
        if (tracked && cur) this.request(cur, msg, q.name, q.qtype, q.qclass)
      } else if (h.ancount === 0 && h.nscount === 0 && h.arcount === 0) {
        if (cur) cur.rejected = true
      }
    }
    if (tracked && h.qr && cur) {
      // The answers/TTLs lists are made at their final size when this message starts them
      // (two lists grown by push from empty reserved ~17 slots each per reply).
      let replies = 0
      if (cur.answers === undefined) for (const a of msg.answers) if (a.reply !== undefined && a.reply.length > 0) replies++
      let k = 0
      for (const a of msg.answers) {
        if (cur.query === undefined) cur.query = a.name
        cur.AA = h.aa
        cur.RA = h.ra
        if (cur.rtt === undefined) {
          const rtt = ts - cur.ts
          if (rtt !== 0) cur.rtt = rtt
        }
        if (a.reply !== undefined && a.reply.length > 0) {
          if (replies > 0) {
            if (k === 0) { cur.answers = new Array<Uint8Array | string>(replies); cur.TTLs = new Array<number>(replies) }
            cur.answers![k] = a.reply
            cur.TTLs![k] = a.ttl
            k++
          } else {
            cur.answers!.push(a.reply)
            cur.TTLs!.push(a.ttl)
          }
        }
      }
    }
    // dns_end
    if (this.current) {
      if (h.qr) this.current.sawReply = true
      else this.current.sawQuery = true
      if (this.current.sawQuery && this.current.sawReply) {
        this.write(this.current)
        this.current = undefined
      }
    }
  }

  /** finalize_dns: the connection is going away; log everything still unmatched. */
  finalize(): void {
    if (this.pendingQuery) this.write(this.pendingQuery)
    this.pendingQuery = undefined
    if (this.pendingQueries) this.logAll(this.pendingQueries)
    if (this.pendingReplies) this.logAll(this.pendingReplies)
  }

  /** Unmatched records currently held (for tests and memory accounting). */
  pendingCount(): number {
    let n = this.pendingQuery ? 1 : 0
    for (const m of [this.pendingQueries, this.pendingReplies]) for (const q of m?.values() ?? []) n += q.length
    return n
  }

  /**
   * A record with every field present from the start (unset ones undefined, read the same as
   * absent): one object of a single shape, not one that grows a property store as the
   * query and reply fill it (was ~30 MB of garbage on the bench capture's 26k DNS flows).
   */
  private newSession(ts: number, id: number): DnsInfo {
    return {
      ts, transId: id, rtt: undefined, query: undefined, qclass: undefined, qclassName: undefined, qtype: undefined,
      qtypeName: undefined, rcode: undefined, rcodeName: undefined, AA: false, TC: false, RD: false, RA: false, Z: 0,
      answers: undefined, TTLs: undefined, rejected: false, opcode: undefined, opcodeName: undefined,
      totalAnswers: undefined, totalReplies: undefined, sawQuery: false, sawReply: false,
    }
  }

  private setSession(msg: DnsMessage, ts: number): void {
    const h = msg.header
    const isQuery = !h.qr
    let info: DnsInfo
    if (this.cfg.multicast) {
      info = this.newSession(ts, h.id)
      info.sawQuery = true
      info.sawReply = true
    } else if (isQuery) {
      const replies = this.pendingReplies?.get(h.id)
      if (replies && replies.length > 0) {
        info = this.pop(this.pendingReplies!, h.id)
      } else {
        info = this.newSession(ts, h.id)
        if (!this.pendingQuery) this.pendingQuery = info
        else this.enqueue((this.pendingQueries ??= new Map()), h.id, info)
      }
    } else if (this.pendingQuery && this.pendingQuery.transId === h.id) {
      info = this.pendingQuery
      this.pendingQuery = undefined
      const pq = this.pendingQueries
      if (pq) {
        if ((pq.get(h.id)?.length ?? 0) > 0) this.pendingQuery = this.pop(pq, h.id)
        else {
          for (const [tid, q] of pq) {
            if (q.length > 0) {
              this.pendingQuery = this.pop(pq, tid)
              break
            }
          }
        }
      }
    } else if ((this.pendingQueries?.get(h.id)?.length ?? 0) > 0) {
      info = this.pop(this.pendingQueries!, h.id)
    } else {
      info = this.newSession(ts, h.id)
      this.enqueue((this.pendingReplies ??= new Map()), h.id, info)
    }
    this.current = info
    if (!isQuery) {
      info.rcode = h.rcode
      info.rcodeName = rcodeName(h.rcode)
      info.totalAnswers ??= h.ancount
      info.totalReplies ??= h.ancount + h.arcount + h.nscount
      if (h.rcode !== 0 && h.qdcount === 0) info.rejected = true
    }
    info.opcode = h.opcode
    info.opcodeName = opcodeName(h.opcode, this.cfg.netbios)
  }

  private request(info: DnsInfo, msg: DnsMessage, name: Uint8Array, qtype: number, qclass: number): void {
    const h = msg.header
    info.RD = h.rd
    info.TC = h.tc
    info.qclass = qclass
    info.qclassName = className(qclass)
    info.qtype = qtype
    info.qtypeName = queryTypeName(qtype)
    info.Z = h.z
    let query = name
    if (this.cfg.netbiosUdp) {
      const decoded = decodeNetbiosName(name)
      if (decoded.length !== 0) query = decoded
      if (info.qtypeName === 'SRV') info.qtypeName = 'NBSTAT'
    }
    info.query = query
  }

  private enqueue(msgs: Pending, id: number, info: DnsInfo): void {
    const q = msgs.get(id)
    if (!q) {
      if (msgs.size > MAX_PENDING_QUERY_IDS) this.logAll(msgs)
      msgs.set(id, [info])
      return
    }
    if (q.length > MAX_PENDING_MSGS) {
      for (const i of q) this.write(i)
      msgs.set(id, [info])
      return
    }
    q.push(info)
  }

  private pop(msgs: Pending, id: number): DnsInfo {
    const q = msgs.get(id)!
    const info = q.shift()!
    if (q.length === 0) msgs.delete(id)
    return info
  }

  private logAll(msgs: Pending): void {
    for (const q of msgs.values()) for (const i of q) this.write(i)
    msgs.clear()
  }
}
