/**
 * pcapng timestamps: a 64-bit tick count (two 32-bit halves) at the interface's resolution
 * (if_tsresol: 10^-k or 2^-k seconds), converted to exact whole seconds + nanoseconds.
 */

/** How one interface turns ticks into (seconds, nanoseconds). */
export interface TimestampScale {
  /** Ticks per second when it is 10^k with k <= 9 (exact fast path), else 0. */
  divisor: number
  /** Nanoseconds per tick on the fast path (10^(9-k)). */
  nsPerTick: number
  /** Slow path (2^-k, 10^-k with k > 9): exact BigInt arithmetic. */
  bigUnits: bigint
  unitsPerSecond: number
}

/** Interprets an if_tsresol byte (default 6 = µs). */
export function timestampScale(tsresol: number): TimestampScale {
  const exp = tsresol & 0x7f
  if ((tsresol & 0x80) === 0 && exp <= 9) {
    const divisor = 10 ** exp
    return { divisor, nsPerTick: 10 ** (9 - exp), bigUnits: BigInt(divisor), unitsPerSecond: divisor }
  }
  const bigUnits = (tsresol & 0x80) !== 0 ? 1n << BigInt(exp) : 10n ** BigInt(exp)
  return { divisor: 0, nsPerTick: 0, bigUnits, unitsPerSecond: Number(bigUnits) }
}

/** Result holder reused by the reader (no allocation on the fast path). */
export interface SecNsec {
  sec: number
  nsec: number
}

/**
 * (hi * 2^32 + lo) ticks → out.sec / out.nsec. The fast path is a long division in 16-bit
 * digits, exact for any divisor up to 1e9 (every intermediate stays below 2^53).
 */
export function ticksToSecNsec(hi: number, lo: number, scale: TimestampScale, out: SecNsec): void {
  const d = scale.divisor
  if (d !== 0) {
    const qHi = Math.floor(hi / d)
    let r = hi - qHi * d
    let x = r * 65536 + (lo >>> 16)
    const q1 = Math.floor(x / d)
    r = x - q1 * d
    x = r * 65536 + (lo & 0xffff)
    const q0 = Math.floor(x / d)
    r = x - q0 * d
    out.sec = qHi * 4294967296 + q1 * 65536 + q0
    out.nsec = r * scale.nsPerTick
    return
  }
  const ticks = (BigInt(hi) << 32n) | BigInt(lo)
  const sec = ticks / scale.bigUnits
  out.sec = Number(sec)
  out.nsec = Number(((ticks - sec * scale.bigUnits) * 1_000_000_000n) / scale.bigUnits)
}
