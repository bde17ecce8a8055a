/**
 * Packets in, connection records out: decode → (fragment reassembly) → (tunnel
 * decapsulation) → flow table. One instance per capture thread; `handle` is the hot path and
 * allocates nothing for an ordinary packet.
 *
 * The application analyzers are a constructor argument: this module does not import their
 * registry (~0.17 s of CPU to load, measured), so that a flows-only replay never loads them.
 * flow-pipeline.ts is the same pipeline with the registry's analyzers.
 */
import { packetTime, type RawPacket } from '../capture/raw-packet.js'
import { AnomalyCounters } from '../decode/anomalies.js'
import {
  decodeFrameAt, decodeInnerEthernet, decodeInnerIp, DECODE_ARP, DECODE_DROP, DECODE_FLOW, DECODE_FRAGMENT,
} from '../decode/decode-packet.js'
import { FragmentReassembler } from '../decode/fragment-reassembler.js'
import { PacketInfo, TUNNEL_GRE, TUNNEL_IP_IN_IP, TUNNEL_TEREDO, TUNNEL_VXLAN } from '../decode/packet-info.js'
import { L4_TUNNEL_ONLY, L4_TUNNEL_ONLY_NONE } from '../decode/transport-layer.js'
import { formatAddr } from '../flow/addr-format.js'
import type { ConnRecord, WeirdRecord } from '../flow/conn-record.js'
import type { FlowTableConfig, FlowTableFactory, FlowTableLike } from '../flow/flow-table.js'
import { DEFAULT_FLOW_TABLE_CONFIG } from '../flow/flow-table-config.js'
import { LocalNets } from '../flow/local-nets.js'
import { UidGenerator } from '../flow/uid.js'
import { Counters } from '../util/counters.js'
import type { AppDispatcher, AppDispatcherConfig, AppDispatcherDeps } from '../app/app-dispatcher.js'
import type { AppAnalyzerFactory, AppConnInfo, HostObservation } from '../app/app-analyzer.js'
import { ArpTracker } from '../app/arp/arp.js'
import type { Logger } from '../util/logger.js'

/**
 * A packet this much older than the latest one (seconds) means the clock was stepped back:
 * the table is flushed and time restarts there (handle()). Smaller disorder (several
 * interfaces, merged captures) is clamped to keep time monotonic.
 */
export const CLOCK_STEP_BACK_S = 60

/** How far behind wall-clock time tick() keeps the timers (seconds; see tick()). */
export const TICK_SLACK_S = 2

export interface FlowPipelineConfig extends Omit<FlowTableConfig, 'localNets' | 'app'> {
  /** Zeek's -C: accept packets with bad IP/TCP/UDP/ICMP checksums. */
  ignoreChecksums: boolean
  /** Local networks for local_orig/local_resp; empty = Zeek's private address space. */
  localNets: readonly string[]
  /** Most weird rows emitted per anomaly name (the counters keep counting past it). */
  weirdRowsPerName: number
  /** Deepest tunnel nesting decoded. */
  maxTunnelDepth: number
  /** Application-layer analysis (protocol detection, dns/http/ssl/… logs, `service`). */
  app: boolean
  appConfig: Partial<AppDispatcherConfig>
}

export const DEFAULT_FLOW_PIPELINE_CONFIG: FlowPipelineConfig = {
  ...DEFAULT_FLOW_TABLE_CONFIG,
  ignoreChecksums: false,
  localNets: [],
  weirdRowsPerName: 1000,
  maxTunnelDepth: 3,
  app: true,
  appConfig: {},
}

export interface FlowPipelineDeps {
  log?: Logger
  onConn: (rec: ConnRecord) => void
  onWeird?: (rec: WeirdRecord) => void
  /** Rows of application logs (dns, http, ssl, x509, ssh, dhcp, ftp). */
  onAppLog?: (path: string, row: Record<string, unknown>) => void
  /** Host facts for the asset inventory. */
  onObservation?: (obs: HostObservation, conn: AppConnInfo | undefined) => void
}

/** What a pipeline is built from besides its decoders (see the constructor). */
export interface FlowPipelineParts {
  makeTable: FlowTableFactory
  makeDispatcher?: (cfg: Partial<AppDispatcherConfig>, deps: AppDispatcherDeps) => AppDispatcher
}

export type PipelineCounter = 'packets_received' | 'packets_decoded' | 'packets_dropped' | 'packets_arp' |
  'packets_fragment' | 'datagrams_reassembled' | 'packets_tunnelled' | 'packets_out_of_order_time' | 'clock_steps_back'

export class FlowPipelineBase {
  readonly config: FlowPipelineConfig
  readonly counters = new Counters<PipelineCounter>()
  readonly anomalies = new AnomalyCounters()
  private readonly table: FlowTableLike
  /** ARP request/reply pairing and IP↔MAC facts (asset inventory). */
  private readonly arp = new ArpTracker()
  /** Application-layer dispatcher (undefined when app analysis is off). */
  readonly app: AppDispatcher | undefined
  private readonly frags = new FragmentReassembler()
  private readonly info = new PacketInfo()
  private readonly l4 = { v: 0 }
  private readonly tunnelUids = new UidGenerator('C')
  private readonly tunnels = new Map<string, string>()
  private readonly weirdRows = new Map<string, number>()
  private readonly pendingWeirds: string[] = []
  private readonly netOpts: { ignoreChecksums: boolean }
  private lastTime = 0
  private lastFragExpire = 0

  /**
   * `analyzers`: the application analyzers (app/registry.ts APP_ANALYZERS); unused when config.app is false.
   * `parts`: the flow table (FlowTable, or the WebAssembly core's for flows only) and, when
   * config.app is on, the dispatcher. Given by the caller, so that a run loads only the ones it uses.
   */
  constructor(cfg: Partial<FlowPipelineConfig>, private readonly deps: FlowPipelineDeps, analyzers: readonly AppAnalyzerFactory[],
    parts: FlowPipelineParts) {
    this.config = Object.freeze({ ...DEFAULT_FLOW_PIPELINE_CONFIG, ...cfg })
    this.netOpts = { ignoreChecksums: this.config.ignoreChecksums }
    const localNets = new LocalNets(this.config.localNets.length > 0 ? this.config.localNets : undefined)
    if (this.config.app && parts.makeDispatcher === undefined) throw new Error('FlowPipelineBase: config.app needs parts.makeDispatcher')
    this.app = this.config.app
      ? parts.makeDispatcher!(this.config.appConfig, {
        factories: analyzers,
        onLog: deps.onAppLog ?? (() => {}),
        onObservation: deps.onObservation,
        onAnomaly: (name) => this.anomalies.inc(name),
      })
      : undefined
    const tableCfg: FlowTableConfig = { ...this.config, localNets, app: this.app }
    this.table = parts.makeTable(tableCfg, deps.onConn)
    if (deps.onWeird) {
      const pending = this.pendingWeirds
      const anomalies = this.anomalies
      const inc = anomalies.inc.bind(anomalies)
      anomalies.inc = (name: string, by = 1) => { inc(name, by); pending.push(name) }
    }
  }

  /** Connections currently tracked. */
  get activeFlows(): number {
    return this.table.size
  }

  /** Packets handed to handle() and packets that reached the flow table (hot: plain fields). */
  packetsReceived = 0
  packetsDecoded = 0

  pipelineCounters(): Record<string, number> {
    return { ...this.counters.snapshot(), packets_received: this.packetsReceived, packets_decoded: this.packetsDecoded }
  }

  flowCounters(): Record<string, number> {
    return { ...this.table.counters(), ...this.frags.counters.snapshot() }
  }

  handle = (pkt: RawPacket): void => {
    this.packetsReceived++
    let t = packetTime(pkt)
    if (t < this.lastTime) {
      if (this.lastTime - t > CLOCK_STEP_BACK_S) {
        // The clock was stepped back (a VM restored from a snapshot, a manual date fix, NTP
        // stepping a badly wrong clock). Clamping would freeze time until the clock caught up
        // again: every flow stamped with one instant, durations 0, no timeouts (the table
        // fills up) for as long as the step. So end every tracked connection as it is (as at
        // the end of a capture) and continue on the new time base; counted and a weird row.
        this.counters.inc('clock_steps_back')
        this.anomalies.inc('capture_clock_stepped_back')
        this.table.flushAll()
        this.lastFragExpire = t
      } else {
        // Out-of-order capture time: keep time monotonic for timers, as Zeek's network_time.
        this.counters.inc('packets_out_of_order_time')
        t = this.lastTime
      }
    }
    this.lastTime = t
    this.table.advance(t)
    const info = this.info
    let buf = pkt.frameBuf
    let off = pkt.frameOff ?? 0
    let len = pkt.frameLen ?? 0
    if (buf === undefined) { buf = pkt.data; off = 0; len = buf.length }
    const status = decodeFrameAt(pkt.linkType, buf, off, off + len, len < pkt.origLen, info, this.anomalies, this.netOpts, this.l4)
    this.dispatch(status, t, pkt.ifName, undefined, 0)
    if (this.pendingWeirds.length > 0) this.flushWeirds(t)
    if (t - this.lastFragExpire >= 1) {
      this.lastFragExpire = t
      if (this.frags.pending > 0) this.frags.expire(t)
    }
  }

  /**
   * The packet clock, for a fast path that accounts packets without handle() (agent/flowcore):
   * it reads the clock before a run, and hands it back with what it counted after.
   */
  fastPathClock(): { lastTime: number; lastFragExpire: number; fragmentsPending: boolean } {
    return { lastTime: this.lastTime, lastFragExpire: this.lastFragExpire, fragmentsPending: this.frags.pending > 0 }
  }

  fastPathDone(lastTime: number, lastFragExpire: number, packets: number, outOfOrder: number): void {
    this.lastTime = lastTime
    this.lastFragExpire = lastFragExpire
    this.packetsReceived += packets
    this.packetsDecoded += packets
    if (outOfOrder > 0) this.counters.inc('packets_out_of_order_time', outOfOrder)
  }

  /** Emit every tracked connection (end of capture or shutdown). */
  flushAll(): void {
    this.table.flushAll()
  }

  /**
   * Advance timers to wall-clock `t` without a packet (live capture on a quiet link), less
   * TICK_SLACK_S: packets reach us up to the capture buffer timeout (and any event-loop delay)
   * after the kernel stamped them. The packet clock (lastTime) is not moved: it did, and every
   * packet stamped before a tick but delivered after it was clamped to the tick's time — a
   * short connection caught across a tick got duration 0 (no duration/bytes in its record)
   * and a shifted start time.
   */
  tick(t: number): void {
    const target = t - TICK_SLACK_S
    if (target > this.lastTime) this.table.advance(target)
  }

  private dispatch(status: number, t: number, iface: string, parent: string | undefined, depth: number): void {
    const info = this.info
    switch (status) {
      case DECODE_DROP:
        this.counters.inc('packets_dropped')
        return
      case DECODE_ARP:
        this.counters.inc('packets_arp')
        if (this.deps.onObservation) {
          const observe = this.deps.onObservation
          this.arp.packet(info.buf, info.arpOff, t, (o) => observe(o, undefined))
        }
        return
      case DECODE_FRAGMENT:
        this.counters.inc('packets_fragment')
        this.reassemble(t, iface, parent, depth)
        return
      case DECODE_FLOW:
        break
      default:
        return
    }
    this.packetsDecoded++
    const l4 = this.l4.v
    if (l4 === L4_TUNNEL_ONLY_NONE) return
    if (l4 === L4_TUNNEL_ONLY) {
      // GRE / IP-in-IP: no connection of its own; the tunnel gets a uid as Zeek's tunnel.log.
      const key = `${info.tunnelType}|${info.buf.toString('latin1', info.srcAddrOff, info.srcAddrOff + info.addrLen)}|${info.buf.toString('latin1', info.dstAddrOff, info.dstAddrOff + info.addrLen)}`
      let uid = this.tunnels.get(key)
      if (uid === undefined) {
        uid = this.tunnelUids.next()
        if (this.tunnels.size > 100_000) this.tunnels.clear()
        this.tunnels.set(key, uid)
      }
      this.decapsulate(t, iface, uid, depth)
      return
    }
    const conn = this.table.packet(info, l4, t, iface, parent)
    if (conn !== undefined && (info.tunnelType === TUNNEL_VXLAN || info.tunnelType === TUNNEL_TEREDO)) {
      this.decapsulate(t, iface, conn.uid, depth)
    }
  }

  private decapsulate(t: number, iface: string, parentUid: string, depth: number): void {
    const info = this.info
    if (depth + 1 > this.config.maxTunnelDepth) {
      this.anomalies.inc('exceeded_tunnel_max_depth')
      return
    }
    this.counters.inc('packets_tunnelled')
    const buf = info.buf
    const end = info.l4Off + info.l4CapLen
    const off = info.innerOff
    const type = info.tunnelType
    let status: number
    if (info.innerIsEthernet) {
      status = decodeInnerEthernet(buf, off, end, info, this.anomalies, this.netOpts, this.l4)
    } else if (type === TUNNEL_GRE || type === TUNNEL_IP_IN_IP || type === TUNNEL_TEREDO) {
      status = decodeInnerIp(buf, off, end, info, this.anomalies, this.netOpts, this.l4)
    } else {
      return
    }
    this.dispatch(status, t, iface, parentUid, depth + 1)
  }

  private reassemble(t: number, iface: string, parent: string | undefined, depth: number): void {
    const info = this.info
    const b = info.buf
    const v6 = info.ipVersion === 6
    const key = `${info.ipVersion}|${b.toString('latin1', info.srcAddrOff, info.srcAddrOff + info.addrLen)}|` +
      `${b.toString('latin1', info.dstAddrOff, info.dstAddrOff + info.addrLen)}|${info.fragId}|${info.ipProto}|${info.vlan}|${parent ?? ''}`
    const payloadEnd = info.l4Off + info.l4CapLen
    const payload = b.subarray(info.fragPayloadOff, payloadEnd)
    const whole = this.frags.add(key, t, info.fragOffset, info.fragMore, payload, v6)
    if (whole === null) return
    this.counters.inc('datagrams_reassembled')
    // Rebuild a plain IP packet (header of the completing fragment, no fragmentation) and decode it.
    let pktBuf: Buffer
    if (!v6) {
      const hl = info.ipHdrLen
      pktBuf = Buffer.allocUnsafe(hl + whole.length)
      b.copy(pktBuf, 0, info.ipOff, info.ipOff + hl)
      pktBuf.writeUInt16BE(hl + whole.length, 2)
      pktBuf.writeUInt16BE(0, 6)
      pktBuf.writeUInt16BE(0, 10)
      whole.copy(pktBuf, hl)
      let sum = 0
      for (let i = 0; i < hl; i += 2) sum += pktBuf.readUInt16BE(i)
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16)
      pktBuf.writeUInt16BE(~sum & 0xffff, 10)
    } else {
      pktBuf = Buffer.allocUnsafe(40 + whole.length)
      b.copy(pktBuf, 0, info.ipOff, info.ipOff + 40)
      pktBuf.writeUInt16BE(whole.length, 4)
      pktBuf[6] = info.ipProto
      whole.copy(pktBuf, 40)
    }
    const status = decodeInnerIp(pktBuf, 0, pktBuf.length, info, this.anomalies, this.netOpts, this.l4)
    if (status === DECODE_FRAGMENT) { this.anomalies.inc('fragment_pending'); return }
    this.dispatch(status, t, iface, parent, depth)
  }

  private flushWeirds(t: number): void {
    const onWeird = this.deps.onWeird!
    const info = this.info
    const haveIp = info.ipVersion !== 0
    for (const name of this.pendingWeirds) {
      const n = (this.weirdRows.get(name) ?? 0) + 1
      this.weirdRows.set(name, n)
      if (n > this.config.weirdRowsPerName) continue
      onWeird({
        ts: t,
        uid: undefined,
        origH: haveIp ? formatAddr(info.buf, info.srcAddrOff, info.addrLen) : undefined,
        origP: haveIp && info.sport ? info.sport : undefined,
        respH: haveIp ? formatAddr(info.buf, info.dstAddrOff, info.addrLen) : undefined,
        respP: haveIp && info.dport ? info.dport : undefined,
        name,
        addl: '',
        notice: false,
        peer: 'telltale',
        source: 'packet',
      })
    }
    this.pendingWeirds.length = 0
  }
}
