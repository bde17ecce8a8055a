import type { RawPacket } from './raw-packet.js'

/** What one opened capture device reports from libpcap's pcap_stats() (cumulative since open). */
export interface KernelStats {
  /** ps_recv: packets the kernel handed to the capture socket (Linux: including those it then dropped). */
  received: number
  /** ps_drop: packets dropped because the capture buffer was full. */
  dropped: number
  /** ps_ifdrop: packets the interface/driver dropped, where libpcap can tell (0 may mean "unknown"). */
  ifDropped: number
}

export interface LiveOpenOptions {
  iface: string
  /** BPF expression, '' = everything. */
  filter: string
  snaplen: number
  promisc: boolean
  /** Kernel capture buffer in bytes. */
  bufferSize: number
  /**
   * Packet buffer timeout in ms; 0 = immediate mode (every packet wakes us up, TPACKET_V2
   * on Linux). A positive value lets libpcap batch packets in TPACKET_V3 blocks.
   */
  bufferTimeoutMs: number
}

/**
 * One opened device. The backend fills the caller's RawPacket in place (data, caplen,
 * origLen, timestamps, linkType) and calls `deliver()` synchronously for every packet.
 */
export interface LiveHandle {
  /** LINKTYPE_* value of the device. */
  readonly linkType: number
  /** True when timestamps come from libpcap's packet header, false when they are the wall clock at delivery. */
  readonly headerTimestamps: boolean
  /** True when the backend can read pcap_stats(). */
  readonly kernelStatsAvailable: boolean
  /** Latest cumulative pcap_stats(), or null when unavailable or the read failed. */
  kernelStats(): KernelStats | null
  /** Read whatever libpcap already holds for us, synchronously (used before close). */
  drain(): void
  close(): Promise<void>
}

export interface LiveBackend {
  readonly name: 'cap' | 'pcap'
  /**
   * Throws the binding's own Error (message = libpcap's text); LiveCapture turns it into an
   * AgentError. `onFailure` is called at most once, when reading the opened device fails
   * (it went down or disappeared); the handle delivers nothing afterwards.
   */
  open(opts: LiveOpenOptions, pkt: RawPacket, deliver: () => void, onFailure: (reason: string) => void): LiveHandle
  /**
   * Whether the device would open with these options; used on the error path to tell a
   * bad filter (the same open works without it) from a device problem.
   */
  probe(opts: LiveOpenOptions): boolean
  /** Device names libpcap can open (pcap_findalldevs), [] when the list cannot be read. */
  listDevices(): string[]
}

/**
 * Both bindings report the link type as a string (their own names); turn it back into the
 * LINKTYPE_* number. "Unknown linktype N" carries libpcap's DLT number, which equals the
 * LINKTYPE value for every DLT above 104 (SLL2 = 276 included).
 */
export function linkTypeFromBindingName(name: string): number {
  switch (name) {
    case 'NULL': case 'LINKTYPE_NULL': return 0
    case 'ETHERNET': case 'LINKTYPE_ETHERNET': return 1
    case 'RAW': case 'LINKTYPE_RAW': return 101
    case 'IEEE802_11_RADIO': case 'LINKTYPE_IEEE802_11_RADIO': return 127
    case 'LINUX_SLL': case 'LINKTYPE_LINUX_SLL': return 113
    default: {
      const m = /^Unknown linktype (\d+)$/.exec(name)
      return m ? Number(m[1]) : -1
    }
  }
}
