/*
 * local_orig / local_resp: the host's LocalNets prefixes (agent/flow/local-nets.ts), copied in
 * once as (net, mask) words, tested the same way (IPv4-mapped IPv6 as IPv4).
 */
let n4: i32 = 0
let n6: i32 = 0
let tables: usize = 0

/** Room for n4 IPv4 (net, mask) pairs then n6 IPv6 (4 net words, 4 mask words) entries, as u32. */
export function localNetsBuffer(v4: i32, v6: i32): usize {
  if (tables !== 0) heap.free(tables)
  n4 = v4
  n6 = v6
  tables = heap.alloc(<usize>(v4 * 2 + v6 * 8 + 1) << 2)
  return tables
}

// @ts-ignore: decorator
@inline function be32(p: usize): u32 {
  return bswap<u32>(load<u32>(p))
}

function isLocal4(a: u32): bool {
  for (let i = 0; i < n4; i++) {
    const e = tables + (<usize>i << 3)
    if ((a & load<u32>(e + 4)) === load<u32>(e)) return true
  }
  return false
}

export function isLocal(addr: usize, v6: bool): bool {
  if (!v6) return isLocal4(be32(addr))
  if (load<u64>(addr) === 0 && load<u16>(addr + 8) === 0 && load<u16>(addr + 10) === 0xffff) return isLocal4(be32(addr + 12))
  const w0 = be32(addr)
  const w1 = be32(addr + 4)
  const w2 = be32(addr + 8)
  const w3 = be32(addr + 12)
  const base = tables + (<usize>n4 << 3)
  for (let i = 0; i < n6; i++) {
    const e = base + (<usize>i << 5)
    if ((w0 & load<u32>(e + 16)) === load<u32>(e) && (w1 & load<u32>(e + 20)) === load<u32>(e + 4) &&
      (w2 & load<u32>(e + 24)) === load<u32>(e + 8) && (w3 & load<u32>(e + 28)) === load<u32>(e + 12)) return true
  }
  return false
}
