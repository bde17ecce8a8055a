/**
 * Small allocation-light scanning helpers shared by the line parsers. All bounds-checked,
 * none throws, none uses a backtracking regular expression.
 */

/** Parses a run of ASCII digits in s[start,end) as a non-negative integer; -1 if not all digits or empty/too long. */
export function parseUint(s: string, start = 0, end = s.length): number {
  if (end <= start || end - start > 15) return -1
  let n = 0
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    n = n * 10 + c
  }
  return n
}

/** Strict dotted-quad IPv4 (no leading zeros beyond a single 0). */
export function isIPv4(s: string): boolean {
  const len = s.length
  if (len < 7 || len > 15) return false
  let dots = 0
  let digits = 0
  let value = 0
  let first = -1
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i)
    if (c === 46) {
      if (digits === 0 || dots === 3) return false
      dots++
      digits = 0
      value = 0
      continue
    }
    if (c < 48 || c > 57) return false
    if (digits === 0) first = c
    else if (first === 48) return false
    digits++
    value = value * 10 + (c - 48)
    if (digits > 3 || value > 255) return false
  }
  return dots === 3 && digits > 0
}

/** IPv6 text form (with optional embedded IPv4 tail and %zone); structural check, no allocation. */
export function isIPv6(s: string): boolean {
  const len = s.length
  if (len < 2 || len > 64) return false
  let end = len
  const pct = s.indexOf('%')
  if (pct !== -1) { if (pct === 0 || pct === len - 1) return false; end = pct }
  let groups = 0
  let doubleColon = false
  let i = 0
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false
    doubleColon = true
    i = 2
    if (i === end) return true
  }
  while (i < end) {
    let j = i
    let hex = 0
    while (j < end && hex < 5) {
      const c = s.charCodeAt(j)
      const isHex = (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
      if (!isHex) break
      j++
      hex++
    }
    if (j < end && s.charCodeAt(j) === 46) {
      // embedded IPv4 tail
      if (!isIPv4(s.slice(i, end))) return false
      groups += 2
      i = end
      break
    }
    if (hex === 0 || hex > 4) return false
    groups++
    if (j === end) { i = j; break }
    if (s.charCodeAt(j) !== 58) return false
    if (s.charCodeAt(j + 1) === 58) {
      if (doubleColon) return false
      doubleColon = true
      i = j + 2
      if (i === end) break
    } else {
      i = j + 1
      if (i === end) return false
    }
  }
  return doubleColon ? groups < 8 : groups === 8
}

export function isIp(s: string): boolean {
  return isIPv4(s) || (s.indexOf(':') !== -1 && isIPv6(s))
}

/** `::ffff:1.2.3.4` → `1.2.3.4`; other strings unchanged. */
export function unmapIPv4(s: string): string {
  if (s.length > 7 && (s.startsWith('::ffff:') || s.startsWith('::FFFF:'))) {
    const v4 = s.slice(7)
    if (isIPv4(v4)) return v4
  }
  return s
}

/** Plausible host name or address token (no spaces, no quotes, no brackets). */
export function isHostToken(s: string): boolean {
  if (s.length === 0 || s.length > 255) return false
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ok = (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 37
    if (!ok) return false
  }
  return true
}

/** Index of the next ' ' at or after start, or s.length. */
export function nextSpace(s: string, start: number): number {
  const i = s.indexOf(' ', start)
  return i === -1 ? s.length : i
}

/** Skips spaces from start. */
export function skipSpaces(s: string, start: number): number {
  let i = start
  while (i < s.length && s.charCodeAt(i) === 32) i++
  return i
}

/** Removes trailing spaces/tabs/CR. */
export function trimEnd(s: string): string {
  let e = s.length
  while (e > 0) {
    const c = s.charCodeAt(e - 1)
    if (c !== 32 && c !== 9 && c !== 13) break
    e--
  }
  return e === s.length ? s : s.slice(0, e)
}
