/**
 * Streaming reader for classic libpcap files: either byte order, microsecond (0xa1b2c3d4)
 * or nanosecond (0xa1b23c4d) magic, and Kuznetzov's "modified" format (0xa1b2cd34, 24-byte
 * record headers). Feed it chunks with push(); it emits every record synchronously through
 * ONE reused RawPacket whose `data` is a zero-copy view into the chunk (or, for a record
 * split across chunks, into the bounded carry-over buffer).
 */
import { Counters } from '../util/counters.js'
import { u32be, u32le } from './file-bytes.js'
import {
  completeCarry, FileAnomaly, FileCarry, MAX_PACKET_BYTES,
  type CaptureInterfaceInfo, type CaptureStreamReader, type FileAnomalyName, type ReaderFailure,
} from './file-reader-common.js'
import { SUPPORTED_LINK_TYPES } from './link-types.js'
import { newRawPacket, type PacketHandler } from './raw-packet.js'

const FILE_HEADER_BYTES = 24

/** Magic numbers as read little-endian from the first 4 bytes. */
const MAGIC = {
  usecLE: 0xa1b2c3d4, usecBE: 0xd4c3b2a1,
  nsecLE: 0xa1b23c4d, nsecBE: 0x4d3cb2a1,
  modifiedLE: 0xa1b2cd34, modifiedBE: 0x34cdb2a1,
} as const

/** True when the first 4 bytes are one of the classic pcap magics (either order). */
export function isPcapMagic(firstWordLE: number): boolean {
  return Object.values(MAGIC).includes(firstWordLE as never)
}

export class PcapFileReader implements CaptureStreamReader {
  packets = 0
  bytes = 0
  failure: ReaderFailure | null = null

  private headerDone = false
  private stopped = false
  private le = true
  private nsPerFrac = 1000
  private fracLimit = 1_000_000
  private recHdr = 16
  private snaplen = 0
  private linkType = 0
  private fcsBytes = 0
  private readonly pkt = newRawPacket()
  private readonly carry = new FileCarry()
  private readonly counters = new Counters<FileAnomalyName>()
  private readonly sizeOfFn = (buf: Buffer, len: number): number => this.sizeOf(buf, len)
  private readonly parseOneFn = (buf: Buffer, len: number): void => { this.parse(buf, 0, len) }

  constructor(private readonly onPacket: PacketHandler) {
    this.pkt.ifIndex = 0
    this.pkt.ifName = ''
  }

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
    if (this.carry.len > 0 && !this.stopped) {
      this.counters.inc(this.headerDone ? FileAnomaly.truncatedRecord : FileAnomaly.truncatedHeader)
    }
    this.carry.reset()
    this.stopped = true
  }

  anomalies(): Record<string, number> {
    return this.counters.snapshot()
  }

  interfaces(): CaptureInterfaceInfo[] {
    if (!this.headerDone || this.failure?.kind === 'not_a_capture') return []
    const info: CaptureInterfaceInfo = {
      index: 0, section: 0, indexInSection: 0, name: '', linkType: this.linkType, snaplen: this.snaplen,
      unitsPerSecond: this.fracLimit, tsresolNs: this.nsPerFrac, tsoffsetSec: 0,
      supported: SUPPORTED_LINK_TYPES.has(this.linkType),
    }
    if (this.fcsBytes > 0) info.fcsBytes = this.fcsBytes
    return [info]
  }

  /** Full size of the record that starts at buf[0] given `len` known bytes; -1 = invalid. */
  private sizeOf(buf: Buffer, len: number): number {
    if (!this.headerDone) return FILE_HEADER_BYTES
    if (len < this.recHdr) return this.recHdr
    const caplen = this.le ? u32le(buf, 8) : u32be(buf, 8)
    if (caplen > MAX_PACKET_BYTES) { this.stop(FileAnomaly.implausibleCaplen); return -1 }
    return this.recHdr + caplen
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

  private parseHeader(buf: Buffer, off: number): void {
    const magic = u32le(buf, off)
    switch (magic) {
      case MAGIC.usecLE: case MAGIC.nsecLE: case MAGIC.modifiedLE: this.le = true; break
      case MAGIC.usecBE: case MAGIC.nsecBE: case MAGIC.modifiedBE: this.le = false; break
      default: this.fail('not_a_capture', `unknown pcap magic 0x${magic.toString(16).padStart(8, '0')}`); return
    }
    if (magic === MAGIC.nsecLE || magic === MAGIC.nsecBE) { this.nsPerFrac = 1; this.fracLimit = 1_000_000_000 }
    if (magic === MAGIC.modifiedLE || magic === MAGIC.modifiedBE) this.recHdr = 24
    this.snaplen = this.le ? u32le(buf, off + 16) : u32be(buf, off + 16)
    const ltField = this.le ? u32le(buf, off + 20) : u32be(buf, off + 20)
    // Low 16 bits: LINKTYPE; bit 26: FCS length present; bits 28-31: FCS length in 16-bit words.
    this.linkType = ltField & 0xffff
    if ((ltField & 0x04000000) !== 0) {
      this.fcsBytes = ((ltField >>> 28) & 0xf) * 2
      this.counters.inc(FileAnomaly.fcsInLinktype)
    }
    this.headerDone = true
    this.pkt.linkType = this.linkType
    if (!SUPPORTED_LINK_TYPES.has(this.linkType)) {
      this.fail('unsupported_link_type', `linktype ${this.linkType}`)
    }
  }

  /** Parses complete records in buf[off, end); returns where the first incomplete one starts. */
  private parse(buf: Buffer, off: number, end: number): number {
    if (!this.headerDone) {
      if (end - off < FILE_HEADER_BYTES) return off
      this.parseHeader(buf, off)
      if (this.stopped) return end
      off += FILE_HEADER_BYTES
    }
    const pkt = this.pkt
    const onPacket = this.onPacket
    const le = this.le
    const recHdr = this.recHdr
    const snaplen = this.snaplen
    const nsPerFrac = this.nsPerFrac
    const fracLimit = this.fracLimit
    while (end - off >= recHdr) {
      const caplen = le ? u32le(buf, off + 8) : u32be(buf, off + 8)
      if (caplen > MAX_PACKET_BYTES) { this.stop(FileAnomaly.implausibleCaplen); return end }
      const dataStart = off + recHdr
      const next = dataStart + caplen
      if (next > end) break
      let sec = le ? u32le(buf, off) : u32be(buf, off)
      let frac = le ? u32le(buf, off + 4) : u32be(buf, off + 4)
      let origLen = le ? u32le(buf, off + 12) : u32be(buf, off + 12)
      if (frac >= fracLimit) {
        this.counters.inc(FileAnomaly.badTimestampFraction)
        sec += Math.floor(frac / fracLimit)
        frac %= fracLimit
      }
      if (origLen < caplen) { this.counters.inc(FileAnomaly.caplenExceedsWireLength); origLen = caplen }
      if (caplen > snaplen && snaplen !== 0) this.counters.inc(FileAnomaly.caplenExceedsSnaplen)
      pkt.tsSec = sec
      pkt.tsNsec = frac * nsPerFrac
      pkt.origLen = origLen
      pkt.setFrame(buf, dataStart, caplen)
      this.packets++
      this.bytes += caplen
      onPacket(pkt)
      off = next
    }
    return off
  }
}
