/**
 * DHCP transactions across connections, as base/protocols/dhcp/main.zeek builds them: one
 * dhcp.log row per transaction id (xid), fed by messages from any connection (broadcast
 * DISCOVER, unicast OFFER, broadcast NAK ... are separate "connections"), with the set of
 * their uids.
 *
 * A transaction is written when (as Zeek's join_data expiration: &create_expire=10secs, then
 * the expire function re-arms every 5 s) at a check time no message was seen for `idleSec`
 * (5 s) or it has been watched for `maxWatchSec` (30 s). Check times are firstTs + 10 s, + 15 s,
 * ...; they are evaluated whenever any DHCP message arrives (a message before the check joins
 * the transaction, as in Zeek); when it reaches `maxUids` uids or `maxMsgTypes` message types (written at
 * once, as Zeek); and, because we have no global timer, when every connection that contributed
 * to it has ended (Zeek writes the rest at shutdown). At most `maxTransactions` are tracked; the
 * oldest is written early when a new one would exceed that (counted as `evicted`).
 */
import type { AppOutput } from '../app-analyzer.js'
import { type DhcpMessage, messageTypeName } from './dhcp-message.js'

export interface DhcpTransactionConfig {
  idleSec: number
  maxWatchSec: number
  maxUids: number
  maxMsgTypes: number
  maxTransactions: number
}

export const DEFAULT_DHCP_TRANSACTION_CONFIG: DhcpTransactionConfig = Object.freeze({
  idleSec: 5,
  maxWatchSec: 30,
  maxUids: 10,
  maxMsgTypes: 50,
  maxTransactions: 10_000,
})

const CREATE_EXPIRE_SEC = 10
const RECHECK_SEC = 5

export interface DhcpConnId { uid: string; origH: string; origP: number; respH: string; respP: number }

interface Transaction {
  row: Record<string, unknown>
  uids: string[]
  msgTypes: string[]
  firstTs: number
  lastTs: number
  /** Next time Zeek's expiration would look at this transaction. */
  nextCheck: number
  clientChaddr: string | undefined
  /** uids of contributing connections that have not ended yet. */
  open: Set<string>
  out: AppOutput
}

export class DhcpTransactions {
  readonly cfg: DhcpTransactionConfig
  evicted = 0
  private readonly byXid = new Map<number, Transaction>()

  constructor(cfg: Partial<DhcpTransactionConfig> = {}) {
    this.cfg = { ...DEFAULT_DHCP_TRANSACTION_CONFIG, ...cfg }
  }

  get size(): number { return this.byXid.size }

  /** main.zeek DHCP::aggregate_msgs. */
  message(ts: number, id: DhcpConnId, isOrig: boolean, msg: DhcpMessage, out: AppOutput): void {
    this.sweep(ts)
    let tx = this.byXid.get(msg.xid)
    if (tx === undefined) {
      if (this.byXid.size >= this.cfg.maxTransactions) {
        const oldest = this.byXid.keys().next().value as number
        this.write(oldest)
        this.evicted++
      }
      tx = { row: { ts }, uids: [], msgTypes: [], firstTs: ts, lastTs: ts, nextCheck: ts + CREATE_EXPIRE_SEC, clientChaddr: undefined, open: new Set(), out }
      this.byXid.set(msg.xid, tx)
    }
    tx.out = out
    tx.open.add(id.uid)
    const row = tx.row
    row['duration'] = ts - tx.firstTs
    if (!tx.uids.includes(id.uid)) tx.uids.push(id.uid)
    tx.msgTypes.push(messageTypeName(msg.msgType))
    const o = msg.options
    const isClient = isOrig && (id.origH === '0.0.0.0' || id.origP === 68 || id.respP === 67)
    if (o.message !== undefined) row[isClient ? 'client_message' : 'server_message'] = o.message
    tx.lastTs = ts
    if (isClient) {
      if (id.origH !== '0.0.0.0' && id.origH !== '255.255.255.255') row['client_addr'] = id.origH
      if (o.hostName !== undefined) row['host_name'] = o.hostName
      if (o.clientFqdn !== undefined) row['client_fqdn'] = o.clientFqdn
      if (o.clientId !== undefined && o.clientId.hwtype === 1) row['mac'] = o.clientId.hwaddr
      else tx.clientChaddr = msg.chaddr
      if (o.addrRequest !== undefined) row['requested_addr'] = o.addrRequest
    } else {
      if (msg.yiaddr !== '0.0.0.0') row['server_addr'] = isOrig ? id.origH : id.respH
      if (msg.chaddr !== '' && row['mac'] === undefined) row['mac'] = msg.chaddr
      if (msg.yiaddr !== '0.0.0.0') row['assigned_addr'] = msg.yiaddr
      if (row['client_addr'] === undefined && row['assigned_addr'] !== undefined) row['client_addr'] = row['assigned_addr']
      if (o.domainName !== undefined) row['domain'] = o.domainName
      if (o.lease !== undefined) row['lease_time'] = o.lease
    }
    if (tx.uids.length >= this.cfg.maxUids || tx.msgTypes.length >= this.cfg.maxMsgTypes) this.write(msg.xid, false)
  }

  /** A connection ended: transactions it was the last open contributor of are written. */
  connectionDone(uid: string): void {
    for (const [xid, tx] of this.byXid) {
      if (!tx.open.delete(uid)) continue
      if (tx.open.size === 0) this.write(xid)
    }
  }

  /** Writes transactions that Zeek's expiration would have written by `now`. */
  sweep(now: number): void {
    for (const [xid, tx] of this.byXid) {
      while (tx.nextCheck <= now) {
        const t = tx.nextCheck
        if (t - tx.lastTs > this.cfg.idleSec || t - tx.firstTs > this.cfg.maxWatchSec) { this.write(xid); break }
        tx.nextCheck += RECHECK_SEC
      }
    }
  }

  /** Writes everything still pending (end of input). */
  flush(): void {
    for (const xid of [...this.byXid.keys()]) this.write(xid)
  }

  private write(xid: number, fillMac = true): void {
    const tx = this.byXid.get(xid)
    if (tx === undefined) return
    this.byXid.delete(xid)
    const row = tx.row
    // join_data_expiration fills mac from the client's chaddr; the size-limit path does not.
    if (fillMac && row['mac'] === undefined && tx.clientChaddr !== undefined) row['mac'] = tx.clientChaddr
    row['uids'] = tx.uids
    row['msg_types'] = tx.msgTypes
    tx.out.log('dhcp', row)
  }
}
