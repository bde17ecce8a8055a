/**
 * MIME-style header fields as Zeek's MIME_Header reads them (src/analyzer/protocol/mime/MIME.cc):
 * continuation lines (leading space/tab) are appended to the field as they are, the name is
 * the run of printable non-':' characters, the value starts after ':' and leading spaces.
 * Also the helpers http.log needs: the first token of a value, Basic credentials and
 * file names from Content-Disposition / Content-Type (base/utils/files.zeek).
 */
import { unescapeUri } from './http-start-line.js'

export interface HttpHeader {
  /** Upper-case name (Zeek's http_header `name` argument). */
  upper: string
  /** A view into the field (which may itself be a view into the packet): copy to keep. */
  value: Buffer
}

const isLws = (c: number): boolean => c === 0x20 || c === 0x09
const isSpace = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d)

/** Skips spaces/tabs and (nested) comments in parentheses. */
function skipLwsComments(b: Buffer, i: number): number {
  while (i < b.length) {
    if (isLws(b[i]!)) { i++; continue }
    if (b[i] !== 0x28) return i
    let par = 0
    for (; i < b.length; i++) {
      const c = b[i]!
      if (c === 0x28) par++
      else if (c === 0x29) { if (--par === 0) { i++; break } } else if (c === 0x5c) i++
    }
  }
  return b.length
}

const isNameChar = (c: number): boolean => c >= 33 && c <= 126 && c !== 0x3a

/**
 * Parses a complete (unfolded) header field; undefined when malformed (no name or no ':').
 * `value` is a view into `field`: pass a buffer the caller owns. (No view of the name as
 * sent: nothing reads it, and a view per header line was garbage.)
 */
export function parseHeader(field: Buffer): HttpHeader | undefined {
  let i = skipLwsComments(field, 0)
  while (i < field.length && !isNameChar(field[i]!)) {
    const j = skipLwsComments(field, i)
    i = j > i ? j : i + 1
  }
  if (i >= field.length) return undefined
  const ns = i
  while (i < field.length && isNameChar(field[i]!)) i++
  const upper = upperName(field, ns, i)
  i = skipLwsComments(field, i)
  if (i >= field.length || field[i] !== 0x3a) return undefined
  i++
  while (i < field.length && isSpace(field[i]!)) i++
  return { upper, value: field.subarray(i) }
}

/** Upper-case names of the common header fields, by length (shared strings, see upperName). */
const KNOWN_NAMES: string[][] = []
for (const n of [
  'HOST', 'USER-AGENT', 'ACCEPT', 'ACCEPT-ENCODING', 'ACCEPT-LANGUAGE', 'ACCEPT-RANGES', 'AGE', 'AUTHORIZATION',
  'CACHE-CONTROL', 'CONNECTION', 'CONTENT-DISPOSITION', 'CONTENT-ENCODING', 'CONTENT-LENGTH', 'CONTENT-RANGE',
  'CONTENT-TYPE', 'COOKIE', 'DATE', 'ETAG', 'EXPIRES', 'KEEP-ALIVE', 'LAST-MODIFIED', 'LOCATION', 'ORIGIN',
  'PRAGMA', 'REFERER', 'SERVER', 'SET-COOKIE', 'TRANSFER-ENCODING', 'UPGRADE', 'VARY', 'VIA', 'X-FORWARDED-FOR',
  'X-POWERED-BY',
]) (KNOWN_NAMES[n.length] ??= []).push(n)

/**
 * The upper-case name: a shared constant for common fields (no two strings per header line;
 * hand-written hot path), else the latin1 text upper-cased. Same result either way.
 */
function upperName(b: Buffer, start: number, end: number): string {
  const len = end - start
  const cands = KNOWN_NAMES[len]
  if (cands !== undefined) {
    for (let c = 0; c < cands.length; c++) {
      const cand = cands[c]!
      let k = 0
      for (; k < len; k++) {
        const x = b[start + k]!
        if ((x >= 0x61 && x <= 0x7a ? x - 32 : x) !== cand.charCodeAt(k)) break
      }
      if (k === len) return cand
    }
  }
  return b.toString('latin1', start, end).toUpperCase()
}

const TSPECIALS = new Set('()<>@,;:\\"/[]?='.split('').map((c) => c.charCodeAt(0)))
const isTokenChar = (c: number): boolean => c >= 33 && c <= 126 && !TSPECIALS.has(c)

/** MIME_get_token on the value: the first token (e.g. "chunked", "gzip", "close"), lower-cased. */
export function firstToken(value: Buffer): string {
  let i = skipLwsComments(value, 0)
  while (i < value.length) {
    if (isTokenChar(value[i]!)) {
      let j = i
      while (j < value.length && isTokenChar(value[j]!)) j++
      return value.toString('latin1', i, j).toLowerCase()
    }
    const j = skipLwsComments(value, i)
    i = j > i ? j : i + 1
  }
  return ''
}

/** The text after the first token (for Content-Range "bytes 0-9/10"). */
export function afterFirstToken(value: Buffer): string {
  const s = value.toString('latin1')
  const t = firstToken(value)
  const at = s.toLowerCase().indexOf(t)
  return at < 0 ? '' : s.slice(at + t.length)
}

/** Type and subtype of a Content-Type value, upper-case ("MULTIPART", "FORM-DATA"), and its boundary. */
export function contentType(value: Buffer): { type: string; subtype: string; boundary: string | undefined } {
  const s = value.toString('latin1')
  const m = /^[ \t]*([^\s/;]+)[ \t]*\/[ \t]*([^\s;]+)/.exec(s)
  const b = /;[ \t]*boundary[ \t]*=[ \t]*(?:"([^"]*)"|([^;\s]+))/i.exec(s)
  return { type: (m?.[1] ?? 'TEXT').toUpperCase(), subtype: (m?.[2] ?? 'PLAIN').toUpperCase(), boundary: b ? (b[1] ?? b[2]) : undefined }
}

export interface BasicAuth { username: Buffer; password: Buffer | undefined; ok: boolean }

/**
 * "Basic <base64>" from an Authorization header, as main.zeek decodes it: "user:pass" split at
 * the first ':'; otherwise username is "<problem-decoding> (<value>)" and password the decoded text.
 */
export function basicAuth(value: Buffer): BasicAuth | undefined {
  const s = value.toString('latin1')
  if (!/^[bB][aA][sS][iI][cC] /.test(s)) return undefined
  const b64 = s.replace(/[bB][aA][sS][iI][cC][ \t]+/, '')
  const decoded = Buffer.from(b64, 'base64')
  const colon = decoded.indexOf(0x3a)
  if (colon < 0) return { username: Buffer.concat([Buffer.from('<problem-decoding> ('), value, Buffer.from(')')]), password: decoded, ok: false }
  return { username: decoded.subarray(0, colon), password: decoded.subarray(colon + 1), ok: true }
}

/** extract_filename_from_content_disposition (base/utils/files.zeek). */
export function filenameFromDisposition(value: Buffer): Buffer {
  let s = value.toString('latin1')
  const m = /^.*[nN][aA][mM][eE][ \t]*\*?=[ \t]*/.exec(s)
  if (m) s = s.slice(m[0].length)
  if (s.startsWith('"')) s = s.slice(1).split('"')[0] ?? ''
  s = s.replace(/^[a-zA-Z0-9!#$%&+\-^_`{}~]+'[a-zA-Z0-9!#$%&+\-^_`{}~]*'/, '')
  return unescapeUri(Buffer.from(s, 'latin1'), [])
}

/** Should this header carry a file name (entities.zeek http_header handler)? */
export function headerFilename(h: HttpHeader): Buffer | undefined {
  // The value's text only for the two fields that can carry a name (was made for every header line).
  if (h.upper === 'CONTENT-DISPOSITION') {
    return /[fF][iI][lL][eE][nN][aA][mM][eE][ \t]*\*?=/.test(h.value.toString('latin1')) ? filenameFromDisposition(h.value) : undefined
  }
  if (h.upper === 'CONTENT-TYPE') {
    return /[nN][aA][mM][eE][ \t]*=/.test(h.value.toString('latin1')) ? filenameFromDisposition(h.value) : undefined
  }
  return undefined
}
