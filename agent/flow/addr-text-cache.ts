import { formatAddr } from './addr-format.js'

/*
 * Address texts of recent connections, keyed by the address as 32-bit words (what a Conn
 * keeps): a direct-mapped cache of 2^15 entries, so a host seen in many flows has its text
 * made once and every record of it carries the same string object. That object's hash is
 * computed once (V8 keeps it in the string) and Map lookups by it — the host inventory's,
 * once per flow end — compare pointers instead of hashing and comparing a fresh text; the
 * formatting (a template or a chain of concatenations per address) is skipped too.
 *
 * Bounded: a colliding address simply replaces the entry (typed-array keys, one string per
 * entry: at most 32768 texts, ~2 MB). Hand-written hot path: one call per address of a
 * finished connection, no allocation on a hit.
 */
const BITS = 15
const SIZE = 1 << BITS
/** Four key words per entry; an IPv4 address uses word 0 only. */
const keys = new Int32Array(SIZE * 4)
/** 0 empty, 1 IPv4, 2 IPv6. */
const kinds = new Uint8Array(SIZE)
const texts: string[] = new Array<string>(SIZE).fill('')
const scratch = new Uint8Array(16)
const scratch4 = scratch.subarray(0, 4)

function entryOf(w0: number, w1: number, w2: number, w3: number, v6: boolean): number {
  let h = Math.imul(w0 ^ 0x2545f491, 0x9e3779b1)
  if (v6) {
    h = Math.imul(h ^ (h >>> 15) ^ w1, 0x85ebca6b)
    h = Math.imul(h ^ (h >>> 13) ^ w2, 0xc2b2ae35)
    h = Math.imul(h ^ (h >>> 16) ^ w3, 0x9e3779b1)
  }
  return (h ^ (h >>> 15)) >>> (32 - BITS)
}

/**
 * The text of an address given as words `w[off…]` (1 word for IPv4, 4 for IPv6, each the
 * big-endian 32 bits of the address bytes): exactly formatAddr of its bytes.
 */
export function addrTextOfWords(w: Int32Array, off: number, v6: boolean): string {
  const w0 = w[off]!
  const w1 = v6 ? w[off + 1]! : 0
  const w2 = v6 ? w[off + 2]! : 0
  const w3 = v6 ? w[off + 3]! : 0
  const e = entryOf(w0, w1, w2, w3, v6)
  const k = e * 4
  const kind = v6 ? 2 : 1
  if (kinds[e] === kind && keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) return texts[e]!
  let s: string
  if (v6) {
    putWord(w0, 0); putWord(w1, 4); putWord(w2, 8); putWord(w3, 12)
    s = formatAddr(scratch, 0, 16)
  } else {
    putWord(w0, 0)
    s = formatAddr(scratch4, 0, 4)
  }
  kinds[e] = kind
  keys[k] = w0; keys[k + 1] = w1; keys[k + 2] = w2; keys[k + 3] = w3
  texts[e] = s
  return s
}

function putWord(w: number, o: number): void {
  scratch[o] = w >>> 24; scratch[o + 1] = (w >>> 16) & 0xff; scratch[o + 2] = (w >>> 8) & 0xff; scratch[o + 3] = w & 0xff
}

const wordsScratch = new Int32Array(4)

/** addrTextOfWords for 4 or 16 address bytes at b[off] (the WebAssembly flow core's records). */
export function addrTextAt(b: Uint8Array, off: number, v6: boolean): string {
  const n = v6 ? 4 : 1
  for (let i = 0; i < n; i++) {
    const o = off + i * 4
    wordsScratch[i] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!
  }
  return addrTextOfWords(wordsScratch, 0, v6)
}
