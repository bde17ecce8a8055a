/**
 * The host indexes of flow segments (`fb`) and app-record segments (`ab`, keys.ts): per
 * stored batch, its addresses hashed
 * into HOST_BUCKETS buckets, one key per non-empty bucket whose value lists the bucket's
 * addresses with their postings.
 *
 * Why buckets: a batch of 1000 flows of a busy network names ~1500 distinct addresses. One
 * key per (address, batch) (`fh`, before 2026-12-08) made the host index ~90 % of the keys
 * ingest wrote, and each key costs a native put, a memtable insert and its share of every
 * compaction: about half the collector's ingest CPU (a store-only probe of 600k flows went
 * from 95–116k to 193–202k flows per CPU second with buckets; docs/collector.md). With 64
 * buckets a batch writes at most 64 host keys; a
 * query for one address reads its bucket's value of each batch in the time range (~1/64 of
 * the batch's addresses, ~200 B for 1500 addresses) and finds the address in it.
 *
 * Value: entries, each `len(u8: 4 | 16) addr(len bytes) postings_bytes(varint) postings`
 * (postings.ts's delta varints). IPv4 addresses, whether sent in 4 bytes or IPv4-mapped in
 * 16, are stored in 4 bytes and hashed as their number; other 16-byte addresses in 16.
 * The bucket of an address never changes (a different HOST_BUCKETS is a new store format).
 * Reading is bounds-checked and never throws: a damaged value yields what it holds up to
 * the damage. Hand-written: this is ingest's hot path.
 */
import { decodePostings, writePostings } from './postings.js'

/** An address of the index: IPv4 as its 32-bit number, any other 16-byte address as a latin1 string. */
export type IndexAddress = number | string

export const HOST_BUCKETS = 64

/** Bucket of an IPv4 number: Fibonacci hashing, top 6 bits. */
const bucketOfV4 = (x: number): number => Math.imul(x >>> 0, 0x9e3779b1) >>> 26

/** The bucket an address is indexed in (0 … HOST_BUCKETS − 1). */
export function hostBucket(addr: IndexAddress): number {
  if (typeof addr === 'number') return bucketOfV4(addr)
  let x = 0
  for (let i = 0; i < 16; i += 4) {
    x ^= ((addr.charCodeAt(i) << 24) | (addr.charCodeAt(i + 1) << 16) | (addr.charCodeAt(i + 2) << 8) | addr.charCodeAt(i + 3)) >>> 0
  }
  return bucketOfV4(x ^ 0x6b43a9b5)
}

const V4_MAPPED = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])

/** The index form of a 16-byte address (IPv4-mapped → its IPv4 number); undefined for another length. */
export function indexAddressOf16(addr16: Uint8Array): IndexAddress | undefined {
  if (addr16.length !== 16) return undefined
  const b = Buffer.from(addr16.buffer, addr16.byteOffset, 16)
  if (b.compare(V4_MAPPED, 0, 12, 0, 12) === 0) return b.readUInt32BE(12)
  return b.toString('latin1')
}

/** The index form of a 4- or 16-byte address; undefined for another length. */
export function indexAddressOf(addr: Uint8Array): IndexAddress | undefined {
  return addr.length === 4 ? u32At(addr, 0) : indexAddressOf16(addr)
}

/** The big-endian u32 at `at` (the caller checked the bounds). */
const u32At = (v: Uint8Array, at: number): number => ((v[at]! << 24) | (v[at + 1]! << 16) | (v[at + 2]! << 8) | v[at + 3]!) >>> 0

/** The 16-byte form of the entry address at `at` (4 bytes: IPv4-mapped) into `out`. */
function entryAddr16(v: Uint8Array, at: number, len: number, out: Buffer): Buffer {
  if (len === 4) {
    out.fill(0, 0, 10); out[10] = 0xff; out[11] = 0xff
    out.set(v.subarray(at, at + 4), 12)
  } else {
    out.set(v.subarray(at, at + 16), 0)
  }
  return out
}

/** Upper bound of the value bytes of one address with `ids` postings. */
export const entryBound = (ids: number): number => 1 + 16 + 5 + 5 * ids

/** Writes one entry at `at` (room: entryBound); returns the end. */
export function writeEntry(out: Buffer, at: number, addr: IndexAddress, ids: readonly number[]): number {
  let p = at
  if (typeof addr === 'number') {
    out[p++] = 4
    out.writeUInt32BE(addr >>> 0, p)
    p += 4
  } else {
    out[p++] = 16
    out.write(addr, p, 16, 'latin1')
    p += 16
  }
  // The postings go after a 5-byte gap, then move back behind their (shorter) length varint.
  const start = p + 5
  const end = writePostings(out, start, ids)
  let len = end - start
  while (len >= 0x80) { out[p++] = (len & 0x7f) | 0x80; len >>>= 7 }
  out[p++] = len
  out.copyWithin(p, start, end)
  return p + (end - start)
}

// The entry entryAt() read (module-level scratch: reading is synchronous and not re-entrant).
let eAt = 0
let eLen = 0
let eFrom = 0
let eTo = 0

/** Reads the entry at `p` of a bucket value into eAt/eLen/eFrom/eTo; false at malformed bytes. */
function entryAt(v: Uint8Array, p: number): boolean {
  const len = v[p]!
  if (len !== 4 && len !== 16) return false
  eAt = p + 1
  eLen = len
  let q = eAt + len
  let n = 0
  let shift = 0
  let byte: number
  do {
    if (q >= v.length || shift > 28) return false
    byte = v[q++]!
    n += (byte & 0x7f) * 2 ** shift
    shift += 7
  } while (byte & 0x80)
  if (q + n > v.length) return false
  eFrom = q
  eTo = q + n
  return true
}

/**
 * Calls `fn(addr16Offset, addrLen, postingsStart, postingsEnd)` for each entry of a bucket
 * value, in order; stops at malformed bytes or when `fn` returns false.
 */
function eachEntry(v: Uint8Array, fn: (addrAt: number, addrLen: number, from: number, to: number) => boolean | void): void {
  for (let p = 0; p < v.length && entryAt(v, p); p = eTo) {
    if (fn(eAt, eLen, eFrom, eTo) === false) return
  }
}

/** The postings of `addr` in one bucket value, or undefined when the batch does not have it. */
export function postingsOfAddress(v: Uint8Array, addr: IndexAddress): number[] | undefined {
  if (typeof addr === 'number') return postingsOfV4(v, addr >>> 0)
  let out: number[] | undefined
  const want = Buffer.from(addr, 'latin1')
  const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  eachEntry(v, (at, len, from, to) => {
    if (len !== 16 || b.compare(want, 0, 16, at, at + 16) !== 0) return true
    out = decodePostings(v.subarray(from, to))
    return false
  })
  return out
}

/** postingsOfAddress for an IPv4 address: the hot case of host queries, no closure per entry. */
function postingsOfV4(v: Uint8Array, want: number): number[] | undefined {
  for (let p = 0; p < v.length && entryAt(v, p); p = eTo) {
    if (eLen === 4 && u32At(v, eAt) === want) return decodePostings(v.subarray(eFrom, eTo))
  }
  return undefined
}

/** Every entry of a bucket value whose 16-byte form lies in [lo16, hi16]: its postings. */
export function postingsInRange(v: Uint8Array, lo16: Uint8Array, hi16: Uint8Array): number[][] {
  const out: number[][] = []
  const lo = indexAddressOf16(lo16)
  const hi = indexAddressOf16(hi16)
  if (typeof lo === 'number' && typeof hi === 'number') {
    // An IPv4 block (the usual case): compare numbers; 16-byte entries are never IPv4-mapped.
    eachEntry(v, (at, len, from, to) => {
      if (len !== 4) return
      const x = u32At(v, at)
      if (x >= lo && x <= hi) out.push(decodePostings(v.subarray(from, to)))
    })
    return out
  }
  const a16 = Buffer.alloc(16)
  eachEntry(v, (at, len, from, to) => {
    entryAddr16(v, at, len, a16)
    if (Buffer.compare(a16, lo16) >= 0 && Buffer.compare(a16, hi16) <= 0) out.push(decodePostings(v.subarray(from, to)))
  })
  return out
}

/** Every (16-byte address, postings) of a bucket value (tests, tools). */
export function bucketEntries(v: Uint8Array): Array<{ addr16: Buffer; indexes: number[] }> {
  const out: Array<{ addr16: Buffer; indexes: number[] }> = []
  eachEntry(v, (at, len, from, to) => {
    out.push({ addr16: entryAddr16(v, at, len, Buffer.alloc(16)), indexes: decodePostings(v.subarray(from, to)) })
  })
  return out
}
