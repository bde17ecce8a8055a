/**
 * Replays a classic pcap file (Ethernet, micro- or nanosecond, either byte order) through the
 * WebAssembly flow core: the file is read straight into the core's memory and the core walks
 * the records itself, decoding and accounting ordinary packets with no call out per packet.
 * A record the core leaves to the host (fragment, tunnel, odd header, bad checksum, snaplen-cut,
 * clock stepped back) goes through the pipeline's handle() like any packet; a record header
 * the core does not accept (implausible caplen, bad fraction, caplen beyond the wire length
 * or the snaplen) hands the rest of the file to the TypeScript reader, which counts it.
 *
 * Other files (pcapng, other link types, the "modified" format, FCS flags) return undefined:
 * the caller reads them with readCaptureFile, packets still going to the same table.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { unreadable, type CaptureFileStats } from '../capture/capture-file.js'
import { MAX_PACKET_BYTES } from '../capture/file-reader-common.js'
import { PcapFileReader } from '../capture/pcap-file-reader.js'
import { newRawPacket, type PacketHandler } from '../capture/raw-packet.js'
import type { FlowPipelineBase } from '../pipeline/flow-pipeline-base.js'
import type { WasmFlowTable } from './wasm-flow-table.js'

const HEADER_BYTES = 24
const RUN_NEED_MORE = 0
const RUN_HOST_RECORD = 1
const LINKTYPE_ETHERNET = 1

interface PcapHeader { le: boolean; nsec: boolean; snaplen: number }

/** The header fields when the core can walk this file's records, else undefined. */
export function fastPcapHeader(h: Buffer): PcapHeader | undefined {
  if (h.length < HEADER_BYTES) return undefined
  const magic = h.readUInt32LE(0)
  let le: boolean
  let nsec: boolean
  switch (magic) {
    case 0xa1b2c3d4: le = true; nsec = false; break
    case 0xd4c3b2a1: le = false; nsec = false; break
    case 0xa1b23c4d: le = true; nsec = true; break
    case 0x4d3cb2a1: le = false; nsec = true; break
    default: return undefined
  }
  const lt = le ? h.readUInt32LE(20) : h.readUInt32BE(20)
  if (lt !== LINKTYPE_ETHERNET) return undefined // other link types, or FCS bits set
  return { le, nsec, snaplen: le ? h.readUInt32LE(16) : h.readUInt32BE(16) }
}

/**
 * Replays `path` if the core can walk it (see the top of this file); undefined otherwise,
 * having read nothing into the pipeline. `onPacket` receives the records left to the host
 * (it must hand them to `pipeline.handle`).
 */
export function replayPcapFast(path: string, table: WasmFlowTable, pipeline: FlowPipelineBase, onPacket: PacketHandler,
  chunkSize: number): CaptureFileStats | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw unreadable(path, err)
  }
  try {
    const read = (into: Uint8Array, off: number, len: number): number => {
      try {
        return readSync(fd, into, off, len, null)
      } catch (err) {
        throw unreadable(path, err)
      }
    }
    const head = Buffer.alloc(HEADER_BYTES)
    let got = 0
    while (got < HEADER_BYTES) {
      const n = read(head, got, HEADER_BYTES - got)
      if (n === 0) break
      got += n
    }
    const hdr = got === HEADER_BYTES ? fastPcapHeader(head) : undefined
    if (hdr === undefined) return undefined
    return walk(hdr, head, read, table, pipeline, onPacket, chunkSize)
  } finally {
    closeSync(fd)
  }
}

function walk(hdr: PcapHeader, head: Buffer, read: (into: Uint8Array, off: number, len: number) => number,
  table: WasmFlowTable, pipeline: FlowPipelineBase, onPacket: PacketHandler, chunkSize: number): CaptureFileStats {
  const core = table.core
  // Room for a chunk plus the largest record carried over from the one before.
  const cap = Math.max(chunkSize, 64 * 1024) + MAX_PACKET_BYTES + 16
  const base = core.inputBuffer(cap)
  const stats: CaptureFileStats = {
    format: 'pcap', packets: 0, bytes: 0, anomalies: {}, aborted: false,
    interfaces: [{
      index: 0, section: 0, indexInSection: 0, name: '', linkType: LINKTYPE_ETHERNET, snaplen: hdr.snaplen,
      unitsPerSecond: hdr.nsec ? 1_000_000_000 : 1_000_000, tsresolNs: nsPerFracOf(hdr), tsoffsetSec: 0, supported: true,
    }],
  }
  const pkt = newRawPacket()
  pkt.linkType = LINKTYPE_ETHERNET
  pkt.ifIndex = 0
  pkt.ifName = ''
  const nsPerFrac = nsPerFracOf(hdr)
  let carry = 0
  let fastPackets = core.fastCounter(0)
  let fastBytes = core.fastCounter(1)
  let fastOoo = core.fastCounter(2)
  for (;;) {
    const n = read(table.bytes(), base + carry, cap - carry)
    if (n === 0) break
    const end = carry + n
    let off = 0
    for (;;) {
      const clock = pipeline.fastPathClock()
      core.setClocks(clock.lastTime, clock.lastFragExpire)
      const status = core.runRecords(base, off, end, hdr.le ? 1 : 0, hdr.nsec ? 1 : 0, hdr.snaplen, clock.fragmentsPending ? 1 : 0)
      const p = core.fastCounter(0)
      const b = core.fastCounter(1)
      const o = core.fastCounter(2)
      pipeline.fastPathDone(core.getClock(), core.getFragClock(), p - fastPackets, o - fastOoo)
      stats.packets += p - fastPackets
      stats.bytes += b - fastBytes
      fastPackets = p; fastBytes = b; fastOoo = o
      off = core.getChunkOffset()
      if (status === RUN_NEED_MORE) break
      const u8 = table.bytes()
      const at = base + off
      const dv = new DataView(u8.buffer, at, 16)
      const caplen = dv.getUint32(8, hdr.le)
      if (status === RUN_HOST_RECORD) {
        // A copy: the pipeline may make the core grow its memory, which detaches views of it.
        const frame = Buffer.from(u8.subarray(at + 16, at + 16 + caplen))
        pkt.tsSec = dv.getUint32(0, hdr.le)
        pkt.tsNsec = dv.getUint32(4, hdr.le) * nsPerFrac
        pkt.origLen = dv.getUint32(12, hdr.le)
        pkt.setFrame(frame, 0, caplen)
        stats.packets++
        stats.bytes += caplen
        onPacket(pkt)
        off += 16 + caplen
        continue
      }
      // RUN_HOST_READER: the TypeScript reader takes the rest of the file from this record on.
      return handOver(stats, head, Buffer.from(u8.subarray(at, base + end)), read, onPacket, cap)
    }
    const u8 = table.bytes()
    u8.copyWithin(base, base + off, base + end)
    carry = end - off
  }
  if (carry > 0) {
    // A record cut by the end of the file: the reader counts it as it would have.
    return handOver(stats, head, Buffer.from(table.bytes().subarray(base, base + carry)), () => 0, onPacket, cap)
  }
  return stats
}

function nsPerFracOf(hdr: PcapHeader): number {
  return hdr.nsec ? 1 : 1000
}

function handOver(stats: CaptureFileStats, head: Buffer, rest: Buffer, read: (into: Uint8Array, off: number, len: number) => number,
  onPacket: PacketHandler, cap: number): CaptureFileStats {
  const reader = new PcapFileReader(onPacket)
  reader.push(head)
  reader.push(rest)
  const buf = Buffer.allocUnsafe(cap)
  for (;;) {
    const n = read(buf, 0, buf.length)
    if (n === 0) break
    reader.push(buf.subarray(0, n))
  }
  reader.end()
  stats.packets += reader.packets
  stats.bytes += reader.bytes
  stats.anomalies = reader.anomalies()
  stats.interfaces = reader.interfaces()
  return stats
}
