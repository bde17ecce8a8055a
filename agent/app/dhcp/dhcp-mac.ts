/**
 * Zeek's fmt_mac: EUI-48 when exactly 6 bytes or when bytes 7-8 of a longer field are zero,
 * EUI-64 when they are not, and '' for anything shorter than 8 bytes other than 6.
 */
const hex = (n: number): string => (n < 16 ? '0' : '') + n.toString(16)

export function formatMacBytes(m: Uint8Array): string {
  const len = m.length
  if (len < 8 && len !== 6) return ''
  const n = len === 6 || (m[6] === 0 && m[7] === 0) ? 6 : 8
  let out = hex(m[0]!)
  for (let i = 1; i < n; i++) out += ':' + hex(m[i]!)
  return out
}
