/**
 * Small hand-driven TCP/UDP exchanges for flow-table unit tests: each call is one packet
 * between client C (10.0.0.1) and server S (192.0.2.9), so a test reads like a trace.
 */
import type { ConnRecord } from '../../agent/flow/conn-record.js'
import { FlowPipeline, type FlowPipelineConfig } from '../../agent/pipeline/flow-pipeline.js'
import { parseCaptureBuffer } from '../../agent/capture/capture-file.js'
import { ethernet, ETHERTYPE_IPV4, ipv4, IPPROTO_TCP, IPPROTO_UDP, tcp, udp } from './packet-builder.js'
import { buildPcap, type CaptureFrame } from './pcap-writer.js'

export const CLIENT = '10.0.0.1'
export const SERVER = '192.0.2.9'

export class Trace {
  readonly frames: CaptureFrame[] = []
  private t = 1_600_000_000
  constructor(readonly cport = 40000, readonly sport = 8080) {}

  /** Advance the clock by `sec` seconds before the next packet. */
  wait(sec: number): this {
    this.t += sec
    return this
  }

  tcp(from: 'C' | 'S', flags: string, seq: number, ack: number, payload = 0, opts: { window?: number; badChecksum?: boolean } = {}): this {
    const [src, dst, sp, dp] = from === 'C' ? [CLIENT, SERVER, this.cport, this.sport] : [SERVER, CLIENT, this.sport, this.cport]
    const seg = tcp({ src, dst, sport: sp, dport: dp, seq, ack, flags, window: opts.window ?? 65535, badChecksum: opts.badChecksum }, Buffer.alloc(payload, 0x61))
    this.push(ipv4({ src, dst, protocol: IPPROTO_TCP }, seg))
    return this
  }

  udp(from: 'C' | 'S', payload: number): this {
    const [src, dst, sp, dp] = from === 'C' ? [CLIENT, SERVER, this.cport, this.sport] : [SERVER, CLIENT, this.sport, this.cport]
    this.push(ipv4({ src, dst, protocol: IPPROTO_UDP }, udp({ src, dst, sport: sp, dport: dp }, Buffer.alloc(payload, 0x62))))
    return this
  }

  raw(ipPacket: Buffer): this {
    this.push(ipPacket)
    return this
  }

  private push(ip: Buffer): void {
    const data = ethernet({ src: '02:00:00:00:00:01', dst: '02:00:00:00:00:02', etherType: ETHERTYPE_IPV4 }, ip)
    const sec = Math.floor(this.t)
    this.frames.push({ tsSec: sec, tsNsec: Math.round((this.t - sec) * 1e6) * 1000, data })
    this.t += 0.001
  }

  /** Run the frames through a fresh pipeline and return every record emitted. */
  run(cfg: Partial<FlowPipelineConfig> = {}): { recs: ConnRecord[]; pipeline: FlowPipeline } {
    const recs: ConnRecord[] = []
    const pipeline = new FlowPipeline(cfg, { onConn: (r) => recs.push(r) })
    parseCaptureBuffer(buildPcap(this.frames), pipeline.handle)
    pipeline.flushAll()
    return { recs, pipeline }
  }
}
