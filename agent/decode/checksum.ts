/**
 * Internet checksums (RFC 1071) over buffer ranges, no allocation.
 * Returns true when the one's-complement sum including the transmitted checksum is 0xffff.
 */
export function onesComplementSum(buf: Buffer, off: number, len: number, initial: number): number {
  let sum = initial
  const end = off + len
  let i = off
  // Eight bytes per iteration (four 16-bit words); the partial sums stay far below 2^53, and
  // are folded every 64 KiB to stay in small-integer range.
  const end8 = end - 7
  while (i < end8) {
    const stop = Math.min(end8, i + 65536)
    let s = 0
    for (; i < stop; i += 8) {
      s += ((buf[i]! << 8) | buf[i + 1]!) + ((buf[i + 2]! << 8) | buf[i + 3]!) +
        ((buf[i + 4]! << 8) | buf[i + 5]!) + ((buf[i + 6]! << 8) | buf[i + 7]!)
    }
    sum += s
    sum = (sum & 0xffff) + Math.floor(sum / 65536)
  }
  while (i + 1 < end) {
    sum += (buf[i]! << 8) | buf[i + 1]!
    i += 2
  }
  if (i < end) sum += buf[i]! << 8
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536)
  return sum
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1

/** Uint32 view of the last ArrayBuffer summed (capture chunks: one view per chunk read). */
let wordsOf: ArrayBufferLike | undefined
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0)

/**
 * Σ byte × (256 when its absolute address is odd, else 1), folded to 16 bits: the RFC 1071
 * sum of little-endian 16-bit words at even addresses. Whole aligned 32-bit words are loaded
 * at once through a Uint32Array over the buffer's memory (4 bytes per load instead of 1) and
 * added whole into double accumulators (RFC 1071: a sum of 32-bit words folds to the same
 * 16-bit sum; 2^53 / 2^32 words — far beyond any packet — before a double could lose bits).
 * Hand-written hot path: one add per word, two accumulators so the adds do not wait on each other.
 */
function sumAligned(buf: Buffer, off: number, len: number): number {
  const base = buf.byteOffset
  let i = off
  const end = off + len
  let s = 0
  while (i < end && ((base + i) & 3) !== 0) {
    s += ((base + i) & 1) !== 0 ? buf[i]! << 8 : buf[i]!
    i++
  }
  const wEnd = (base + end) >>> 2
  let wi = (base + i) >>> 2
  if (wi < wEnd) {
    const ab = buf.buffer
    if (ab !== wordsOf) {
      wordsOf = ab
      words = new Uint32Array(ab, 0, ab.byteLength >>> 2)
    }
    const w = words
    let a = 0
    let b = 0
    const stop4 = wEnd - 3
    for (; wi < stop4; wi += 4) {
      a += w[wi]! + w[wi + 1]!
      b += w[wi + 2]! + w[wi + 3]!
    }
    for (; wi < wEnd; wi++) a += w[wi]!
    a += b
    // Fold the (up to 53-bit) word sum to 16 bits without leaving exact double arithmetic:
    // hi × 65536 and a − hi × 65536 are exact; `a % 65536` on a double was a call to fmod
    // (2–3 per packet).
    while (a > 0xffff) {
      const hi = Math.floor(a / 65536)
      a = (a - hi * 65536) + hi
    }
    s += a
    i = (wEnd << 2) - base
  }
  while (i < end) {
    s += ((base + i) & 1) !== 0 ? buf[i]! << 8 : buf[i]!
    i++
  }
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536)
  return s
}

/**
 * The RFC 1071 sum of `len` bytes at `off` (big-endian words), plus `initial`, folded to
 * 16 bits. Same result as onesComplementSum; faster for payload-sized ranges.
 */
export function onesComplementSumFast(buf: Buffer, off: number, len: number, initial: number): number {
  if (!LITTLE_ENDIAN || len < 32) return onesComplementSum(buf, off, len, initial)
  let s = sumAligned(buf, off, len)
  // Byte weights follow absolute addresses; big-endian words starting at an even address
  // weigh the even bytes by 256, i.e. the swapped sum (a 16-bit rotation is exact mod 65535).
  if (((buf.byteOffset + off) & 1) === 0) s = ((s & 0xff) << 8) | (s >>> 8)
  s += initial
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536)
  return s
}

/**
 * Sum of the big-endian 16-bit words of buf[off, off + len), unfolded (an odd last byte is the
 * high half of a word). For the short ranges read per packet (an IPv4 header, the addresses of
 * a pseudo-header): a plain loop without onesComplementSum's 8-byte blocks and folds; ≤ 60
 * bytes sum to < 2^21.
 */
function wordSum(buf: Buffer, off: number, len: number): number {
  let s = 0
  const end = off + len
  let i = off
  for (; i + 1 < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!
  if (i < end) s += buf[i]! << 8
  return s
}

export function ipv4HeaderChecksumOk(buf: Buffer, off: number, hdrLen: number): boolean {
  let s = wordSum(buf, off, hdrLen)
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
  return s === 0xffff
}

/**
 * TCP/UDP/ICMPv6 checksum with the IPv4 or IPv6 pseudo-header.
 * `l4Len` is the transport length per the IP header; the caller guarantees it was captured.
 */
export function transportChecksumOk(
  buf: Buffer, srcOff: number, dstOff: number, addrLen: number, proto: number, l4Off: number, l4Len: number,
): boolean {
  // The pseudo-header's words, unfolded: onesComplementSumFast folds the total (the end-around
  // carry makes the order of the folds irrelevant).
  const sum = wordSum(buf, srcOff, addrLen) + wordSum(buf, dstOff, addrLen) + proto + (l4Len & 0xffff) + (l4Len >>> 16)
  return onesComplementSumFast(buf, l4Off, l4Len, sum) === 0xffff
}
