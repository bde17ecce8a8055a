/** MAC addresses as 48-bit numbers (how the flow tables keep them) and their texts. */

const HEX2: string[] = Array.from({ length: 256 }, (_v, i) => (i < 16 ? '0' : '') + i.toString(16))

/*
 * MAC texts seen lately (routers recur in most flows, each local host in its own): a
 * direct-mapped cache of 2^14 entries keyed by the 48-bit number, a colliding MAC replaces
 * the entry. A Map<number, string> cleared at 4096 entries thrashed on captures with more
 * local hosts than that (the bench's 9k), and hashed a boxed double per lookup.
 */
const MAC_BITS = 14
const macKeys = new Float64Array(1 << MAC_BITS).fill(-1)
const macTexts: string[] = new Array<string>(1 << MAC_BITS).fill('')

export function macText(n: number): string {
  const lo = n >>> 0
  const e = (Math.imul(lo ^ Math.floor(n / 4294967296), 0x9e3779b1) >>> (32 - MAC_BITS))
  if (macKeys[e] === n) return macTexts[e]!
  const s = formatMacNumber(n)
  macKeys[e] = n
  macTexts[e] = s
  return s
}

function formatMacNumber(n: number): string {
  const hi = Math.floor(n / 4294967296) // top 16 bits
  const lo = n >>> 0
  return `${HEX2[hi >>> 8]}:${HEX2[hi & 0xff]}:${HEX2[lo >>> 24]}:${HEX2[(lo >>> 16) & 0xff]}:${HEX2[(lo >>> 8) & 0xff]}:${HEX2[lo & 0xff]}`
}

/** A MAC address at `off` as a 48-bit number. */
export function macNumber(b: Uint8Array, off: number): number {
  return (b[off]! * 2 ** 40) + (b[off + 1]! * 2 ** 32) + ((b[off + 2]! << 24) >>> 0) + (b[off + 3]! << 16) + (b[off + 4]! << 8) + b[off + 5]!
}
