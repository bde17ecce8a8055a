/**
 * Zeek's decode_netbios_name() (src/analyzer/protocol/netbios/functions.bif): a 32-character
 * first-level encoded NetBIOS name ("EJFDEBFE…", either case) → the name without its 16th
 * (suffix) byte and without trailing spaces/NULs; stops at the first byte that is not
 * alphanumeric, punctuation, space or < 3. Anything else → empty (Zeek then keeps the raw query).
 */
export function decodeNetbiosName(enc: Uint8Array): Uint8Array {
  if (enc.length !== 32) return new Uint8Array(0)
  const out = new Uint8Array(16)
  let length = 0
  for (let i = 0, j = 0; i < 16; i++) {
    const c0 = upper(enc[j++]!)
    const c1 = upper(enc[j++]!)
    if (c0 < 0x41 || c0 > 0x50 || c1 < 0x41 || c1 > 0x50) return new Uint8Array(0)
    const b = ((c0 - 0x41) << 4) + (c1 - 0x41)
    out[i] = b
    if (isAlnum(b) || isPunct(b) || b === 0x20 || b < 3) length++
    else break
  }
  if (length === 16) length = 15
  while (length > 0 && (out[length - 1] === 0x20 || out[length - 1] === 0)) length--
  return out.slice(0, length)
}

/** The NetBIOS suffix (16th byte) of an encoded name, or 256 when not a valid encoding. */
export function decodeNetbiosNameType(enc: Uint8Array): number {
  if (enc.length !== 32) return 256
  for (const ch of enc) {
    const c = upper(ch)
    if (c < 0x41 || c > 0x50) return 256
  }
  return ((upper(enc[30]!) - 0x41) << 4) + (upper(enc[31]!) - 0x41)
}

const upper = (c: number): number => (c >= 0x61 && c <= 0x7a ? c - 32 : c)
const isAlnum = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
const isPunct = (b: number): boolean => b > 0x20 && b < 0x7f && !isAlnum(b)
