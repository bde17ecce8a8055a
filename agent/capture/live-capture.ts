import { Counters } from '../util/counters.js'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { newRawPacket, type PacketHandler } from './raw-packet.js'
import type { KernelStats, LiveBackend, LiveHandle } from './live-backend.js'
import { createCapBackend } from './live-backend-cap.js'
import { createPcapBackend } from './live-backend-pcap.js'
import {
  badFilterError, classifyOpenFailure, messageOf, noSuchDeviceError, openFailedError, permissionError,
} from './live-capture-errors.js'

export type LiveBackendName = 'cap' | 'pcap'

export interface LiveCaptureConfig {
  /** Devices to capture on at once (ifIndex of a packet = its position here). */
  interfaces: string[]
  /** BPF expression (pcap-filter(7)), '' = all. */
  filter: string
  snaplen: number
  promisc: boolean
  /** Kernel capture buffer per interface, bytes. */
  bufferSize: number
  /** How often pcap_stats() is read into the counters. */
  statsIntervalMs: number
  backend: LiveBackendName
  /**
   * libpcap packet buffer timeout (ms). 0 = immediate mode. The default (100) lets libpcap
   * hand over TPACKET_V3 blocks (far fewer wake-ups under load) while keeping latency
   * bounded. The cap binding always uses immediate mode.
   */
  bufferTimeoutMs: number
  /** A device that failed (went down, disappeared) is opened again this often until it works. */
  reopenIntervalMs: number
}

/** Default backend: see docs/capture.md for the measurements behind the choice. */
export const DEFAULT_LIVE_BACKEND: LiveBackendName = 'pcap'

export const LIVE_CAPTURE_DEFAULTS: Readonly<Omit<LiveCaptureConfig, 'interfaces'>> = Object.freeze({
  filter: '',
  snaplen: 262144,
  promisc: true,
  bufferSize: 32 * 1024 * 1024,
  statsIntervalMs: 10_000,
  backend: DEFAULT_LIVE_BACKEND,
  bufferTimeoutMs: 100,
  reopenIntervalMs: 5000,
})

export type LiveCaptureCounter =
  | 'capture_packets_received' | 'capture_bytes_received'
  | 'capture_kernel_received' | 'capture_kernel_dropped' | 'capture_if_dropped'
  | 'capture_stats_errors' | 'capture_truncated_by_binding'
  | 'capture_device_failures' | 'capture_device_reopens'

export interface LiveInterfaceStats {
  iface: string
  /** Packets delivered to our handler. */
  received: number
  /** Latest pcap_stats() ps_recv / ps_drop / ps_ifdrop (0 when the backend has no stats). */
  kernelReceived: number
  kernelDropped: number
  ifDropped: number
  kernelStatsAvailable: boolean
  linkType: number
  /** False while the device is failed (gone or down) and being reopened. */
  up: boolean
}

interface OpenInterface {
  iface: string
  handle: LiveHandle
  received: number
  /** Latest pcap_stats() of the current handle. */
  last: KernelStats
  /** Kernel counts of the handles before a reopen (pcap_stats() restarts at 0 with each). */
  base: KernelStats
  /** The device failed; `handle` is the failed one until a reopen works. */
  down: boolean
  deliver: () => void
}

const ZERO_STATS: Readonly<KernelStats> = Object.freeze({ received: 0, dropped: 0, ifDropped: 0 })

export function resolveLiveCaptureConfig(cfg: Partial<LiveCaptureConfig> & { interfaces: string[] }): LiveCaptureConfig {
  const full: LiveCaptureConfig = { ...LIVE_CAPTURE_DEFAULTS, ...cfg }
  const bad = (what: string): never => {
    throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `live capture: ${what}`)
  }
  if (full.interfaces.length === 0) bad('no interface given: name at least one (e.g. -i eth0)')
  if (new Set(full.interfaces).size !== full.interfaces.length) bad(`an interface is listed twice: ${full.interfaces.join(', ')}`)
  if (!Number.isInteger(full.snaplen) || full.snaplen < 64 || full.snaplen > 262144) bad(`snaplen ${full.snaplen} must be an integer in 64..262144`)
  if (!Number.isInteger(full.bufferSize) || full.bufferSize < 65536 || full.bufferSize > 2 ** 31 - 1) bad(`bufferSize ${full.bufferSize} must be an integer in 65536..2147483647 bytes`)
  if (!Number.isInteger(full.statsIntervalMs) || full.statsIntervalMs < 100) bad(`statsIntervalMs ${full.statsIntervalMs} must be an integer >= 100`)
  if (!Number.isInteger(full.bufferTimeoutMs) || full.bufferTimeoutMs < 0 || full.bufferTimeoutMs > 10_000) bad(`bufferTimeoutMs ${full.bufferTimeoutMs} must be an integer in 0..10000`)
  if (!Number.isInteger(full.reopenIntervalMs) || full.reopenIntervalMs < 100) bad(`reopenIntervalMs ${full.reopenIntervalMs} must be an integer >= 100`)
  if (full.backend !== 'cap' && full.backend !== 'pcap') bad(`backend "${String(full.backend)}" must be cap or pcap`)
  return full
}

/**
 * Live capture on one or more devices through libpcap (`cap` or `pcap` binding).
 * Every packet goes to `onPacket` through one reused RawPacket (valid only during the call).
 * Kernel counters (pcap_stats) are read every statsIntervalMs, at stop(), and on demand by
 * stats(); their increases feed capture_kernel_received / _dropped / capture_if_dropped.
 *
 * A device that fails while captured (interface deleted, link down: libpcap's read fails, or
 * its stats fail and the device is no longer listed) is logged once, counted
 * (capture_device_failures), and opened again every reopenIntervalMs until that works
 * (capture_device_reopens, logged once): a SPAN port whose NIC is reset, or a veth/bridge
 * that is recreated, comes back without restarting the agent. The other devices, the log
 * sources and shipping carry on meanwhile; stats() says which device is down, and both
 * counters reach the collector with the heartbeat.
 */
export class LiveCapture {
  readonly counters = new Counters<LiveCaptureCounter>()
  private readonly cfg: LiveCaptureConfig
  private readonly log: Logger
  private open: OpenInterface[] = []
  private timer: NodeJS.Timeout | undefined
  private reopenTimer: NodeJS.Timeout | undefined
  private backend: LiveBackend | undefined
  private pkt = newRawPacket()
  private running = false

  constructor(cfg: Partial<LiveCaptureConfig> & { interfaces: string[] }, deps: { log: Logger }) {
    this.cfg = resolveLiveCaptureConfig(cfg)
    this.log = deps.log
  }

  get backendName(): LiveBackendName {
    return this.cfg.backend
  }

  start(onPacket: PacketHandler): void {
    if (this.running) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, 'live capture already started')
    const backend = this.makeBackend()
    this.backend = backend
    const pkt = this.pkt
    const counters = this.counters
    try {
      this.cfg.interfaces.forEach((iface, ifIndex) => {
        const entry: OpenInterface = {
          iface, handle: undefined as unknown as LiveHandle, received: 0, last: { ...ZERO_STATS }, base: { ...ZERO_STATS }, down: false,
          deliver: () => {
            pkt.ifIndex = ifIndex
            pkt.ifName = iface
            entry.received++
            counters.inc('capture_packets_received')
            counters.inc('capture_bytes_received', pkt.data.length)
            onPacket(pkt)
          },
        }
        entry.handle = this.openOne(backend, entry)
        this.open.push(entry)
        this.log.info({ iface, backend: backend.name, linkType: entry.handle.linkType, filter: this.cfg.filter,
          snaplen: this.cfg.snaplen, promisc: this.cfg.promisc, headerTimestamps: entry.handle.headerTimestamps }, 'capturing')
      })
    } catch (err) {
      for (const o of this.open) void o.handle.close()
      this.open = []
      throw err
    }
    this.running = true
    this.timer = setInterval(() => this.readKernelStats(), this.cfg.statsIntervalMs)
    this.timer.unref()
  }

  /** Reads what libpcap still holds, takes a last pcap_stats() reading, closes every device. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    if (this.reopenTimer) clearInterval(this.reopenTimer)
    this.reopenTimer = undefined
    if (!this.running) return
    this.running = false
    for (const o of this.open) if (!o.down) o.handle.drain()
    this.readKernelStats()
    await Promise.all(this.open.map((o) => o.handle.close()))
    this.log.info({ stats: this.stats() }, 'capture stopped')
  }

  stats(): LiveInterfaceStats[] {
    if (this.running) this.readKernelStats()
    return this.open.map((o) => ({
      iface: o.iface,
      received: o.received,
      kernelReceived: o.base.received + o.last.received,
      kernelDropped: o.base.dropped + o.last.dropped,
      ifDropped: o.base.ifDropped + o.last.ifDropped,
      kernelStatsAvailable: o.handle.kernelStatsAvailable,
      linkType: o.handle.linkType,
      up: !o.down,
    }))
  }

  private makeBackend(): LiveBackend {
    if (this.cfg.backend === 'cap') {
      let warned = false
      if (this.cfg.snaplen > 65535) this.log.warn({ snaplen: this.cfg.snaplen }, 'the cap binding captures at most 65535 bytes per packet')
      return createCapBackend(() => {
        this.counters.inc('capture_truncated_by_binding')
        if (!warned) {
          warned = true
          this.log.warn('a packet was longer than the copy buffer and was truncated (counted in capture_truncated_by_binding)')
        }
      })
    }
    return createPcapBackend((msg) => this.log.debug({ libpcap: msg }, 'libpcap warning'))
  }

  /** The device of `entry` failed: close it, count, log once, and reopen it on a timer. */
  private failed(entry: OpenInterface, reason: string): void {
    if (!this.running || entry.down) return
    entry.down = true
    this.counters.inc('capture_device_failures')
    const s = entry.handle.kernelStats()
    if (s) this.addStats(entry, s)
    entry.base = { received: entry.base.received + entry.last.received, dropped: entry.base.dropped + entry.last.dropped, ifDropped: entry.base.ifDropped + entry.last.ifDropped }
    entry.last = { ...ZERO_STATS }
    void entry.handle.close()
    this.log.error({ iface: entry.iface, reason, retryMs: this.cfg.reopenIntervalMs }, `capture on ${entry.iface} stopped: ${reason}; opening it again every ${this.cfg.reopenIntervalMs / 1000} s`)
    if (this.reopenTimer === undefined) {
      this.reopenTimer = setInterval(() => this.reopenFailed(), this.cfg.reopenIntervalMs)
      this.reopenTimer.unref()
    }
  }

  private reopenFailed(): void {
    let stillDown = 0
    for (const o of this.open) {
      if (!o.down) continue
      try {
        o.handle = this.openOne(this.backend!, o)
        o.down = false
        this.counters.inc('capture_device_reopens')
        this.log.info({ iface: o.iface, linkType: o.handle.linkType }, `capture on ${o.iface} resumed`)
      } catch {
        stillDown++
      }
    }
    if (stillDown === 0 && this.reopenTimer !== undefined) {
      clearInterval(this.reopenTimer)
      this.reopenTimer = undefined
    }
  }

  private openOne(backend: LiveBackend, entry: OpenInterface): LiveHandle {
    const { iface, deliver } = entry
    const pkt = this.pkt
    const onFailure = (reason: string): void => this.failed(entry, reason)
    const opts = {
      iface, filter: this.cfg.filter, snaplen: this.cfg.snaplen, promisc: this.cfg.promisc,
      bufferSize: this.cfg.bufferSize, bufferTimeoutMs: this.cfg.bufferTimeoutMs,
    }
    try {
      return backend.open(opts, pkt, deliver, onFailure)
    } catch (err) {
      const msg = messageOf(err)
      if (!opts.promisc && backend.name === 'cap') throw new AgentError(AgentErrorCode.BAD_ARGUMENT, msg)
      const kind = classifyOpenFailure(msg)
      if (kind === 'permission') throw permissionError(iface, msg)
      if (kind === 'no-such-device') throw noSuchDeviceError(iface, backend.listDevices())
      if (opts.filter !== '') {
        // Was it the filter? The same open without it tells us.
        if (backend.probe({ ...opts, filter: '' })) throw badFilterError(opts.filter, msg, `on ${iface}`)
      }
      throw openFailedError(iface, msg)
    }
  }

  private readKernelStats(): void {
    for (const o of this.open) {
      if (o.down || !o.handle.kernelStatsAvailable) continue
      const s = o.handle.kernelStats()
      if (!s) {
        this.counters.inc('capture_stats_errors')
        // The cap binding reports no read errors: a device gone from libpcap's list has failed.
        if (!this.backend!.listDevices().includes(o.iface)) this.failed(o, 'the device is no longer there')
        continue
      }
      this.addStats(o, s)
    }
  }

  /** Cumulative u_int counters: add the (wrap-safe) increase since the last reading. */
  private addStats(o: OpenInterface, s: KernelStats): void {
    this.counters.inc('capture_kernel_received', (s.received - o.last.received) >>> 0)
    this.counters.inc('capture_kernel_dropped', (s.dropped - o.last.dropped) >>> 0)
    this.counters.inc('capture_if_dropped', (s.ifDropped - o.last.ifDropped) >>> 0)
    o.last = s
  }
}
