/*
 * Telltale's WebAssembly flow core: classic-pcap records in linear memory → fast decode →
 * flow table → records handed to the host (agent/flowcore/wasm-flow-core.ts). Built with
 * AssemblyScript (`npm run build`: asc, see package.json).
 */
import { configure } from './config'
import { created, emitted, evicted, interim, live, reused, tracked, advance, flushAll, init, packet, REC, setNotifyWritten, timerDue, uidOf } from './flow-table'
import { flushWriter, startWriter, writtenRows } from './conn-log-line'
import { localNetsBuffer } from './local-nets'
import { ADDR_SCRATCH, decodeEthernet, setDecoded, setIfaceAndParent } from './packet'

export { configure, advance, flushAll, init, packet, setDecoded, setNotifyWritten, uidOf, flushWriter, startWriter, localNetsBuffer }

export function recPtr(): usize { return REC }
export function addrScratchPtr(): usize { return ADDR_SCRATCH }
/** conn.log rows the core wrote itself (the others went to the host as records). */
export function rowsWritten(): f64 { return writtenRows }
export function liveFlows(): i32 { return live }
/** Counter by index: created, emitted, evicted, interim, reused, tracked. */
export function counter(i: i32): f64 {
  switch (i) {
    case 0: return created
    case 1: return emitted
    case 2: return evicted
    case 3: return interim
    case 4: return reused
    case 5: return tracked
  }
  return 0
}

// ---- classic pcap records ----
const CLOCK_STEP_BACK_S: f64 = 60
const MAX_PACKET_BYTES: u32 = 262144

/** Record-level outcome of runRecords(). */
const RUN_NEED_MORE: i32 = 0 // every complete record done; resume at chunkOffset with more bytes
const RUN_HOST_RECORD: i32 = 1 // the record at chunkOffset is for the host's decoder
const RUN_HOST_READER: i32 = 2 // an odd record header: the host's reader takes over at chunkOffset

let chunkOffset: i32 = 0
let clock: f64 = 0
let fragClock: f64 = 0
let fastPackets: f64 = 0
let fastBytes: f64 = 0
let outOfOrder: f64 = 0

export function getChunkOffset(): i32 { return chunkOffset }
export function getClock(): f64 { return clock }
export function getFragClock(): f64 { return fragClock }
export function setClocks(c: f64, f: f64): void { clock = c; fragClock = f }
/** Fast-path counters by index: packets, captured bytes, packets out of order in time. */
export function fastCounter(i: i32): f64 {
  return i === 0 ? fastPackets : i === 1 ? fastBytes : outOfOrder
}

// @ts-ignore: decorator
@inline function rd32(p: usize, le: bool): u32 {
  const v = load<u32>(p)
  return le ? v : bswap<u32>(v)
}

/**
 * Process the complete 16-byte-header pcap records in [ptr+off, ptr+len). `nsec`: nanosecond
 * fractions; `snaplen` from the file header; `hostOnly`: every record to the host (its fragment
 * reassembler holds fragments: their timeouts run in its handle()). Returns RUN_*; chunkOffset
 * says where it stopped.
 */
export function runRecords(ptr: usize, off: i32, len: i32, le: bool, nsec: bool, snaplen: u32, hostOnly: bool): i32 {
  const fracLimit: u32 = nsec ? 1000000000 : 1000000
  const nsPerFrac: f64 = nsec ? 1 : 1000
  let o = off
  setIfaceAndParent(0, 0)
  while (len - o >= 16) {
    const h = ptr + <usize>o
    const caplen = rd32(h + 8, le)
    if (caplen > MAX_PACKET_BYTES) { chunkOffset = o; return RUN_HOST_READER }
    const next = o + 16 + <i32>caplen
    if (next > len) break
    const sec = rd32(h, le)
    const frac = rd32(h + 4, le)
    const origLen = rd32(h + 12, le)
    if (frac >= fracLimit || origLen < caplen || (caplen > snaplen && snaplen !== 0)) { chunkOffset = o; return RUN_HOST_READER }
    let t = <f64>sec + Math.floor(<f64>frac * nsPerFrac / 1000) / 1e6
    if (hostOnly || origLen !== caplen || (t < clock && clock - t > CLOCK_STEP_BACK_S) || !decodeEthernet(h + 16, <i32>caplen)) {
      chunkOffset = o
      return RUN_HOST_RECORD
    }
    fastPackets++
    fastBytes += <f64>caplen
    if (t < clock) { outOfOrder++; t = clock }
    clock = t
    if (timerDue(t)) advance(t)
    packet(t)
    if (t - fragClock >= 1) fragClock = t
    o = next
  }
  chunkOffset = o
  return RUN_NEED_MORE
}

export function start(): void {
  init()
}

let inBuf: usize = 0
let inCap: i32 = 0

/** The block the host reads capture bytes into (reallocated only when a larger one is asked for). */
export function inputBuffer(size: i32): usize {
  if (size > inCap) {
    if (inBuf !== 0) heap.free(inBuf)
    inBuf = heap.alloc(<usize>size)
    inCap = size
  }
  return inBuf
}
