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
import { DnsTransactions, type DnsInfo, type DnsTransactionConfig } from './dns-transactions.js'
import { DnsTcpFramer } from './dns-tcp-framer.js'
import { dnsRow } from './dns-log.js'
import { dnsObservations } from './dns-observations.js'
import { isMulticastAddr } from './multicast.js'

/** The three transaction configurations there are (shared: none per connection). */
const TX_CONFIGS: DnsTransactionConfig[] = [false, true].flatMap((multicast) => [
  { multicast, netbios: false, netbiosUdp: false },
  { multicast, netbios: true, netbiosUdp: false },
  { multicast, netbios: true, netbiosUdp: true },
]).map((c) => Object.freeze(c))

/**
 * The parser's anomaly callback, shared by all connections: it reports to the output of the
 * connection whose message is being parsed (parsing is synchronous and never re-entered).
 * Was a closure per connection, carried into old space by every DNS session.
 */
let parsingFor: AppOutput | undefined
const parserWeird = (w: string): void => { parsingFor?.anomaly(w) }

export class DnsAnalyzer implements AppAnalyzer {
  /**
   * Pairing state, made on a message and dropped as soon as nothing is pending (a UDP query
   * and its reply usually come within one young-generation cycle, so a finished DNS
   * connection, kept 60 s for its inactivity timeout, carries no transaction objects into
   * old space). A fresh DnsTransactions behaves exactly as an idle one.
   */
  private tx: DnsTransactions | undefined
  private readonly txConfig: DnsTransactionConfig
  private readonly netbios: boolean
  private readonly framers: [DnsTcpFramer, DnsTcpFramer] | undefined
  private confirmed = false
  private done = false
  private now = 0

  constructor(private readonly conn: AppConnInfo, private readonly out: AppOutput) {
    this.netbios = conn.respP === NETBIOS_NS_PORT
    this.txConfig = TX_CONFIGS[(isMulticastAddr(conn.respH) ? 3 : 0) + (this.netbios ? (conn.proto === 'udp' ? 2 : 1) : 0)]!
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
    this.tx?.finalize()
  }

  /**
   * UDP, nothing pending: a new analyzer would do the same with the next datagram (`confirmed`
   * only spares a repeated confirmation of the same service), and finish() has nothing to write.
   */
  idle(): boolean {
    return this.tx === undefined && this.framers === undefined && !this.done
  }

  /** DnsTransactions' writer: one dns.log row. */
  write(info: DnsInfo): void {
    this.out.log('dns', dnsRow(this.conn, info))
  }

  private message(b: Buffer, isOrig: boolean): void {
    if (this.done) return
    parsingFor = this.out
    const msg = parseDnsMessage(b, this.netbios, parserWeird)
    parsingFor = undefined
    if (!msg) return
    const tx = (this.tx ??= new DnsTransactions(this.txConfig, this))
    tx.message(msg, this.now)
    if (msg.violation) {
      // Zeek removes the analyzer; its script state still logs pending rows at connection end.
      this.done = true
      tx.finalize()
      this.out.violation('DNS_Conn_count_too_large')
      return
    }
    if (tx.idle()) this.tx = undefined
    if (msg.complete && !this.confirmed) {
      this.confirmed = true
      this.out.confirm('dns')
    }
    const obs = dnsObservations(msg, this.conn, isOrig, this.now, this.netbios)
    for (let i = 0; i < obs.length; i++) this.out.observe(obs[i]!)
  }
}

/** Port registration only: Zeek has no content signature for DNS. */
export const dnsAnalyzerFactory: AppAnalyzerFactory = {
  name: 'dns',
  transports: ['udp', 'tcp'],
  ports: [53, NETBIOS_NS_PORT, MDNS_PORT, LLMNR_PORT],
  create: (conn, out) => new DnsAnalyzer(conn, out),
}
