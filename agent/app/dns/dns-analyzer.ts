/**
 * The DNS analyzer (Zeek's service "dns"): DNS over UDP and TCP, multicast DNS (5353), LLMNR
 * (5355) and NetBIOS name service (137). UDP datagrams are one message each; TCP streams are
 * framed by DnsTcpFramer. Every message goes through parseDnsMessage and DnsTransactions,
 * which write dns.log rows as Zeek does. The service is confirmed when a message's questions
 * and answers parse (Zeek's AnalyzerConfirmation); more than 25 questions is a violation.
 *
 * Memory per connection: the transaction state (at most 51 IDs × 51 records per queue,
 * Zeek's limits) and, on TCP, one message buffer of ≤ 64 KiB per direction.
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppConnInfo, AppOutput } from '../app-analyzer.js'
import { LLMNR_PORT, MDNS_PORT, NETBIOS_NS_PORT } from './dns-constants.js'
import { parseDnsMessage } from './dns-message.js'
import { DnsTransactions } from './dns-transactions.js'
import { DnsTcpFramer } from './dns-tcp-framer.js'
import { dnsRow } from './dns-log.js'
import { dnsObservations } from './dns-observations.js'
import { isMulticastAddr } from './multicast.js'

export class DnsAnalyzer implements AppAnalyzer {
  private readonly tx: DnsTransactions
  private readonly netbios: boolean
  private readonly framers: [DnsTcpFramer, DnsTcpFramer] | undefined
  private confirmed = false
  private done = false
  private now = 0
  /** Anomaly callback for the parser, made once per connection (was one closure per message). */
  private weird: ((name: string) => void) | undefined

  constructor(private readonly conn: AppConnInfo, private readonly out: AppOutput) {
    this.netbios = conn.respP === NETBIOS_NS_PORT
    this.tx = new DnsTransactions(
      { multicast: isMulticastAddr(conn.respH), netbios: this.netbios, netbiosUdp: this.netbios && conn.proto === 'udp' },
      (info) => out.log('dns', dnsRow(conn, info)),
    )
    this.framers = conn.proto === 'tcp'
      ? [new DnsTcpFramer((m) => this.message(m, true)), new DnsTcpFramer((m) => this.message(m, false))]
      : undefined
  }

  deliver(isOrig: boolean, data: Buffer, ts: number): void {
    if (this.done) return
    this.now = ts
    if (this.framers) this.framers[isOrig ? 0 : 1].push(data)
    else this.message(data, isOrig)
  }

  gap(): void {
    // Zeek's Contents_DNS does not resynchronise after a gap; neither do we.
    this.out.anomaly('DNS_content_gap')
  }

  finish(ts: number): void {
    if (this.done) return
    this.now = ts
    if (this.framers) {
      this.framers[0].flush()
      this.framers[1].flush()
    }
    this.done = true
    this.tx.finalize()
  }

  private message(b: Buffer, isOrig: boolean): void {
    if (this.done) return
    const msg = parseDnsMessage(b, this.netbios, this.weird ??= (w: string): void => this.out.anomaly(w))
    if (!msg) return
    this.tx.message(msg, this.now)
    if (msg.violation) {
      // Zeek removes the analyzer; its script state still logs pending rows at connection end.
      this.done = true
      this.tx.finalize()
      this.out.violation('DNS_Conn_count_too_large')
      return
    }
    if (msg.complete && !this.confirmed) {
      this.confirmed = true
      this.out.confirm('dns')
    }
    for (const o of dnsObservations(msg, this.conn, isOrig, this.now, this.netbios)) this.out.observe(o)
  }
}

/** Port registration only: Zeek has no content signature for DNS. */
export const dnsAnalyzerFactory: AppAnalyzerFactory = {
  name: 'dns',
  transports: ['udp', 'tcp'],
  ports: [53, NETBIOS_NS_PORT, MDNS_PORT, LLMNR_PORT],
  create: (conn, out) => new DnsAnalyzer(conn, out),
}
