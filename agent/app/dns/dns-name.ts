/**
 * Domain-name extraction exactly as Zeek's DNS_Interpreter::ExtractName/ExtractLabel:
 * labels are joined with "." into a 512-byte buffer, a compression pointer must point
 * strictly backwards (so pointer chains always terminate) and the name it points to may not
 * extend past the pointer itself; every problem ends the name (with a named anomaly) rather
 * than failing the message. Each pointer level drops its own trailing "." and lower-cases
 * its part (pointer targets are always lower-cased, the outer level only when asked).
 *
 * Zeek recurses once per pointer; this walks the chain iteratively, so a crafted chain of
 * thousands of pointers costs a loop, not stack frames.
 */
import type { DnsCursor } from './dns-cursor.js'

/** Zeek's `u_char name[513]` with `name_len = sizeof(name) - 1`. */
export const MAX_NAME_BYTES = 512

const scratch = new Uint8Array(MAX_NAME_BYTES + 256)
/**
 * Start offset in `scratch` of each pointer level (0 = the outer name), reused across calls:
 * was two arrays per name (~60 MB of garbage on the bench capture). Only level 0 may skip
 * lower-casing, so no per-level flag is kept.
 */
const starts: number[] = [0]
/**
 * The last name returned. Answers usually repeat the question's name through a pointer, so
 * the same bytes come back again and again: the previous result is returned instead of a new
 * copy. Names are never mutated after this returns (callers treat them as read-only), which
 * is what makes sharing one array between results safe.
 */
let last: Uint8Array = new Uint8Array(0)

/**
 * The name at the cursor (see the module comment). The returned bytes are shared and
 * read-only: callers must copy before changing them.
 */
export function extractName(c: DnsCursor, downcase: boolean, netbios: boolean, weird: (name: string) => void): Uint8Array {
  const buf = c.buf
  let pos = c.pos
  let len = c.len
  let n = 0
  let jumped = false
  let depth = 1
  for (;;) {
    if (len <= 0) break
    const orig = pos
    const ll = buf[pos]!
    pos++
    len--
    if (len <= 0 || ll === 0) break
    if ((ll & 0xc0) === 0xc0) {
      const off = ((ll & 0x3f) << 8) | buf[pos]!
      pos++
      len--
      if (off >= orig) {
        weird('DNS_label_forward_compress_offset')
        break
      }
      if (!jumped) {
        c.pos = pos
        c.len = len
        jumped = true
      }
      starts[depth++] = n
      pos = off
      len = orig - off
      continue
    }
    if (ll > len) {
      weird('DNS_label_len_gt_pkt')
      pos += len
      len = 0
      break
    }
    if (ll > 63 && !netbios) {
      weird('DNS_label_too_long')
      break
    }
    if (ll >= MAX_NAME_BYTES - n) {
      weird('DNS_label_len_gt_name_len')
      break
    }
    for (let i = 0; i < ll; i++) scratch[n + i] = buf[pos + i]!
    scratch[n + ll] = 0x2e
    n += ll + 1
    pos += ll
    len -= ll
  }
  if (!jumped) {
    c.pos = pos
    c.len = len
  }
  for (let lvl = depth - 1; lvl >= 0; lvl--) {
    const start = lvl === 0 ? 0 : starts[lvl]!
    const size = n - start
    if (size >= 255) weird('DNS_NAME_too_long')
    if (size >= 2 && scratch[n - 1] === 0x2e) n--
    if (lvl > 0 || downcase) {
      for (let i = start; i < n; i++) {
        const ch = scratch[i]!
        if (ch >= 0x41 && ch <= 0x5a) scratch[i] = ch + 32
      }
    }
  }
  const prev = last
  if (prev.length === n) {
    let i = 0
    while (i < n && prev[i] === scratch[i]) i++
    if (i === n) return prev
  }
  return (last = scratch.slice(0, n))
}

/** Lower-cases ASCII letters in place (Zeek downcases question names for `query`). */
export function asciiLower(b: Uint8Array): Uint8Array {
  for (let i = 0; i < b.length; i++) {
    const ch = b[i]!
    if (ch >= 0x41 && ch <= 0x5a) b[i] = ch + 32
  }
  return b
}
