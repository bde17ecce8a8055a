/**
 * Unchecked little/big-endian integer reads for the capture file hot paths. Buffer's
 * readUInt32LE validates its offset argument on every call, which costs ~10% of a
 * small-packet read; these compile to plain byte loads. Callers guarantee the bounds.
 */
export function u16le(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8)
}

export function u16be(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!
}

export function u32le(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + b[o + 3]! * 0x1000000
}

export function u32be(b: Uint8Array, o: number): number {
  return b[o]! * 0x1000000 + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!)
}
