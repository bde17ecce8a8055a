/**
 * Big-endian reads for the hot path. Buffer#readUInt16BE/readUInt32BE validate their offset
 * on every call; the decoders have already checked lengths, so plain byte loads (which V8
 * inlines) are enough. Out-of-range reads cannot happen after those checks.
 */
export function u16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!
}

/** Unsigned 32-bit (0 … 2^32-1). */
export function u32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0
}

/** The same four bytes as a signed 32-bit integer (a small integer for V8: for keys and hashes). */
export function i32(b: Uint8Array, off: number): number {
  return (b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!
}
