/**
 * Test helper: run the capture parser and copy every emitted packet out of the reused
 * RawPacket (whose data view dies with the callback) into plain comparable objects.
 */
import { parseCaptureBuffer, type CaptureFileStats } from '../../agent/capture/capture-file.js'
import type { RawPacket } from '../../agent/capture/raw-packet.js'

export interface CollectedPacket {
  tsSec: number
  tsNsec: number
  linkType: number
  ifIndex: number
  ifName: string
  origLen: number
  data: string
}

export function copyPacket(p: RawPacket): CollectedPacket {
  return { tsSec: p.tsSec, tsNsec: p.tsNsec, linkType: p.linkType, ifIndex: p.ifIndex, ifName: p.ifName, origLen: p.origLen, data: p.data.toString('hex') }
}

export function collect(buf: Buffer, chunkSize?: number): { stats: CaptureFileStats, pkts: CollectedPacket[] } {
  const pkts: CollectedPacket[] = []
  const stats = parseCaptureBuffer(buf, (p) => { pkts.push(copyPacket(p)) }, chunkSize === undefined ? {} : { chunkSize })
  return { stats, pkts }
}

/** Chunk sizes that put record and header boundaries everywhere (1 byte proves the carry-over). */
export const CHUNK_SIZES = [1, 3, 7, 16, 17, 100, 1500, 4096]
