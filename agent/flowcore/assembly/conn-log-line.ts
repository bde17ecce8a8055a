/*
 * conn.log rows written by the core: the bytes agent/output/conn-log-bytes.ts writes for the
 * same record (Zeek's 22 columns, optionally the two VLAN columns), into an output block the
 * host writes to the file when it fills. What this writer does not render — a history longer
 * than the row keeps, a tunnel parent, a time or count outside the plain forms — is left to
 * the host's encoder (writeConnLine returns false; the block is flushed first, so rows stay in
 * order). test/flow-core-differential.test.ts compares the files byte for byte.
 */
import {
  C_HIST, C_HLEN, C_IPPROTO, C_IVLAN, C_OIPB, C_OPKTS, C_OPORT, C_RIPB, C_RPKTS, C_RPORT, C_TPARENT, C_UID, C_ULEN,
  C_VLAN, HIST_CAP,
} from './layout'

/** The host writes `len` bytes holding `rows` complete rows to conn.log. */
@external("env", "flushOut")
declare function flushOut(ptr: usize, len: i32, rows: i32): void

const TAB: u8 = 0x09
const DASH: u8 = 0x2d
const MAX_SAFE: f64 = 9007199254740992
/** Longest row this writer renders (uid 19, two IPv6 texts 2 × 45, 16 numbers ≤ 21, history 40…). */
const MAX_ROW: i32 = 768

let out: usize = 0
let cap: i32 = 0
let pos: i32 = 0
let rows: i32 = 0
export let writtenRows: f64 = 0
export let writerOn: bool = false
let vlanColumns: bool = false

export function startWriter(bytes: i32, vlan: bool): void {
  if (out === 0) {
    out = heap.alloc(<usize>bytes)
    cap = bytes
  }
  pos = 0
  writerOn = true
  vlanColumns = vlan
}

/** Hands the rows written so far to the host. */
export function flushWriter(): void {
  if (pos > 0) {
    flushOut(out, pos, rows)
    pos = 0
    rows = 0
  }
}

// @ts-ignore: decorator
@inline function put(p: usize, c: u8): usize {
  store<u8>(p, c)
  return p + 1
}

function putDigits(pIn: usize, v: u64): usize {
  let p = pIn
  if (v < 10) return put(p, <u8>(0x30 + v))
  let len: usize = 0
  for (let y = v; y > 0; y /= 10) len++
  let q = p + len
  let x = v
  while (x > 0) {
    const d = x / 10
    store<u8>(--q, <u8>(0x30 + (x - d * 10)))
    x = d
  }
  return p + len
}

/** false: not a plain count (the host writes the row). */
let ok: bool = true

function putCount(p: usize, v: f64): usize {
  const x = Math.trunc(v)
  if (!(x >= 0 && x < MAX_SAFE)) { ok = false; return p }
  return putDigits(p, <u64>x)
}

/** Zeek's time format (modp_dtoa, 6 decimals): conn-log-bytes' putTime, step by step. */
function putTime(pIn: usize, value: f64): usize {
  let p = pIn
  if (!(value >= 0 && value < MAX_SAFE)) { ok = false; return p }
  let whole = Math.trunc(value)
  const tmp = (value - whole) * 1e6
  let frac = Math.trunc(tmp)
  const diff = tmp - frac
  if (diff > 0.5) {
    frac++
    if (frac >= 1e6) { frac = 0; whole++ }
  } else if (diff === 0.5 && (frac === 0 || (<i64>frac & 1) === 1)) {
    frac++
  }
  if (frac >= 1e6) { ok = false; return p }
  p = putDigits(p, <u64>whole)
  p = put(p, 0x2e)
  let f = <u32>frac
  for (let i = 5; i >= 0; i--) {
    const d = f / 10
    store<u8>(p + <usize>i, <u8>(0x30 + (f - d * 10)))
    f = d
  }
  return p + 6
}

function putHex(pIn: usize, v: u32): usize {
  let p = pIn
  let started = false
  for (let s = 12; s >= 0; s -= 4) {
    const d = (v >> <u32>s) & 0xf
    if (d !== 0 || started || s === 0) {
      started = true
      p = put(p, <u8>(d < 10 ? 0x30 + d : 0x57 + d))
    }
  }
  return p
}

function putV4(pIn: usize, a: usize): usize {
  let p = pIn
  for (let i: usize = 0; i < 4; i++) {
    if (i > 0) p = put(p, 0x2e)
    p = putDigits(p, <u64>load<u8>(a + i))
  }
  return p
}

/** agent/flow/addr-format.ts formatAddr: inet_ntop style, RFC 5952. */
function putAddr(pIn: usize, a: usize, v6: bool): usize {
  let p = pIn
  if (!v6) return putV4(p, a)
  if (load<u64>(a) === 0 && load<u16>(a + 8) === 0 && load<u16>(a + 10) === 0xffff) {
    p = put(p, 0x3a); p = put(p, 0x3a)
    p = put(p, 0x66); p = put(p, 0x66); p = put(p, 0x66); p = put(p, 0x66)
    p = put(p, 0x3a)
    return putV4(p, a + 12)
  }
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (load<u16>(a + (<usize>i << 1)) !== 0) { i++; continue }
    let j = i
    while (j < 8 && load<u16>(a + (<usize>j << 1)) === 0) j++
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i }
    i = j
  }
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      p = put(p, 0x3a)
      if (i === 0) p = put(p, 0x3a)
      i += bestLen - 1
      continue
    }
    p = putHex(p, <u32>bswap<u16>(load<u16>(a + (<usize>i << 1))))
    if (i < 7) p = put(p, 0x3a)
  }
  return p
}

function putProto(pIn: usize, proto: i32): usize {
  let p = pIn
  if (proto === 6) { p = put(p, 0x74); p = put(p, 0x63); return put(p, 0x70) }
  if (proto === 17) { p = put(p, 0x75); p = put(p, 0x64); return put(p, 0x70) }
  if (proto === 1 || proto === 58) { p = put(p, 0x69); p = put(p, 0x63); p = put(p, 0x6d); return put(p, 0x70) }
  ok = false
  return p
}

/** conn_state texts by code (the host's CONN_STATES order), 7 bytes each: length, then up to 6 letters. */
const STATE_TEXT = memory.data<u8>([
  2, 0x53, 0x30, 0, 0, 0, 0, // S0
  2, 0x53, 0x31, 0, 0, 0, 0, // S1
  2, 0x53, 0x46, 0, 0, 0, 0, // SF
  3, 0x52, 0x45, 0x4a, 0, 0, 0, // REJ
  2, 0x53, 0x32, 0, 0, 0, 0, // S2
  2, 0x53, 0x33, 0, 0, 0, 0, // S3
  4, 0x52, 0x53, 0x54, 0x4f, 0, 0, // RSTO
  4, 0x52, 0x53, 0x54, 0x52, 0, 0, // RSTR
  6, 0x52, 0x53, 0x54, 0x4f, 0x53, 0x30, // RSTOS0
  5, 0x52, 0x53, 0x54, 0x52, 0x48, 0, // RSTRH
  2, 0x53, 0x48, 0, 0, 0, 0, // SH
  3, 0x53, 0x48, 0x52, 0, 0, 0, // SHR
  3, 0x4f, 0x54, 0x48, 0, 0, 0, // OTH
])

function putState(pIn: usize, code: i32): usize {
  let p = pIn
  if (code < 0 || code > 12) { ok = false; return p }
  const e = STATE_TEXT + <usize>(code * 7)
  const n = <usize>load<u8>(e)
  for (let i: usize = 1; i <= n; i++) p = put(p, load<u8>(e + i))
  return p
}

// @ts-ignore: decorator
@inline function putBool(p: usize, v: bool): usize {
  return put(p, v ? 0x54 : 0x46)
}

/**
 * Renders the row of connection `r` (its record fields already computed) into the output
 * block. false: the host must write this row (the block was flushed first).
 */
export function writeConnLine(r: usize, ts: f64, last: f64, ob: f64, rb: f64, missed: f64, state: i32,
  localOrig: bool, localResp: bool, oaddr: usize, raddr: usize, v6: bool): bool {
  const hlen = load<i32>(r + C_HLEN)
  if (hlen > HIST_CAP || load<i32>(r + C_TPARENT) !== 0) { flushWriter(); return false }
  if (cap - pos < MAX_ROW) flushWriter()
  ok = true
  const start = out + <usize>pos
  let p = start
  p = putTime(p, ts); p = put(p, TAB)
  const ulen = <usize>load<u8>(r + C_ULEN)
  memory.copy(p, r + C_UID, ulen); p += ulen; p = put(p, TAB)
  p = putAddr(p, oaddr, v6); p = put(p, TAB)
  p = putDigits(p, <u64>load<i32>(r + C_OPORT)); p = put(p, TAB)
  p = putAddr(p, raddr, v6); p = put(p, TAB)
  p = putDigits(p, <u64>load<i32>(r + C_RPORT)); p = put(p, TAB)
  const proto = load<i32>(r + C_IPPROTO)
  p = putProto(p, proto); p = put(p, TAB)
  p = put(p, DASH); p = put(p, TAB) // service: none without the analyzers
  const duration = last - ts
  if (duration > 0) p = putTime(p, duration)
  else p = put(p, DASH)
  p = put(p, TAB)
  p = ob >= 0 ? putCount(p, ob) : put(p, DASH); p = put(p, TAB)
  p = rb >= 0 ? putCount(p, rb) : put(p, DASH); p = put(p, TAB)
  p = putState(p, state); p = put(p, TAB)
  p = putBool(p, localOrig); p = put(p, TAB)
  p = putBool(p, localResp); p = put(p, TAB)
  p = putCount(p, missed); p = put(p, TAB)
  if (hlen === 0) p = put(p, DASH)
  else {
    memory.copy(p, r + C_HIST, <usize>hlen)
    p += <usize>hlen
  }
  p = put(p, TAB)
  p = putCount(p, load<f64>(r + C_OPKTS)); p = put(p, TAB)
  p = putCount(p, load<f64>(r + C_OIPB)); p = put(p, TAB)
  p = putCount(p, load<f64>(r + C_RPKTS)); p = put(p, TAB)
  p = putCount(p, load<f64>(r + C_RIPB)); p = put(p, TAB)
  p = put(p, DASH); p = put(p, TAB) // tunnel_parents (rows with one are the host's)
  p = putDigits(p, <u64>proto)
  if (vlanColumns) {
    const vlan = load<i32>(r + C_VLAN)
    const inner = load<i32>(r + C_IVLAN)
    p = put(p, TAB); p = vlan >= 0 ? putDigits(p, <u64>vlan) : put(p, DASH)
    p = put(p, TAB); p = inner >= 0 ? putDigits(p, <u64>inner) : put(p, DASH)
  }
  p = put(p, 0x0a)
  if (!ok) { flushWriter(); return false }
  pos += <i32>(p - start)
  rows++
  writtenRows++
  return true
}
