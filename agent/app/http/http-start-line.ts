/**
 * HTTP request and status lines, parsed as Zeek's HTTP analyzer does (HTTP_RequestLine,
 * ParseRequest, HTTP_ReplyLine, unescape_URI in src/analyzer/protocol/http/HTTP.cc):
 * liberal about spacing, URI ends where the " HTTP/" version begins, versions are
 * "[0-9].[0-9]", a missing reason phrase is Zeek's "<empty>". Pure; weirds are returned.
 */

export interface HttpVersion { major: number; minor: number }

/** Zeek's unset version (HTTP_VersionNumber{}), printed "0.0". */
export const NO_VERSION: HttpVersion = { major: 0, minor: 0 }

export function versionString(v: HttpVersion): string {
  const { major, minor } = v
  if (major >= 0 && major <= 9 && minor >= 0 && minor <= 9 && Number.isInteger(major) && Number.isInteger(minor)) return VERSION_TEXT[major * 10 + minor]!
  return (major + minor / 10).toFixed(1)
}

/** versionString of every single-digit version (parsed versions always are: no toFixed per reply). */
const VERSION_TEXT: string[] = []
for (let i = 0; i < 100; i++) VERSION_TEXT.push((Math.trunc(i / 10) + (i % 10) / 10).toFixed(1))

export function sameVersion(a: HttpVersion, b: HttpVersion): boolean {
  return a.major === b.major && a.minor === b.minor
}

export interface RequestLine {
  method: Buffer
  /** The URI as sent (up to the version): a view into the line (nothing keeps it). */
  uri: Buffer
  /** Zeek's unescaped_URI, which http.log shows. */
  unescapedUri: Buffer
  version: HttpVersion
  /** No "HTTP/" in the line: HTTP/0.9. */
  http09: boolean
}

export interface ReplyLine {
  version: HttpVersion
  code: number
  /** Reason phrase; undefined when missing (Zeek logs "<empty>"). */
  reason: Buffer | undefined
}

const isWs = (c: number): boolean => c === 0x20 || c === 0x09

function skipWs(b: Buffer, i: number, end: number): number {
  while (i < end && isWs(b[i]!)) i++
  return i
}

// RFC 2616 token characters (is_HTTP_token_char).
const TOKEN = new Uint8Array(256)
for (let c = 33; c < 127; c++) TOKEN[c] = 1
for (const ch of '()<>@,;:\\"/[]?={}') TOKEN[ch.charCodeAt(0)] = 0

// RFC 3986 reserved + unreserved characters and '%' (is_reserved_URI_char / is_unreserved_URI_char).
const URI_CHAR = new Uint8Array(256)
for (const ch of ":/?#[]@!$&'()*+,;=-_.!~*'()%") URI_CHAR[ch.charCodeAt(0)] = 1
for (let c = 0x30; c <= 0x39; c++) URI_CHAR[c] = 1
for (let c = 0x41; c <= 0x5a; c++) { URI_CHAR[c] = 1; URI_CHAR[c + 32] = 1 }

function prefixAt(b: Buffer, i: number, end: number, prefix: string): boolean {
  if (end - i < prefix.length) return false
  for (let k = 0; k < prefix.length; k++) if (b[i + k] !== prefix.charCodeAt(k)) return false
  return true
}

/** Zeek's HTTP_Version: only "[0-9].[0-9]" is recognised. */
export function parseVersion(b: Buffer, i: number, end: number): HttpVersion | undefined {
  if (end - i >= 3 && b[i]! >= 0x30 && b[i]! <= 0x39 && b[i + 1] === 0x2e && b[i + 2]! >= 0x30 && b[i + 2]! <= 0x39) {
    return { major: b[i]! - 0x30, minor: b[i + 2]! - 0x30 }
  }
  return undefined
}

/**
 * Parses a request line. Returns the request, or the weird name when it is not one
 * (`bad_HTTP_request`, `bad_HTTP_request_with_version`). `weirds` collects the others.
 */
export function parseRequestLine(line: Buffer, weirds: string[]): RequestLine | string {
  const end = line.length
  let eom = 0
  while (eom < end && TOKEN[line[eom]!]) eom++
  if (eom === 0) {
    if (end >= 9 && line.subarray(end - 9, end - 3).toString('latin1').toUpperCase() === ' HTTP/') return 'bad_HTTP_request_with_version'
    return 'bad_HTTP_request'
  }
  const rest = skipWs(line, eom, end)
  if (rest === eom) return 'bad_HTTP_request'

  let endOfUri = rest
  while (endOfUri < end && URI_CHAR[line[endOfUri]!]) endOfUri++
  if (endOfUri >= end && prefixAt(line, rest, end, 'HTTP/')) {
    weirds.push('missing_HTTP_uri')
    endOfUri = rest
  }
  let vs = endOfUri
  for (; vs < end; ++vs) {
    endOfUri = vs
    vs = skipWs(line, vs, end)
    if (prefixAt(line, vs, end, 'HTTP/')) break
  }
  let version = NO_VERSION
  let http09 = false
  if (vs >= end) {
    version = { major: 0, minor: 9 }
    http09 = true
  } else if (vs + 8 <= end) {
    const v = parseVersion(line, vs + 5, end)
    if (v) version = v
  }
  const uri = line.subarray(rest, endOfUri)
  if (http09 && (eom < 3 || uri.length === 0)) return 'bad_HTTP_request'
  return { method: Buffer.from(line.subarray(0, eom)), uri, unescapedUri: unescapeUri(uri, weirds), version, http09 }
}

/** Parses a status line; undefined when the line is not one. */
export function parseReplyLine(line: Buffer): ReplyLine | undefined {
  const end = line.length
  if (!prefixAt(line, 0, end, 'HTTP/')) return undefined
  const version = parseVersion(line, 5, end) ?? NO_VERSION
  let i = 5
  while (i < end && !isWs(line[i]!)) i++
  if (i >= end) return undefined
  i = skipWs(line, i, end)
  if (i + 3 > end) return undefined
  const d = (k: number): number => line[i + k]! - 0x30
  const digits = d(0) >= 0 && d(0) <= 9 && d(1) >= 0 && d(1) <= 9 && d(2) >= 0 && d(2) <= 9
  const code = digits ? d(0) * 100 + d(1) * 10 + d(2) : 0
  i += 3
  while (i < end && !isWs(line[i]!)) i++
  if (i >= end) return { version, code, reason: undefined }
  i = skipWs(line, i, end)
  return { version, code, reason: Buffer.from(line.subarray(i)) }
}

const hexVal = (c: number): number => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1)

/** Zeek's unescape_URI: %XX and %uXXXX decoded, odd escapes kept with a weird. */
export function unescapeUri(s: Buffer, weirds: string[]): Buffer {
  // No '%' (the usual URI): the same bytes, one copy (the general path made three buffers).
  if (s.indexOf(0x25) < 0) return Buffer.from(s)
  const out = Buffer.allocUnsafe(s.length)
  let o = 0
  const end = s.length
  let i = 0
  while (i < end) {
    if (s[i] !== 0x25) { out[o++] = s[i]!; i++; continue }
    i++
    if (i === end) { out[o++] = 0x25; weirds.push('illegal_%_at_end_of_URI'); break }
    if (i + 1 === end) { out[o++] = 0x25; out[o++] = s[i]!; weirds.push('partial_escape_at_end_of_URI'); break }
    if (s[i] === 0x25) { weirds.push('double_%_in_URI'); continue } // ignore the first '%'
    const h0 = hexVal(s[i]!)
    const h1 = hexVal(s[i + 1]!)
    if (h0 >= 0 && h1 >= 0) { out[o++] = (h0 << 4) + h1; i += 2; continue }
    if (end - i >= 5 && s[i] === 0x75 && hexVal(s[i + 1]!) >= 0 && hexVal(s[i + 2]!) >= 0 && hexVal(s[i + 3]!) >= 0 && hexVal(s[i + 4]!) >= 0) {
      if (!(s[i + 1] === 0x30 && s[i + 2] === 0x30)) out[o++] = (hexVal(s[i + 1]!) << 4) + hexVal(s[i + 2]!)
      out[o++] = (hexVal(s[i + 3]!) << 4) + hexVal(s[i + 4]!)
      i += 5
      continue
    }
    weirds.push('unescaped_%_in_URI')
    out[o++] = 0x25
    out[o++] = s[i]!
    i++
  }
  return Buffer.from(out.subarray(0, o))
}
