/**
 * Streaming reader for pcapng (https://ietf-opsawg-wg.github.io/draft-ietf-opsawg-pcap/):
 * Section Header Blocks in either byte order (a new SHB starts a new interface list),
 * Interface Description Blocks (linktype, snaplen, if_name, if_tsresol 10^-k or 2^-k,
 * if_tsoffset, if_fcslen), Enhanced Packet Blocks, Simple Packet Blocks (cut at interface
 * 0's snaplen, no timestamp: 0 like libpcap) and obsolete Packet Blocks (type 2). Every other
 * block type is skipped by its length; trailing block lengths are checked.
 *
 * Same contract as the pcap reader: push(chunk)/end(), packets emitted synchronously through
 * ONE reused RawPacket with a zero-copy `data` view, a carry-over buffer bounded by
 * MAX_BLOCK_BYTES for a block split across chunks, named anomalies instead of throws.
 * RawPacket.ifIndex is the interface's global number across sections (== the IDB index in
 * the usual single-section file).
 */
import { Counters } from '../util/counters.js'
import { u16be, u16le, u32be, u32le } from './file-bytes.js'
import {
  completeCarry, FileAnomaly, FileCarry, MAX_BLOCK_BYTES, MAX_PACKET_BYTES,
  type CaptureInterfaceInfo, type CaptureStreamReader, type FileAnomalyName, type ReaderFailure,
} from './file-reader-common.js'
import { ticksToSecNsec, timestampScale, type SecNsec, type TimestampScale } from './file-timestamp.js'
import { SUPPORTED_LINK_TYPES } from './link-types.js'
import { newRawPacket, type PacketHandler } from './raw-packet.js'

export const PCAPNG_SHB_TYPE = 0x0a0d0d0a
const BYTE_ORDER_MAGIC = 0x1a2b3c4d
const BYTE_ORDER_MAGIC_SWAPPED = 0x4d3c2b1a
const IDB = 1
const OBSOLETE_PB = 2
const SPB = 3
const EPB = 6

const OPT_END = 0
const IF_NAME = 2
const IF_TSRESOL = 9
const IF_FCSLEN = 13
const IF_TSOFFSET = 14

interface Iface {
  info: CaptureInterfaceInfo
  scale: TimestampScale
}

export class PcapngReader implements CaptureStreamReader {
  packets = 0
  bytes = 0
  failure: ReaderFailure | null = null

  private le = true
  private section = -1
  private stopped = false
  private ifaces: Iface[] = []
  private readonly allIfaces: CaptureInterfaceInfo[] = []
  private anySupported = false
  private readonly ts: SecNsec = { sec: 0, nsec: 0 }
  private readonly pkt = newRawPacket()
  private readonly carry = new FileCarry()
  private readonly counters = new Counters<FileAnomalyName>()
  private readonly sizeOfFn = (buf: Buffer, len: number): number => len < 12 ? 12 : this.blockLength(buf, 0)
  private readonly parseOneFn = (buf: Buffer, len: number): void => { this.parse(buf, 0, len) }

  constructor(private readonly onPacket: PacketHandler) {}

  push(chunk: Buffer): void {
    if (this.stopped) return
    let off = 0
    if (this.carry.len > 0) {
      off = completeCarry(this.carry, chunk, this.sizeOfFn, this.parseOneFn)
      if (off < 0 || this.stopped) return
    }
    const rest = this.parse(chunk, off, chunk.length)
    if (rest < chunk.length && !this.stopped) this.carry.append(chunk, rest, chunk.length)
  }

  end(): void {
    if (this.carry.len > 0 && !this.stopped) this.counters.inc(FileAnomaly.truncatedRecord)
    this.carry.reset()
    this.stopped = true
  }

  anomalies(): Record<string, number> {
    return this.counters.snapshot()
  }

  interfaces(): CaptureInterfaceInfo[] {
    return this.allIfaces.map((i) => ({ ...i }))
  }

  private stop(anomaly: FileAnomalyName): void {
    this.counters.inc(anomaly)
    this.counters.inc(FileAnomaly.parseStopped)
    this.stopped = true
  }

  private fail(kind: ReaderFailure['kind'], message: string): void {
    this.failure = { kind, message }
    this.stopped = true
  }

  /**
   * Total length of the block at buf[off] (at least 12 bytes available), validated;
   * -1 after recording why when the framing is unusable (the reader then stops).
   */
  private blockLength(buf: Buffer, off: number): number {
    let le = this.le
    const type = le ? u32le(buf, off) : u32be(buf, off)
    if (type === PCAPNG_SHB_TYPE) {
      const bom = u32le(buf, off + 8)
      if (bom === BYTE_ORDER_MAGIC) le = true
      else if (bom === BYTE_ORDER_MAGIC_SWAPPED) le = false
      else {
        if (this.section < 0) this.fail('not_a_capture', 'pcapng section header with an invalid byte-order magic')
        else this.stop(FileAnomaly.pcapngBadByteOrderMagic)
        return -1
      }
    } else if (this.section < 0) {
      this.counters.inc(FileAnomaly.pcapngMissingSectionHeader)
      this.fail('not_a_capture', 'pcapng data does not start with a section header block')
      return -1
    }
    const len = le ? u32le(buf, off + 4) : u32be(buf, off + 4)
    if (len < 12 || (len & 3) !== 0 || len > MAX_BLOCK_BYTES || (type === PCAPNG_SHB_TYPE && len < 28)) {
      if (this.section < 0) this.fail('not_a_capture', `pcapng section header with an invalid length ${len}`)
      else this.stop(FileAnomaly.pcapngBadBlockLength)
      return -1
    }
    return len
  }

  /** Parses complete blocks in buf[off, end); returns where the first incomplete one starts. */
  private parse(buf: Buffer, off: number, end: number): number {
    while (end - off >= 12) {
      const len = this.blockLength(buf, off)
      if (len < 0) return end
      if (end - off < len) break
      this.block(buf, off, len)
      if (this.stopped) return end
      off += len
    }
    return off
  }

  private block(buf: Buffer, off: number, len: number): void {
    const type = this.le ? u32le(buf, off) : u32be(buf, off)
    if (type === PCAPNG_SHB_TYPE) this.le = u32le(buf, off + 8) === BYTE_ORDER_MAGIC
    const le = this.le
    const trailer = le ? u32le(buf, off + len - 4) : u32be(buf, off + len - 4)
    if (trailer !== len) { this.stop(FileAnomaly.pcapngBlockLengthMismatch); return }
    switch (type) {
      case EPB: {
        if (len < 32) { this.counters.inc(FileAnomaly.pcapngBadBlockLength); return }
        const ifId = le ? u32le(buf, off + 8) : u32be(buf, off + 8)
        const caplen = le ? u32le(buf, off + 20) : u32be(buf, off + 20)
        const origLen = le ? u32le(buf, off + 24) : u32be(buf, off + 24)
        const hi = le ? u32le(buf, off + 12) : u32be(buf, off + 12)
        const lo = le ? u32le(buf, off + 16) : u32be(buf, off + 16)
        this.packet(buf, off + 28, caplen, origLen, off + len - 4, ifId, hi, lo)
        return
      }
      case SPB: {
        if (len < 16) { this.counters.inc(FileAnomaly.pcapngBadBlockLength); return }
        const origLen = le ? u32le(buf, off + 8) : u32be(buf, off + 8)
        const iface = this.ifaces[0]
        const room = len - 16
        let caplen = origLen < room ? origLen : room
        if (iface !== undefined && iface.info.snaplen !== 0 && caplen > iface.info.snaplen) caplen = iface.info.snaplen
        this.packet(buf, off + 12, caplen, origLen, off + len - 4, 0, 0, 0)
        return
      }
      case OBSOLETE_PB: {
        if (len < 32) { this.counters.inc(FileAnomaly.pcapngBadBlockLength); return }
        const ifId = le ? u16le(buf, off + 8) : u16be(buf, off + 8)
        const hi = le ? u32le(buf, off + 12) : u32be(buf, off + 12)
        const lo = le ? u32le(buf, off + 16) : u32be(buf, off + 16)
        const caplen = le ? u32le(buf, off + 20) : u32be(buf, off + 20)
        const origLen = le ? u32le(buf, off + 24) : u32be(buf, off + 24)
        this.packet(buf, off + 28, caplen, origLen, off + len - 4, ifId, hi, lo)
        return
      }
      case PCAPNG_SHB_TYPE: this.sectionHeader(buf, off); return
      case IDB: this.interfaceDescription(buf, off, len); return
      default: return // NRB, ISB, DSB, custom and unknown blocks: skipped by length
    }
  }

  private packet(buf: Buffer, dataStart: number, caplen: number, origLen: number, bodyEnd: number,
    ifId: number, hi: number, lo: number): void {
    const iface = this.ifaces[ifId]
    if (iface === undefined) { this.counters.inc(FileAnomaly.pcapngUnknownInterface); return }
    if (caplen > MAX_PACKET_BYTES) { this.counters.inc(FileAnomaly.implausibleCaplen); return }
    if (dataStart + caplen > bodyEnd) { this.counters.inc(FileAnomaly.pcapngPacketExceedsBlock); return }
    const info = iface.info
    if (!info.supported) {
      if (this.packets === 0 && !this.anySupported) {
        const types = [...new Set(this.allIfaces.map((i) => i.linkType))].join(', ')
        this.fail('unsupported_link_type', `linktype ${types}`)
        return
      }
      this.counters.inc(FileAnomaly.unsupportedLinkType)
      return
    }
    if (origLen < caplen) { this.counters.inc(FileAnomaly.caplenExceedsWireLength); origLen = caplen }
    if (caplen > info.snaplen && info.snaplen !== 0) this.counters.inc(FileAnomaly.caplenExceedsSnaplen)
    const pkt = this.pkt
    if (hi === 0 && lo === 0) {
      pkt.tsSec = info.tsoffsetSec
      pkt.tsNsec = 0
    } else {
      const ts = this.ts
      ticksToSecNsec(hi, lo, iface.scale, ts)
      pkt.tsSec = ts.sec + info.tsoffsetSec
      pkt.tsNsec = ts.nsec
    }
    pkt.linkType = info.linkType
    pkt.ifIndex = info.index
    pkt.ifName = info.name
    pkt.origLen = origLen
    pkt.setFrame(buf, dataStart, caplen)
    this.packets++
    this.bytes += caplen
    this.onPacket(pkt)
  }

  private sectionHeader(buf: Buffer, off: number): void {
    const major = this.le ? u16le(buf, off + 12) : u16be(buf, off + 12)
    if (major !== 1) this.counters.inc(FileAnomaly.pcapngUnsupportedVersion)
    this.section++
    this.ifaces = []
  }

  private interfaceDescription(buf: Buffer, off: number, len: number): void {
    if (len < 20) { this.counters.inc(FileAnomaly.pcapngBadBlockLength); return }
    const le = this.le
    const linkType = le ? u16le(buf, off + 8) : u16be(buf, off + 8)
    const snaplen = le ? u32le(buf, off + 12) : u32be(buf, off + 12)
    let name = ''
    let tsresol = 6
    let tsoffset = 0
    let fcsBytes = -1
    const optEnd = off + len - 4
    let o = off + 16
    while (o + 4 <= optEnd) {
      const code = le ? u16le(buf, o) : u16be(buf, o)
      const olen = le ? u16le(buf, o + 2) : u16be(buf, o + 2)
      if (code === OPT_END) break
      const v = o + 4
      if (v + olen > optEnd) { this.counters.inc(FileAnomaly.pcapngBadOption); break }
      if (code === IF_NAME) name = buf.toString('utf8', v, v + olen).replace(/\0+$/, '')
      else if (code === IF_TSRESOL && olen >= 1) tsresol = buf[v]!
      else if (code === IF_FCSLEN && olen >= 1) fcsBytes = buf[v]!
      else if (code === IF_TSOFFSET && olen === 8) tsoffset = Number(le ? buf.readBigInt64LE(v) : buf.readBigInt64BE(v))
      o = v + ((olen + 3) & ~3)
    }
    const scale = timestampScale(tsresol)
    const supported = SUPPORTED_LINK_TYPES.has(linkType)
    const info: CaptureInterfaceInfo = {
      index: this.allIfaces.length, section: this.section, indexInSection: this.ifaces.length,
      name, linkType, snaplen, unitsPerSecond: scale.unitsPerSecond, tsoffsetSec: tsoffset, supported,
    }
    if (scale.nsPerTick >= 1) info.tsresolNs = scale.nsPerTick
    if (fcsBytes >= 0) info.fcsBytes = fcsBytes
    if (supported) this.anySupported = true
    this.allIfaces.push(info)
    this.ifaces.push({ info, scale })
  }
}
