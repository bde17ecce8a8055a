/**
 * DHCP analyzer (dhcp.log): decodes each datagram (dhcp-message.ts), confirms the protocol on
 * the first good message (as Zeek: one message is enough), feeds the cross-connection
 * transaction table, and reports host facts: the client's MAC and name (option 12, source
 * dhcp), its address once assigned, and the OS hints a DHCP client gives away (vendor class,
 * option 60, and parameter request list, option 55 — the basis of DHCP fingerprinting).
 */
import type { AppAnalyzer, AppConnInfo, AppOutput } from '../app-analyzer.js'
import { parseDhcp, type DhcpMessage } from './dhcp-message.js'
import type { DhcpTransactions } from './dhcp-transactions.js'

export class DhcpAnalyzer implements AppAnalyzer {
  private confirmed = false

  constructor(private readonly conn: AppConnInfo, private readonly out: AppOutput, private readonly table: DhcpTransactions) {}

  deliver(isOrig: boolean, data: Buffer, ts: number): void {
    const p = parseDhcp(data)
    if (!p.ok) {
      this.out.anomaly('dhcp_bad_message')
      if (!this.confirmed) this.out.violation(p.error)
      return
    }
    const msg = p.msg
    if (msg.unterminated) this.out.anomaly('dhcp_options_unterminated')
    if (msg.msgType === 0) this.out.anomaly('dhcp_no_message_type')
    this.table.message(ts, this.conn, isOrig, msg, this.out)
    if (!this.confirmed) {
      this.confirmed = true
      this.out.confirm('dhcp')
    }
    this.observe(msg, ts)
  }

  finish(): void {
    this.table.connectionDone(this.conn.uid)
  }

  private observe(msg: DhcpMessage, ts: number): void {
    const o = msg.options
    if (msg.op === 1) {
      const mac = o.clientId?.hwtype === 1 && o.clientId.hwaddr !== '' ? o.clientId.hwaddr : msg.chaddr
      if (mac === '') return
      this.out.observe({
        ts,
        mac,
        ...(msg.ciaddr !== '0.0.0.0' ? { ip: msg.ciaddr } : {}),
        ...(o.hostName !== undefined && o.hostName !== '' ? { name: o.hostName, nameSource: 'dhcp' as const } : {}),
        ...(o.vendorClass !== undefined ? { dhcpVendorClass: o.vendorClass, osHint: o.vendorClass } : {}),
        ...(o.paramList !== undefined ? { dhcpParamList: o.paramList.join(',') } : {}),
      })
    } else if (msg.op === 2 && msg.yiaddr !== '0.0.0.0' && msg.chaddr !== '' && (msg.msgType === 5 || msg.msgType === 0)) {
      // ACK (or plain BOOTP reply): the server bound this address to this MAC.
      this.out.observe({ ts, mac: msg.chaddr, ip: msg.yiaddr })
    }
  }
}
