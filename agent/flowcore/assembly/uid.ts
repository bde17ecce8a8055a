/*
 * Connection uids, drawn in the core: "C" + three 32-bit random words in base62, least
 * significant digit first (the shape and digits of agent/flow/uid.ts's UidGenerator). The
 * random bytes come from the host (crypto.randomFillSync) a pool at a time.
 */
import { C_UID, C_ULEN } from './layout'

@external("env", "random")
declare function fillRandom(ptr: usize, len: i32): void

const POOL_BYTES: i32 = 12 * 1024
let pool: usize = 0
let poolPos: i32 = POOL_BYTES
const ALPHABET = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39,
  0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52,
  0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a,
  0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72,
  0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a,
])

/** Draws the uid of row `r` unless it has one. */
export function ensureUid(r: usize): void {
  if (load<u8>(r + C_ULEN) !== 0) return
  if (poolPos + 12 > POOL_BYTES) {
    if (pool === 0) pool = heap.alloc(<usize>POOL_BYTES)
    fillRandom(pool, POOL_BYTES)
    poolPos = 0
  }
  store<u8>(r + C_UID, 0x43) // C
  let n: usize = 1
  for (let w = 0; w < 3; w++) {
    let v = bswap<u32>(load<u32>(pool + <usize>(poolPos + w * 4)))
    for (let i = 0; i < 6 && (v > 0 || i === 0); i++) {
      store<u8>(r + C_UID + n++, load<u8>(ALPHABET + <usize>(v % 62)))
      v /= 62
    }
  }
  poolPos += 12
  store<u8>(r + C_ULEN, <u8>n)
}
