/**
 * Capture file writers for test fixtures and benchmarks: classic pcap (either byte order,
 * µs or ns magic, any linktype) and pcapng (SHB, IDBs with if_name/if_tsresol/if_tsoffset,
 * EPB/SPB/obsolete PB, arbitrary extra blocks). Whole-file builders return a Buffer;
 * `CaptureFileWriter` streams millions of frames to disk through one reused buffer.
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs'

export interface CaptureFrame {
  tsSec: number
  /** Nanoseconds within the second. */
  tsNsec: number
  data: Buffer
  /** Wire length; data.length when absent. */
  origLen?: number
  /** pcapng interface (IDB index within the section); 0 when absent. */
  ifIndex?: number
  /** pcapng only: an opt_comment on the EPB. */
  comment?: string
}

export const PCAP_MAGIC_USEC = 0xa1b2c3d4
export const PCAP_MAGIC_NSEC = 0xa1b23c4d

export interface PcapWriteOptions {
  linkType?: number
  snaplen?: number
  bigEndian?: boolean
  nanosecond?: boolean
  /** Raw 32-bit value for the linktype field (e.g. with FCS bits); overrides linkType. */
  linkTypeField?: number
}

export function pcapHeader(opts: PcapWriteOptions = {}): Buffer {
  const b = Buffer.alloc(24)
  const be = opts.bigEndian === true
  const w32 = (v: number, o: number): number => be ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o)
  const w16 = (v: number, o: number): number => be ? b.writeUInt16BE(v, o) : b.writeUInt16LE(v, o)
  w32(opts.nanosecond ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, 0)
  w16(2, 4)
  w16(4, 6)
  w32(opts.snaplen ?? 262144, 16)
  w32(opts.linkTypeField ?? opts.linkType ?? 1, 20)
  return b
}

/** Writes one record header at `off` in `out`; returns the header length (16). */
function writePcapRecordHeader(out: Buffer, off: number, f: CaptureFrame, be: boolean, nano: boolean): number {
  const frac = nano ? f.tsNsec : Math.floor(f.tsNsec / 1000)
  const orig = f.origLen ?? f.data.length
  if (be) {
    out.writeUInt32BE(f.tsSec >>> 0, off); out.writeUInt32BE(frac, off + 4)
    out.writeUInt32BE(f.data.length, off + 8); out.writeUInt32BE(orig >>> 0, off + 12)
  } else {
    out.writeUInt32LE(f.tsSec >>> 0, off); out.writeUInt32LE(frac, off + 4)
    out.writeUInt32LE(f.data.length, off + 8); out.writeUInt32LE(orig >>> 0, off + 12)
  }
  return 16
}

export function pcapRecord(f: CaptureFrame, opts: PcapWriteOptions = {}): Buffer {
  const out = Buffer.allocUnsafe(16 + f.data.length)
  writePcapRecordHeader(out, 0, f, opts.bigEndian === true, opts.nanosecond === true)
  f.data.copy(out, 16)
  return out
}

export function buildPcap(frames: Iterable<CaptureFrame>, opts: PcapWriteOptions = {}): Buffer {
  const parts: Buffer[] = [pcapHeader(opts)]
  for (const f of frames) parts.push(pcapRecord(f, opts))
  return Buffer.concat(parts)
}

// ---------------------------------------------------------------- pcapng

export const PCAPNG_SHB = 0x0a0d0d0a
export const PCAPNG_IDB = 1
export const PCAPNG_OBSOLETE_PB = 2
export const PCAPNG_SPB = 3
export const PCAPNG_NRB = 4
export const PCAPNG_ISB = 5
export const PCAPNG_EPB = 6
export const PCAPNG_DSB = 0x0a
export const PCAPNG_CUSTOM = 0x00000bad

export interface PcapngInterface {
  linkType: number
  name?: string
  snaplen?: number
  /** Raw if_tsresol byte: 6 = µs, 9 = ns, 0x80|k = 2^-k s. Absent = option omitted (µs). */
  tsresol?: number
  /** if_tsoffset in seconds, added by readers to every timestamp. */
  tsoffset?: number
}

export interface PcapngWriteOptions {
  bigEndian?: boolean
  /** Default: one Ethernet interface at µs resolution. */
  interfaces?: PcapngInterface[]
  /** Write frames of interface 0 as Simple Packet Blocks (no timestamp, no ifIndex). */
  simplePackets?: boolean
}

const pad4 = (n: number): number => (n + 3) & ~3

/** A block: type, total length, body (padded to 4), trailing total length. */
export function pcapngBlock(type: number, body: Buffer, bigEndian = false): Buffer {
  const bodyLen = pad4(body.length)
  const total = 12 + bodyLen
  const b = Buffer.alloc(total)
  const w32 = (v: number, o: number): number => bigEndian ? b.writeUInt32BE(v >>> 0, o) : b.writeUInt32LE(v >>> 0, o)
  w32(type, 0)
  w32(total, 4)
  body.copy(b, 8)
  w32(total, total - 4)
  return b
}

/** Options list: [code, value] pairs, each padded, terminated by opt_endofopt. */
export function pcapngOptions(opts: Array<[number, Buffer]>, bigEndian = false): Buffer {
  if (opts.length === 0) return Buffer.alloc(0)
  const parts: Buffer[] = []
  for (const [code, value] of opts) {
    const h = Buffer.alloc(4)
    if (bigEndian) { h.writeUInt16BE(code, 0); h.writeUInt16BE(value.length, 2) } else { h.writeUInt16LE(code, 0); h.writeUInt16LE(value.length, 2) }
    parts.push(h, value, Buffer.alloc(pad4(value.length) - value.length))
  }
  parts.push(Buffer.alloc(4))
  return Buffer.concat(parts)
}

export function shbBlock(bigEndian = false, options: Array<[number, Buffer]> = []): Buffer {
  const body = Buffer.alloc(16)
  if (bigEndian) { body.writeUInt32BE(0x1a2b3c4d, 0); body.writeUInt16BE(1, 4); body.writeUInt16BE(0, 6) } else { body.writeUInt32LE(0x1a2b3c4d, 0); body.writeUInt16LE(1, 4); body.writeUInt16LE(0, 6) }
  body.fill(0xff, 8, 16) // section length -1 = unknown
  return pcapngBlock(PCAPNG_SHB, Buffer.concat([body, pcapngOptions(options, bigEndian)]), bigEndian)
}

export function idbBlock(iface: PcapngInterface, bigEndian = false): Buffer {
  const body = Buffer.alloc(8)
  if (bigEndian) { body.writeUInt16BE(iface.linkType, 0); body.writeUInt32BE(iface.snaplen ?? 262144, 4) } else { body.writeUInt16LE(iface.linkType, 0); body.writeUInt32LE(iface.snaplen ?? 262144, 4) }
  const opts: Array<[number, Buffer]> = []
  if (iface.name !== undefined) opts.push([2, Buffer.from(iface.name, 'utf8')])
  if (iface.tsresol !== undefined) opts.push([9, Buffer.from([iface.tsresol])])
  if (iface.tsoffset !== undefined) {
    const v = Buffer.alloc(8)
    if (bigEndian) v.writeBigInt64BE(BigInt(iface.tsoffset)); else v.writeBigInt64LE(BigInt(iface.tsoffset))
    opts.push([14, v])
  }
  return pcapngBlock(PCAPNG_IDB, Buffer.concat([body, pcapngOptions(opts, bigEndian)]), bigEndian)
}

/** Timestamp of a frame in the interface's units (exact BigInt arithmetic, truncating). */
export function pcapngTimestampUnits(f: CaptureFrame, iface: PcapngInterface): bigint {
  const r = iface.tsresol ?? 6
  const ns = BigInt(f.tsSec - (iface.tsoffset ?? 0)) * 1_000_000_000n + BigInt(f.tsNsec)
  if (r & 0x80) return (ns << BigInt(r & 0x7f)) / 1_000_000_000n
  const k = r & 0x7f
  return k >= 9 ? ns * 10n ** BigInt(k - 9) : ns / 10n ** BigInt(9 - k)
}

export function epbBlock(f: CaptureFrame, iface: PcapngInterface, bigEndian = false): Buffer {
  const units = pcapngTimestampUnits(f, iface)
  const head = Buffer.alloc(20)
  const hi = Number(units >> 32n) >>> 0
  const lo = Number(units & 0xffffffffn) >>> 0
  const vals = [f.ifIndex ?? 0, hi, lo, f.data.length, f.origLen ?? f.data.length]
  vals.forEach((v, i) => bigEndian ? head.writeUInt32BE(v >>> 0, 4 * i) : head.writeUInt32LE(v >>> 0, 4 * i))
  const padded = Buffer.alloc(pad4(f.data.length))
  f.data.copy(padded)
  const opts: Array<[number, Buffer]> = f.comment !== undefined ? [[1, Buffer.from(f.comment, 'utf8')]] : []
  return pcapngBlock(PCAPNG_EPB, Buffer.concat([head, padded, pcapngOptions(opts, bigEndian)]), bigEndian)
}

/** Simple Packet Block: original length + data (readers cut it at interface 0's snaplen). */
export function spbBlock(f: CaptureFrame, bigEndian = false): Buffer {
  const head = Buffer.alloc(4)
  const orig = f.origLen ?? f.data.length
  if (bigEndian) head.writeUInt32BE(orig, 0); else head.writeUInt32LE(orig, 0)
  return pcapngBlock(PCAPNG_SPB, Buffer.concat([head, f.data]), bigEndian)
}

/** Obsolete Packet Block (type 2): 16-bit interface id and drops count, then like an EPB. */
export function obsoletePacketBlock(f: CaptureFrame, iface: PcapngInterface, bigEndian = false): Buffer {
  const units = pcapngTimestampUnits(f, iface)
  const head = Buffer.alloc(20)
  const w32 = (v: number, o: number): number => bigEndian ? head.writeUInt32BE(v >>> 0, o) : head.writeUInt32LE(v >>> 0, o)
  if (bigEndian) head.writeUInt16BE(f.ifIndex ?? 0, 0); else head.writeUInt16LE(f.ifIndex ?? 0, 0)
  w32(Number(units >> 32n), 4)
  w32(Number(units & 0xffffffffn), 8)
  w32(f.data.length, 12)
  w32(f.origLen ?? f.data.length, 16)
  return pcapngBlock(PCAPNG_OBSOLETE_PB, Buffer.concat([head, f.data]), bigEndian)
}

export function buildPcapng(frames: Iterable<CaptureFrame>, opts: PcapngWriteOptions = {}): Buffer {
  const be = opts.bigEndian === true
  const ifaces = opts.interfaces ?? [{ linkType: 1 }]
  const parts: Buffer[] = [shbBlock(be)]
  for (const i of ifaces) parts.push(idbBlock(i, be))
  for (const f of frames) {
    const idx = f.ifIndex ?? 0
    const iface = ifaces[idx] ?? ifaces[0]!
    parts.push(opts.simplePackets && idx === 0 ? spbBlock(f, be) : epbBlock(f, iface, be))
  }
  return Buffer.concat(parts)
}

export type CaptureFileOptions =
  | ({ format?: 'pcap' } & PcapWriteOptions)
  | ({ format: 'pcapng' } & PcapngWriteOptions)

export function buildCaptureFile(frames: Iterable<CaptureFrame>, opts: CaptureFileOptions = {}): Buffer {
  return opts.format === 'pcapng' ? buildPcapng(frames, opts) : buildPcap(frames, opts)
}

export function writeCaptureFile(path: string, frames: Iterable<CaptureFrame>, opts: CaptureFileOptions = {}): void {
  writeFileSync(path, buildCaptureFile(frames, opts))
}

/**
 * Streams classic pcap records to a file through one reused 4 MiB buffer, for fixtures
 * too large to hold in memory (benchmarks). Call close() to flush.
 */
export class PcapFileWriter {
  private readonly fd: number
  private readonly buf = Buffer.allocUnsafe(4 << 20)
  private used = 0
  private readonly be: boolean
  private readonly nano: boolean
  packets = 0

  constructor(path: string, opts: PcapWriteOptions = {}) {
    this.be = opts.bigEndian === true
    this.nano = opts.nanosecond === true
    this.fd = openSync(path, 'w')
    const h = pcapHeader(opts)
    h.copy(this.buf, 0)
    this.used = h.length
  }

  write(f: CaptureFrame): void {
    const need = 16 + f.data.length
    if (this.used + need > this.buf.length) this.flush()
    if (need > this.buf.length) {
      writeSync(this.fd, pcapRecord(f, { bigEndian: this.be, nanosecond: this.nano }))
    } else {
      writePcapRecordHeader(this.buf, this.used, f, this.be, this.nano)
      f.data.copy(this.buf, this.used + 16)
      this.used += need
    }
    this.packets++
  }

  private flush(): void {
    let off = 0
    while (off < this.used) off += writeSync(this.fd, this.buf, off, this.used - off)
    this.used = 0
  }

  close(): void {
    this.flush()
    closeSync(this.fd)
  }
}
