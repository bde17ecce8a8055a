/**
 * Pieces shared by the streaming capture file readers (classic pcap, pcapng): limits, the
 * anomaly names, the interface description, the reader contract and the bounded carry-over
 * buffer that holds one record split across chunks.
 */
import type { RawPacket } from './raw-packet.js'

/** Largest caplen accepted (libpcap's MAXIMUM_SNAPLEN). Larger is an anomaly, never an allocation. */
export const MAX_PACKET_BYTES = 262_144
/** Largest pcapng block accepted (and so the bound of the carry-over buffer). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024

/** Named anomaly counters the readers bump instead of throwing. */
export const FileAnomaly = {
  /** Input ended inside a record (or block): the partial record is dropped. */
  truncatedRecord: 'truncated_capture_record',
  /** Input ended inside the pcap file header. */
  truncatedHeader: 'truncated_capture_header',
  /** caplen above MAX_PACKET_BYTES: pcap stops (no way to resync), pcapng skips the block. */
  implausibleCaplen: 'implausible_caplen',
  /** caplen above the interface snaplen: the packet is still delivered. */
  caplenExceedsSnaplen: 'caplen_exceeds_snaplen',
  /** Wire length below caplen: delivered with origLen raised to caplen. */
  caplenExceedsWireLength: 'caplen_exceeds_wire_length',
  /** µs/ns fraction ≥ 1 s: normalised into the seconds. */
  badTimestampFraction: 'pcap_bad_timestamp_fraction',
  /** FCS bits set in the pcap linktype field (masked off; frames keep their FCS). */
  fcsInLinktype: 'pcap_fcs_bits_in_linktype',
  /** Block length < 12, not a multiple of 4, above MAX_BLOCK_BYTES or too small for its type: stop. */
  pcapngBadBlockLength: 'pcapng_bad_block_length',
  /** Trailing block length differs from the leading one: stop (the framing is lost). */
  pcapngBlockLengthMismatch: 'pcapng_block_length_mismatch',
  /** SHB byte-order magic is neither order: stop. */
  pcapngBadByteOrderMagic: 'pcapng_bad_byte_order_magic',
  /** SHB major version other than 1: parsed anyway. */
  pcapngUnsupportedVersion: 'pcapng_unsupported_version',
  /** Packet block naming an interface the section has not described: skipped. */
  pcapngUnknownInterface: 'pcapng_unknown_interface',
  /** Packet data runs past the end of its block: skipped. */
  pcapngPacketExceedsBlock: 'pcapng_packet_exceeds_block',
  /** An option runs past the end of its block: remaining options ignored. */
  pcapngBadOption: 'pcapng_bad_option',
  /** The first block is not a Section Header Block: stop. */
  pcapngMissingSectionHeader: 'pcapng_missing_section_header',
  /** Packet on an interface whose linktype the decoder does not support: skipped. */
  unsupportedLinkType: 'unsupported_link_type',
  /** The reader stopped on a framing error; the rest of the input was not parsed. */
  parseStopped: 'capture_parse_stopped',
} as const

export type FileAnomalyName = (typeof FileAnomaly)[keyof typeof FileAnomaly]

export interface CaptureInterfaceInfo {
  /** Global interface number (order of appearance across sections); RawPacket.ifIndex. */
  index: number
  /** pcapng section number (0 for classic pcap). */
  section: number
  /** Index of the IDB within its section. */
  indexInSection: number
  name: string
  linkType: number
  snaplen: number
  /** Timestamp ticks per second (1e6, 1e9, 2^k ...). */
  unitsPerSecond: number
  /** Nanoseconds per tick when that is a whole number (1000 for µs, 1 for ns). */
  tsresolNs?: number
  /** if_tsoffset seconds added to every timestamp. */
  tsoffsetSec: number
  /** FCS bytes at the end of each frame when the file says so (pcap linktype FCS bits, pcapng if_fcslen). */
  fcsBytes?: number
  supported: boolean
}

/** A fatal, file-level condition: the caller turns it into an AgentError. */
export interface ReaderFailure {
  kind: 'not_a_capture' | 'unsupported_link_type'
  message: string
}

/** What both streaming readers expose to capture-file.ts. */
export interface CaptureStreamReader {
  /** Feeds the next chunk; packets are emitted synchronously from inside this call. */
  push(chunk: Buffer): void
  /** No more input: counts a truncated last record. */
  end(): void
  readonly packets: number
  readonly bytes: number
  readonly failure: ReaderFailure | null
  anomalies(): Record<string, number>
  interfaces(): CaptureInterfaceInfo[]
}

export type { RawPacket }

/**
 * The carry-over buffer: holds the bytes of one record that straddles two chunks. Grows
 * by doubling up to `max` (callers check a record's size against the limits before
 * appending), so memory stays bounded whatever the file size.
 */
export class FileCarry {
  buf: Buffer = Buffer.allocUnsafe(64 * 1024)
  len = 0

  append(src: Buffer, start: number, end: number): void {
    const n = end - start
    if (this.len + n > this.buf.length) {
      let size = this.buf.length
      while (size < this.len + n) size *= 2
      const next = Buffer.allocUnsafe(Math.min(size, MAX_BLOCK_BYTES + 64 * 1024))
      this.buf.copy(next, 0, 0, this.len)
      this.buf = next
    }
    src.copy(this.buf, this.len, start, end)
    this.len += n
  }

  reset(): void {
    this.len = 0
  }
}

/**
 * Completes a carried record from `chunk` and parses it; returns the chunk offset where
 * direct parsing resumes, or -1 when the chunk was consumed without completing it.
 * `sizeOf(buf, len)` is the record's full size given what is known so far (a header
 * minimum when the header is not complete yet), or -1 when it is invalid.
 */
export function completeCarry(
  carry: FileCarry, chunk: Buffer,
  sizeOf: (buf: Buffer, len: number) => number,
  parseOne: (buf: Buffer, len: number) => void,
): number {
  let off = 0
  for (;;) {
    const need = sizeOf(carry.buf, carry.len)
    if (need < 0) { carry.reset(); return chunk.length } // invalid: the reader stopped
    if (carry.len >= need) break
    const take = Math.min(need - carry.len, chunk.length - off)
    carry.append(chunk, off, off + take)
    off += take
    if (carry.len < need) return -1
  }
  parseOne(carry.buf, carry.len)
  carry.reset()
  return off
}
