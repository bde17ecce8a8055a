/**
 * One captured frame as every packet source (pcap file, pcapng file, live libpcap) hands it on.
 *
 * Sources reuse ONE RawPacket object and overwrite it for every frame, and `data` is a view
 * into the source's own read buffer: both are valid only during the synchronous
 * `onPacket` call. A consumer that must keep bytes copies them (the flow table copies the
 * key only when it creates a flow).
 */
export interface RawPacket {
  /** Whole seconds since the epoch. */
  tsSec: number
  /** Nanoseconds within the second, 0..999_999_999 (microsecond sources multiply by 1000). */
  tsNsec: number
  /** libpcap link-layer type (DLT/LINKTYPE value, e.g. 1 = Ethernet, 113 = Linux SLL). */
  linkType: number
  /** Captured bytes (length = caplen). A view valid only during the callback. */
  data: Buffer
  /** Length of the frame on the wire (may exceed data.length when snaplen cut it). */
  origLen: number
  /** Interface index within the source (pcapng IDB index; 0 for classic pcap). */
  ifIndex: number
  /** Interface name when known (pcapng if_name, live device name), else ''. */
  ifName: string
}

export type PacketHandler = (pkt: RawPacket) => void

export function newRawPacket(): RawPacket {
  return { tsSec: 0, tsNsec: 0, linkType: 1, data: Buffer.alloc(0), origLen: 0, ifIndex: 0, ifName: '' }
}

/**
 * Timestamp as Zeek sees it: libpcap delivers microseconds, and Zeek computes
 * `tv_sec + tv_usec / 1e6` as a double. Nanosecond captures are truncated to microseconds
 * exactly as libpcap does when it opens them at microsecond precision.
 */
export function packetTime(pkt: RawPacket): number {
  return pkt.tsSec + Math.floor(pkt.tsNsec / 1000) / 1e6
}
