import { createRequire } from 'node:module'
import { endianness } from 'node:os'
import type { RawPacket } from './raw-packet.js'
import { linkTypeFromBindingName, type KernelStats, type LiveBackend, type LiveHandle, type LiveOpenOptions } from './live-backend.js'

/**
 * Live capture through the `pcap` npm package (node_pcap 3.x).
 *
 * We drive its native `PcapSession` directly instead of `pcap.createSession()`: the JS
 * wrapper allocates a `PacketWithHeader` object and emits an event per packet, and its
 * `close()` only calls pcap_breakloop(), so the poll handle stays alive until another
 * packet arrives. The native class gives us what we need: pcap_create/activate with
 * snaplen, promiscuous flag, buffer size, buffer timeout or immediate mode; a 16-byte header
 * per packet (tv_sec, tv_usec, caplen, len: libpcap's timestamp and wire length); and
 * pcap_stats().
 */

interface NativeSession {
  open_live(dev: string, filter: string, bufferSize: number, snaplen: number, outFile: string,
    onPacket: () => void, monitor: boolean, bufferTimeoutMs: number, onWarning: (msg: string) => void, promisc: boolean): string
  dispatch(buf: Buffer, header: Buffer): number
  start_polling(): void
  close(): void
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number }
  read_callback?: () => void
}

interface NativeBinding {
  PcapSession: new () => NativeSession
  findalldevs(): Array<{ name: string }>
}

let binding: NativeBinding | undefined

function loadBinding(): NativeBinding {
  if (!binding) {
    const require = createRequire(import.meta.url)
    binding = require('pcap/build/Release/pcap_binding.node') as NativeBinding
  }
  return binding
}

const LE = endianness() === 'LE'

/** pcap_dispatch() returns -2 after pcap_breakloop(); the binding then closes the handle. */
const PCAP_ERROR_BREAK = -2
/**
 * pcap_dispatch() returns -1 when reading fails: on Linux when the interface went down or
 * disappeared (ENETDOWN / ENODEV). Seen once; the binding's poll handle then stops firing.
 */
const PCAP_ERROR = -1

/**
 * Closed handles whose pcap_t the binding has not released yet. They must stay referenced:
 * if the JS session object were collected, the binding's still-active poll handle would
 * call into a freed C++ object (seen as a SIGSEGV at the next event on that device).
 */
const unreleased = new Set<PcapHandle>()

class PcapHandle implements LiveHandle {
  readonly headerTimestamps = true
  readonly kernelStatsAvailable = true
  readonly linkType: number
  private closed = false
  /** The binding closed the pcap_t (dispatch returned -2): never call into it again. */
  private finalized = false
  private readonly session: NativeSession
  private readonly buf: Buffer
  private readonly header = Buffer.alloc(16)

  private failed = false

  constructor(opts: LiveOpenOptions, pkt: RawPacket, deliver: () => void, onWarning: (msg: string) => void, private readonly onFailure: (reason: string) => void) {
    const session = new (loadBinding().PcapSession)()
    this.session = session
    const buf = Buffer.alloc(opts.snaplen)
    this.buf = buf
    const header = this.header
    const onPacket = (): void => {
      if (this.closed) return
      // tv_sec is copied as 4 bytes (the low half of time_t): unsigned until 2106.
      const caplen = LE ? header.readUInt32LE(8) : header.readUInt32BE(8)
      pkt.tsSec = LE ? header.readUInt32LE(0) : header.readUInt32BE(0)
      pkt.tsNsec = (LE ? header.readUInt32LE(4) : header.readUInt32BE(4)) * 1000
      pkt.origLen = LE ? header.readUInt32LE(12) : header.readUInt32BE(12)
      pkt.data = buf.subarray(0, caplen < buf.length ? caplen : buf.length)
      pkt.linkType = this.linkType
      deliver()
    }
    const name = session.open_live(opts.iface, opts.filter, opts.bufferSize, opts.snaplen, '', onPacket, false,
      opts.bufferTimeoutMs, onWarning, opts.promisc)
    this.linkType = linkTypeFromBindingName(name)
    // After close() this keeps dispatching (packets are ignored) until pcap_dispatch()
    // returns -2, which is when the binding finally stops polling and closes the pcap_t.
    session.read_callback = () => this.dispatch()
    session.start_polling()
  }

  kernelStats(): KernelStats | null {
    if (this.closed) return null
    try {
      const s = this.session.stats()
      // pcap_stat fields are u_int; the binding may hand them over as signed int32.
      return { received: s.ps_recv >>> 0, dropped: s.ps_drop >>> 0, ifDropped: s.ps_ifdrop >>> 0 }
    } catch {
      return null
    }
  }

  drain(): void {
    if (!this.closed) this.dispatch()
  }

  /**
   * node_pcap's close() only calls pcap_breakloop(), and in non-blocking mode libpcap
   * notices the break only when a packet is read; the binding releases the device (stops
   * its poll handle, pcap_close()) when pcap_dispatch() returns -2. So: break, try once
   * now, and otherwise the device is released at the next packet on that interface (or
   * when the interface goes away). Until then the poll handle keeps the event loop alive;
   * docs/capture.md says so. Packets read meanwhile are discarded.
   */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    this.session.close()
    this.dispatch()
    if (!this.finalized) unreleased.add(this)
    return Promise.resolve()
  }

  private dispatch(): void {
    if (this.finalized) return
    const r = this.session.dispatch(this.buf, this.header)
    if (r === PCAP_ERROR_BREAK) {
      this.finalized = true
      unreleased.delete(this)
    } else if (r === PCAP_ERROR && !this.closed && !this.failed) {
      this.failed = true
      this.onFailure('libpcap could not read from the device (it went down or disappeared)')
    }
  }
}

/**
 * Whether the device opens with these options, without polling it: the probe's pcap_t is
 * left to the binding (one socket, smallest buffer) because closing it would need a packet
 * (see close() above). Used only on the error path, which ends the program.
 */
function probePcap(opts: LiveOpenOptions): boolean {
  try {
    new (loadBinding().PcapSession)().open_live(opts.iface, opts.filter, 65536, 64, '', () => undefined, false,
      opts.bufferTimeoutMs, () => undefined, opts.promisc)
    return true
  } catch {
    return false
  }
}

/** Stopped pcap handles still waiting for a packet to be released (see close()). */
export function unreleasedPcapHandles(): number {
  return unreleased.size
}

export function createPcapBackend(onWarning: (msg: string) => void): LiveBackend {
  return {
    name: 'pcap',
    open: (opts, pkt, deliver, onFailure) => new PcapHandle(opts, pkt, deliver, onWarning, onFailure),
    probe: probePcap,
    listDevices: () => {
      try {
        return loadBinding().findalldevs().map((d) => d.name)
      } catch {
        return []
      }
    },
  }
}
