/*
 * Connection rows: allocation (a free list over one growable heap block), the history
 * letters, per-direction swaps (Zeek's FlipRoles) and the endpoints' out-of-order range lists.
 */
import {
  C_EP0, C_EP1, C_FLAGS, C_GEN, C_HIST, C_HLEN, C_HSEEN, C_LIVE, C_OIPB, C_OLEN, C_OMAC, C_OPKTS, C_OPORT, C_RIPB,
  C_RLEN, C_RMAC, C_RPKTS, C_RPORT, C_SLOT, E_BLOCKS, F_ORIG_ACTIVE, F_ORIG_EP1, F_ORIG_IS_A, F_RESP_ACTIVE, F_TCP,
  F_TCP_FIRST, F_TCP_FIRST_SHIFT, F_TCP_PARTIAL, F_TCP_SYNACK_START, HIST_CAP, STRIDE,
} from './layout'

/** The host keeps history letters beyond HIST_CAP (rare: flows with many flips or SYNs). */
@external("env", "histSpill")
declare function histSpill(slot: i32, code: i32): void

/*
 * Rows live in segments of SEG_ROWS, allocated as the table grows and never moved: a row
 * pointer stays valid while its connection lives, and growing copies nothing (one block
 * reallocated ×2 copied the whole table each time and held old and new copies at once:
 * +40 % peak RSS on the bench capture, measured).
 */
const SEG_SHIFT: i32 = 12
const SEG_ROWS: i32 = 1 << SEG_SHIFT
let segs: usize = 0 // usize per segment
let segCount: i32 = 0
let cap: i32 = 0
let freeList: usize = 0 // i32 stack of free slots
let freeCount: i32 = 0

/** heap.realloc, or heap.alloc for a first block (realloc wants a block). */
export function grown(ptr: usize, size: usize): usize {
  return ptr === 0 ? heap.alloc(size) : heap.realloc(ptr, size)
}

/** A free row (zeroed but for its slot and generation), adding a segment when all are taken. */
export function allocSlot(): i32 {
  if (freeCount === 0) {
    const seg = heap.alloc(<usize>SEG_ROWS * <usize>STRIDE)
    segs = grown(segs, <usize>(segCount + 1) << alignof<usize>())
    store<usize>(segs + (<usize>segCount << alignof<usize>()), seg)
    segCount++
    const ncap = cap + SEG_ROWS
    freeList = grown(freeList, <usize>ncap << 2)
    // Lowest slot on top of the stack.
    for (let s = ncap - 1; s >= cap; s--) store<i32>(freeList + (<usize>(freeCount++) << 2), s)
    for (let s = cap; s < ncap; s++) store<i32>(rowOf(s) + C_GEN, 0)
    cap = ncap
  }
  const slot = load<i32>(freeList + (<usize>(--freeCount) << 2))
  const r = rowOf(slot)
  const gen = load<i32>(r + C_GEN)
  memory.fill(r, 0, <usize>STRIDE)
  store<i32>(r + C_GEN, gen + 1)
  store<i32>(r + C_LIVE, 1)
  store<i32>(r + C_SLOT, slot)
  return slot
}

export function releaseSlot(slot: i32): void {
  const r = rowOf(slot)
  freeBlocks(r + C_EP0)
  freeBlocks(r + C_EP1)
  store<i32>(r + C_LIVE, 0)
  store<i32>(freeList + (<usize>(freeCount++) << 2), slot)
}

// @ts-ignore: decorator
@inline export function rowOf(slot: i32): usize {
  return load<usize>(segs + (<usize>(slot >> SEG_SHIFT) << alignof<usize>())) + <usize>(slot & (SEG_ROWS - 1)) * <usize>STRIDE
}

// @ts-ignore: decorator
@inline export function slotOf(r: usize): i32 {
  return load<i32>(r + C_SLOT)
}

export function addHistory(r: usize, code: i32): void {
  const n = load<i32>(r + C_HLEN)
  if (n < HIST_CAP) store<u8>(r + C_HIST + <usize>n, <u8>code)
  else histSpill(slotOf(r), code)
  store<i32>(r + C_HLEN, n + 1)
}

/** Zeek's Connection::CheckHistory: adds `code` the first time `mask` is seen; true if seen before. */
export function checkHistory(r: usize, mask: i32, code: i32): bool {
  const seen = load<i32>(r + C_HSEEN)
  if ((seen & mask) === 0) {
    store<i32>(r + C_HSEEN, seen | mask)
    addHistory(r, code)
    return false
  }
  return true
}

function swapF64(r: usize, a: i32, b: i32): void {
  const x = load<f64>(r + <usize>a)
  store<f64>(r + <usize>a, load<f64>(r + <usize>b))
  store<f64>(r + <usize>b, x)
}

/** Zeek's Connection::FlipRoles: everything per direction swaps; '^' is appended. */
export function flipRoles(r: usize): void {
  const op = load<i32>(r + C_OPORT)
  store<i32>(r + C_OPORT, load<i32>(r + C_RPORT))
  store<i32>(r + C_RPORT, op)
  swapF64(r, C_OPKTS, C_RPKTS)
  swapF64(r, C_OIPB, C_RIPB)
  swapF64(r, C_OLEN, C_RLEN)
  swapF64(r, C_OMAC, C_RMAC)
  let f = load<i32>(r + C_FLAGS)
  const oa = f & F_ORIG_ACTIVE
  const ra = f & F_RESP_ACTIVE
  f = (f & ~(F_ORIG_ACTIVE | F_RESP_ACTIVE)) | (oa !== 0 ? F_RESP_ACTIVE : 0) | (ra !== 0 ? F_ORIG_ACTIVE : 0)
  if ((f & F_TCP) !== 0) {
    f ^= F_ORIG_EP1
    const first = (f & F_TCP_FIRST) >> F_TCP_FIRST_SHIFT
    const swapped = ((first & 1) !== 0 ? 2 : 0) | ((first & 2) !== 0 ? 1 : 0)
    f = (f & ~(F_TCP_FIRST | F_TCP_PARTIAL | F_TCP_SYNACK_START)) | (swapped << F_TCP_FIRST_SHIFT)
  }
  f ^= F_ORIG_IS_A
  store<i32>(r + C_FLAGS, f)
  addHistory(r, 0x5e) // '^'
}

// ---- out-of-order ranges of one endpoint: [count:i32, pad, f64 × count] (start, end pairs) ----
export const MAX_BLOCKS: i32 = 64
const BLOCKS_BYTES: usize = 8 + 8 * (<usize>MAX_BLOCKS * 2 + 4)

export function blocksOf(ep: usize): usize {
  return <usize>load<i32>(ep + E_BLOCKS)
}

export function ensureBlocks(ep: usize): usize {
  let b = <usize>load<i32>(ep + E_BLOCKS)
  if (b === 0) {
    b = heap.alloc(BLOCKS_BYTES)
    store<i32>(b, 0)
    store<i32>(ep + E_BLOCKS, <i32>b)
  }
  return b
}

function freeBlocks(ep: usize): void {
  const b = <usize>load<i32>(ep + E_BLOCKS)
  if (b !== 0) {
    heap.free(b)
    store<i32>(ep + E_BLOCKS, 0)
  }
}

// @ts-ignore: decorator
@inline export function blockAt(b: usize, i: i32): f64 {
  return load<f64>(b + 8 + (<usize>i << 3))
}

// @ts-ignore: decorator
@inline export function blockCount(b: usize): i32 {
  return b === 0 ? 0 : load<i32>(b)
}

/** Array.splice(i, del, ...insert) on the value list (insert: 0 or 2 values). */
export function blockSplice(b: usize, i: i32, del: i32, ins: i32, s: f64, e: f64): void {
  const n = load<i32>(b)
  const tail = n - i - del
  const base = b + 8
  if (ins !== del && tail > 0) {
    memory.copy(base + (<usize>(i + ins) << 3), base + (<usize>(i + del) << 3), <usize>tail << 3)
  }
  if (ins === 2) {
    store<f64>(base + (<usize>i << 3), s)
    store<f64>(base + (<usize>(i + 1) << 3), e)
  }
  store<i32>(b, n - del + ins)
}
