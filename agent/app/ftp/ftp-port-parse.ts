/**
 * FTP data-channel addresses, as Zeek's BIFs parse them (src/analyzer/protocol/ftp/
 * functions.bif): PORT "h1,h2,h3,h4,p1,p2", EPRT "<d>proto<d>addr<d>port<d>" (RFC 2428),
 * the PASV reply "(h1,...,p2)" and the EPSV reply "(<d><d><d>port<d>)". An unspecified EPSV
 * address comes back as '::' (the caller substitutes the server).
 */
import ipaddr from 'ipaddr.js'

export interface FtpPort { h: string; p: number; valid: boolean }

const INVALID: FtpPort = Object.freeze({ h: '0.0.0.0', p: 0, valid: false })

/** sscanf("%d,%d,%d,%d,%d,%d"): leading spaces and signs allowed per number, text after ignored. */
export function parseFtpPort(line: string): FtpPort {
  if (line.length < 11) return INVALID
  const m = /^\s*([+-]?\d+),\s*([+-]?\d+),\s*([+-]?\d+),\s*([+-]?\d+),\s*([+-]?\d+),\s*([+-]?\d+)/.exec(line)
  if (!m) return INVALID
  const b = m.slice(1, 7).map(Number)
  if (b.some((x) => !(x >= 0 && x <= 255))) return INVALID
  return { h: `${b[0]}.${b[1]}.${b[2]}.${b[3]}`, p: (b[4]! << 8) | b[5]!, valid: true }
}

/** strtol from `s` at `i`: [value, index after the digits] (value 0 / same index when none). */
function strtol(s: string, i: number): [number, number] {
  let j = i
  while (j < s.length && /\s/.test(s[j]!)) j++
  let sign = 1
  if (s[j] === '+' || s[j] === '-') { if (s[j] === '-') sign = -1; j++ }
  const start = j
  while (j < s.length && s[j]! >= '0' && s[j]! <= '9') j++
  if (j === start) return [0, i]
  return [sign * Number(s.slice(start, j)), j]
}

function normalizeIp(s: string): string | undefined {
  try {
    if (!ipaddr.isValid(s)) return undefined
    const a = ipaddr.parse(s)
    return a.kind() === 'ipv6' ? (a as ipaddr.IPv6).toString() : a.toString()
  } catch {
    return undefined
  }
}

/** Zeek's parse_eftp (EPRT argument, and the EPSV reply after '('). */
export function parseEftp(input: string | undefined): FtpPort {
  if (input === undefined) return { h: '::', p: 0, valid: false }
  const s = input
  let i = 0
  while (i < s.length && /\s/.test(s[i]!)) i++
  let h = '::'
  let port = 0
  let good = false
  if (i < s.length) {
    const delim = s[i]!
    good = true
    i++
    const [, afterProto] = strtol(s, i)
    if (s[afterProto] !== delim) good = false
    i = afterProto
    if (i < s.length) i++
    if (i < s.length && s[i] !== delim) {
      let end = s.indexOf(delim, i)
      if (end < 0) end = s.length
      const a = normalizeIp(s.slice(i, end))
      good = a !== undefined
      if (a !== undefined) h = a
    }
    const d = s.indexOf(delim, i)
    if (d >= 0) {
      const [p, after] = strtol(s, d + 1)
      port = p
      if (s[after] !== delim) good = false
      if (port < 0 || port > 65535) { port = 0; good = false }
    }
  }
  return { h, p: port, valid: good }
}

/** Zeek's parse_ftp_pasv (227 reply text). */
export function parseFtpPasv(msg: string): FtpPort {
  if (msg.length === 0) return INVALID
  let at = msg.indexOf('(')
  if (at >= 0) at++
  else if ((at = msg.indexOf('PORT')) >= 0) at += 5
  else if ((at = msg.indexOf(',')) >= 0) {
    do at--; while (at >= 0 && msg[at]! >= '0' && msg[at]! <= '9')
    at++
  }
  if (at < 0 || at > msg.length) return INVALID
  return parseFtpPort(msg.slice(at))
}

/** Zeek's parse_ftp_epsv (229 reply text). */
export function parseFtpEpsv(msg: string): FtpPort {
  const at = msg.indexOf('(')
  return parseEftp(at >= 0 ? msg.slice(at + 1) : undefined)
}
