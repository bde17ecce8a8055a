/**
 * Client and server TLS fingerprints:
 * - JA3 / JA3S (Salesforce): decimal fields joined by "," with lists joined by "-", GREASE
 *   removed, MD5 of the string.
 * - JA4 / JA4S (FoxIO, technical_details/JA4.md and JA4S.md): `t<ver><d|i><nn ciphers><nn ext><alpn>`
 *   + truncated SHA-256 of the sorted ciphers + of the sorted extensions (without SNI/ALPN)
 *   and the signature algorithms in order; JA4S = `t<ver><nn ext><alpn>_<cipher>_<hash of ext in order>`.
 */
import * as nodeCrypto from 'node:crypto'

const createHash = nodeCrypto.createHash
import { isGrease, SSLv2, SSLv3, TLSv10, TLSv11, TLSv12, TLSv13 } from './tls-constants.js'
import type { ClientHello, ServerHello } from './tls-hello-parse.js'
import { rememberBounded } from '../../util/bounded-memo.js'

const noGrease = (xs: readonly number[]): number[] => xs.filter((x) => !isGrease(x))
// crypto.hash (Node ≥ 20.12) is the one-shot form, much cheaper than createHash for short inputs.
const oneShot = (nodeCrypto as unknown as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash
const md5Raw = (s: string): string => oneShot ? oneShot('md5', s, 'hex') : createHash('md5').update(s).digest('hex')
const sha12Raw = (s: string): string => (oneShot ? oneShot('sha256', s, 'hex') : createHash('sha256').update(s).digest('hex')).slice(0, 12)

/**
 * Fingerprint inputs repeat across connections (one per client/server software build), so
 * their hashes are remembered: a bounded map per hash, emptied when it reaches `MEMO_MAX`.
 */
const MEMO_MAX = 4096
function memo(f: (s: string) => string): (s: string) => string {
  const m = new Map<string, string>()
  return (s) => m.get(s) ?? rememberBounded(m, s, f(s), MEMO_MAX)
}
const md5 = memo(md5Raw)
const sha12 = memo(sha12Raw)
const hex4 = (v: number): string => v.toString(16).padStart(4, '0')

export interface Fingerprint { hash: string; string: string }

export function ja3(h: ClientHello): Fingerprint {
  const s = [
    String(h.version),
    noGrease(h.ciphers).join('-'),
    noGrease(h.extTypes).join('-'),
    noGrease(h.groups).join('-'),
    h.pointFormats.join('-'),
  ].join(',')
  return { hash: md5(s), string: s }
}

export function ja3s(h: ServerHello): Fingerprint {
  const s = [String(h.version), String(h.cipher), noGrease(h.extTypes).join('-')].join(',')
  return { hash: md5(s), string: s }
}

function ja4Version(v: number): string {
  switch (v) {
    case TLSv13: return '13'
    case TLSv12: return '12'
    case TLSv11: return '11'
    case TLSv10: return '10'
    case SSLv3: return 's3'
    case SSLv2: return 's2'
    case 0xfeff: return 'd1'
    case 0xfefd: return 'd2'
    case 0xfefc: return 'd3'
    default: return '00'
  }
}

const isAlnum = (b: number): boolean => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)

/** First and last character of the first ALPN value, hex digits when either byte is not alphanumeric. */
function ja4Alpn(v: Buffer | undefined): string {
  if (v === undefined || v.length === 0) return '00'
  const first = v[0]!
  const last = v[v.length - 1]!
  if (isAlnum(first) && isAlnum(last)) return String.fromCharCode(first) + String.fromCharCode(last)
  const h = v.toString('hex')
  return h[0]! + h[h.length - 1]!
}

const count2 = (n: number): string => String(Math.min(n, 99)).padStart(2, '0')

export function ja4(h: ClientHello, transport: 't' | 'q' | 'd' = 't'): string {
  const versions = noGrease(h.supportedVersions)
  const version = versions.length > 0 ? Math.max(...versions) : h.version
  const ciphers = noGrease(h.ciphers)
  const exts = noGrease(h.extTypes)
  const sni = exts.includes(0) ? 'd' : 'i'
  const a = `${transport}${ja4Version(version)}${sni}${count2(ciphers.length)}${count2(exts.length)}${ja4Alpn(h.alpnFirst)}`
  const b = ciphers.length === 0 ? '000000000000' : sha12(ciphers.map(hex4).sort().join(','))
  const extList = exts.filter((e) => e !== 0 && e !== 16).map(hex4).sort().join(',')
  const sigs = noGrease(h.signatureAlgorithms).map(hex4).join(',')
  const c = extList.length === 0 ? '000000000000' : sha12(sigs.length > 0 ? `${extList}_${sigs}` : extList)
  return `${a}_${b}_${c}`
}

const ja4Seen = new Map<string, string>()

/**
 * ja4(h) remembered by its inputs: `ja3String` (version, ciphers, extensions, groups, point
 * formats without GREASE) plus the supported versions, the first ALPN value and the signature
 * algorithms determine it. A client build sends the same hello on every connection, so this
 * skips the hex/sort/join work (bounded like the hash memos).
 */
export function ja4Memo(h: ClientHello, ja3String: string, transport: 't' | 'q' | 'd' = 't'): string {
  const alpn = h.alpnFirst === undefined ? '' : h.alpnFirst.toString('latin1')
  const key = `${transport}${ja3String}|${h.supportedVersions.join('-')}|${h.signatureAlgorithms.join('-')}|${alpn.length}:${alpn}`
  return ja4Seen.get(key) ?? rememberBounded(ja4Seen, key, ja4(h, transport), MEMO_MAX)
}

export function ja4s(h: ServerHello, transport: 't' | 'q' | 'd' = 't'): string {
  const version = h.supportedVersions.length > 0 ? h.supportedVersions[0]! : h.version
  const exts = noGrease(h.extTypes)
  const alpn = h.alpn.length > 0 ? ja4Alpn(Buffer.from(h.alpn[0]!, 'latin1')) : '00'
  const a = `${transport}${ja4Version(version)}${count2(exts.length)}${alpn}`
  const c = exts.length === 0 ? '000000000000' : sha12(exts.map(hex4).join(','))
  return `${a}_${hex4(h.cipher)}_${c}`
}

const ja4sSeen = new Map<string, string>()

/**
 * ja4s(h) remembered by its inputs: `ja3sString` (version, cipher, extensions without
 * GREASE) plus the first supported version and the first ALPN value determine it. A server
 * answers the same way on every connection, and ja4s built a Buffer, two hex lists and a
 * joined string per ServerHello (~1.5 % of the analyzers' CPU profile on the bench capture).
 */
export function ja4sMemo(h: ServerHello, ja3sString: string, transport: 't' | 'q' | 'd' = 't'): string {
  const v = h.supportedVersions.length > 0 ? String(h.supportedVersions[0]) : ''
  const alpn = h.alpn.length > 0 ? `${h.alpn[0]!.length}:${h.alpn[0]!}` : '-'
  const key = `${transport}${ja3sString}|${v}|${alpn}`
  return ja4sSeen.get(key) ?? rememberBounded(ja4sSeen, key, ja4s(h, transport), MEMO_MAX)
}
