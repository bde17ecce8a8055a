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
  /**
   * The same bytes as `data`, as a range of a larger buffer: frameBuf[frameOff, frameOff +
   * frameLen). The hot path (the flow pipeline) reads these, so a source can skip creating
   * the `data` view per packet (the file readers do: `data` is then made on first access).
   * Optional: a packet without them (a plain object from a caller) is read through `data`.
   */
  frameBuf?: Buffer
  frameOff?: number
  frameLen?: number
  /** Length of the frame on the wire (may exceed data.length when snaplen cut it). */
  origLen: number
  /** Interface index within the source (pcapng IDB index; 0 for classic pcap). */
  ifIndex: number
  /** Interface name when known (pcapng if_name, live device name), else ''. */
  ifName: string
}

export type PacketHandler = (pkt: RawPacket) => void

const EMPTY = Buffer.alloc(0)

/**
 * The reused packet object of every source. Assigning `data` sets the frame range to the
 * whole view; setFrame() sets the range without making a view (about a sixth of the
 * per-packet garbage of a replay was these views), and `data` is then created on demand.
 */
export class ReusedPacket implements RawPacket {
  tsSec = 0
  tsNsec = 0
  linkType = 1
  origLen = 0
  ifIndex = 0
  ifName = ''
  frameBuf: Buffer = EMPTY
  frameOff = 0
  frameLen = 0
  private view: Buffer | undefined = EMPTY

  get data(): Buffer {
    return (this.view ??= this.frameBuf.subarray(this.frameOff, this.frameOff + this.frameLen))
  }

  set data(b: Buffer) {
    this.view = b
    this.frameBuf = b
    this.frameOff = 0
    this.frameLen = b.length
  }

  /** The frame is buf[off, off + len); valid only during the onPacket call. */
  setFrame(buf: Buffer, off: number, len: number): void {
    this.frameBuf = buf
    this.frameOff = off
    this.frameLen = len
    this.view = undefined
  }
}

export function newRawPacket(): ReusedPacket {
  return new ReusedPacket()
}

/**
 * Timestamp as Zeek sees it: libpcap delivers microseconds, and Zeek computes
 * `tv_sec + tv_usec / 1e6` as a double. Nanosecond captures are truncated to microseconds
 * exactly as libpcap does when it opens them at microsecond precision.
 */
export function packetTime(pkt: RawPacket): number {
  return pkt.tsSec + Math.floor(pkt.tsNsec / 1000) / 1e6
}
