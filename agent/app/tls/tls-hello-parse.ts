/**
 * ClientHello / ServerHello bodies (handshake header already removed) and the extensions the
 * ssl.log and the fingerprints need. Pure and bounds-checked: a malformed hello returns
 * `undefined` (the caller counts it); a malformed extension is kept raw and skipped.
 * Buffers in a result (random, session id, first ALPN value) are views into
 * `body`, not copies: the TLS session reads them during the handshake message and keeps none.
 */
import {
  EXT_ALPN, EXT_EC_POINT_FORMATS, EXT_KEY_SHARE, EXT_PRE_SHARED_KEY, EXT_SERVER_NAME, EXT_SESSION_TICKET,
  EXT_SIGNATURE_ALGORITHMS, EXT_SUPPORTED_GROUPS, EXT_SUPPORTED_VERSIONS,
} from './tls-constants.js'

export interface HelloCommon {
  version: number
  random: Buffer
  sessionId: Buffer
  /** Extension types in wire order (JA3/JA4 lists them; no per-extension object or view). */
  extTypes: number[]
  /** A pre_shared_key extension is present. */
  psk: boolean
}

export interface ClientHello extends HelloCommon {
  ciphers: number[]
  compressionMethods: number[]
  serverNames: string[]
  alpn: string[]
  /** Raw first ALPN value (JA4 needs its bytes). */
  alpnFirst: Buffer | undefined
  groups: number[]
  pointFormats: number[]
  signatureAlgorithms: number[]
  supportedVersions: number[]
  keyShareGroups: number[]
  /** A session_ticket extension with data is present. */
  ticketData: boolean
  /** True for an SSLv2-format ClientHello. */
  v2: boolean
}

export interface ServerHello extends HelloCommon {
  cipher: number
  compressionMethod: number
  alpn: string[]
  supportedVersions: number[]
  keyShareGroups: number[]
}

/** A tiny bounds-checked cursor over a buffer. `ok` turns false on any overrun. */
class Cursor {
  ok = true
  constructor(readonly b: Buffer, public p = 0, readonly end = b.length) {}
  left(): number { return this.end - this.p }
  u8(): number { if (this.p + 1 > this.end) { this.ok = false; return 0 } return this.b[this.p++]! }
  u16(): number { if (this.p + 2 > this.end) { this.ok = false; return 0 } const v = this.b.readUInt16BE(this.p); this.p += 2; return v }
  u24(): number { if (this.p + 3 > this.end) { this.ok = false; return 0 } const v = this.b.readUIntBE(this.p, 3); this.p += 3; return v }
  bytes(n: number): Buffer {
    if (n < 0 || this.p + n > this.end) { this.ok = false; this.p = this.end; return Buffer.alloc(0) }
    const v = this.b.subarray(this.p, this.p + n)
    this.p += n
    return v
  }
}

/*
 * Extension bodies are read in place as b[off, end) (hand-written hot path: a view and an
 * object per extension were ~45 MB of garbage on the bench capture's 15k handshakes). Each
 * reader keeps the former semantics of reading a view of exactly that range: a length
 * prefix running past `end` gives an empty list.
 */

/** Big-endian 16-bit value at `p`, or 0 when fewer than 2 bytes are left before `end` (Cursor.u16). */
const be16 = (b: Buffer, p: number, end: number): number => (p + 2 <= end ? (b[p]! << 8) | b[p + 1]! : 0)

function u16List(b: Buffer, off: number, end: number, lenBytes: 1 | 2): number[] {
  const n = lenBytes === 1 ? (off < end ? b[off]! : 0) : be16(b, off, end)
  const p = off + (lenBytes === 1 ? Math.min(1, end - off) : (off + 2 <= end ? 2 : end - off))
  const out: number[] = []
  if (p + n > end) return out
  for (let i = p; i + 1 < p + n; i += 2) out.push((b[i]! << 8) | b[i + 1]!)
  return out
}

function u8List(b: Buffer, off: number, end: number): number[] {
  const out: number[] = []
  if (off >= end) return out
  const n = b[off]!
  if (off + 1 + n > end) return out
  for (let i = off + 1; i < off + 1 + n; i++) out.push(b[i]!)
  return out
}

function serverNames(b: Buffer, off: number, end: number): string[] {
  const out: string[] = []
  const listEnd = Math.min(end, off + 2 + be16(b, off, end))
  let p = off + 2
  while (listEnd - p >= 3) {
    const type = b[p]!
    const n = (b[p + 1]! << 8) | b[p + 2]!
    p += 3
    if (p + n > listEnd) break
    if (type === 0) out.push(b.toString('latin1', p, p + n))
    p += n
  }
  return out
}

/** ALPN values as text; the first one's bytes go to `first` (ClientHello, for JA4). */
function alpnList(b: Buffer, off: number, end: number, h: { alpnFirst: Buffer | undefined } | undefined): string[] {
  const out: string[] = []
  const listEnd = Math.min(end, off + 2 + be16(b, off, end))
  let p = off + 2
  while (listEnd - p >= 1) {
    const n = b[p]!
    p++
    if (p + n > listEnd) break
    if (h !== undefined && out.length === 0) h.alpnFirst = b.subarray(p, p + n)
    out.push(b.toString('latin1', p, p + n))
    p += n
  }
  return out
}

function keyShareGroups(b: Buffer, off: number, end: number, isClient: boolean): number[] {
  // ServerHello: one KeyShareEntry; HelloRetryRequest: just the selected group. Both start with it.
  if (!isClient) return end - off >= 2 ? [be16(b, off, end)] : []
  const listEnd = Math.min(end, off + 2 + be16(b, off, end))
  let p = off + 2
  const out: number[] = []
  while (listEnd - p >= 4) {
    const g = (b[p]! << 8) | b[p + 1]!
    const n = (b[p + 2]! << 8) | b[p + 3]!
    p += 4
    if (p + n > listEnd) break
    p += n
    out.push(g)
  }
  return out
}

/**
 * Walks the extension block at the cursor: every complete extension's type is appended to
 * `h.extTypes` and `each` reads its body in place. A truncated extension ends the walk.
 */
function walkExtensions<H extends HelloCommon>(c: Cursor, h: H, each: (h: H, type: number, b: Buffer, off: number, end: number) => void): void {
  if (c.left() < 2) return
  const total = c.u16()
  const b = c.b
  const end = Math.min(c.end, c.p + total)
  let p = c.p
  while (end - p >= 4) {
    const type = (b[p]! << 8) | b[p + 1]!
    const len = (b[p + 2]! << 8) | b[p + 3]!
    p += 4
    if (p + len > end) break
    h.extTypes.push(type)
    if (type === EXT_PRE_SHARED_KEY) h.psk = true
    each(h, type, b, p, p + len)
    p += len
  }
  c.p = end
}

function clientExtension(h: ClientHello, type: number, b: Buffer, off: number, end: number): void {
  switch (type) {
    case EXT_SERVER_NAME: h.serverNames = serverNames(b, off, end); break
    case EXT_ALPN: h.alpnFirst = undefined; h.alpn = alpnList(b, off, end, h); break
    case EXT_SUPPORTED_GROUPS: h.groups = u16List(b, off, end, 2); break
    case EXT_EC_POINT_FORMATS: h.pointFormats = u8List(b, off, end); break
    case EXT_SIGNATURE_ALGORITHMS: h.signatureAlgorithms = u16List(b, off, end, 2); break
    case EXT_SUPPORTED_VERSIONS: h.supportedVersions = u16List(b, off, end, 1); break
    case EXT_KEY_SHARE: h.keyShareGroups = keyShareGroups(b, off, end, true); break
    case EXT_SESSION_TICKET: if (end > off) h.ticketData = true; break
    default: break
  }
}

function serverExtension(h: ServerHello, type: number, b: Buffer, off: number, end: number): void {
  switch (type) {
    case EXT_ALPN: h.alpn = alpnList(b, off, end, undefined); break
    case EXT_SUPPORTED_VERSIONS: h.supportedVersions = end - off >= 2 ? [be16(b, off, end)] : []; break
    case EXT_KEY_SHARE: h.keyShareGroups = keyShareGroups(b, off, end, false); break
    default: break
  }
}

export function parseClientHello(body: Buffer): ClientHello | undefined {
  const c = new Cursor(body)
  const version = c.u16()
  const random = c.bytes(32)
  const sessionId = c.bytes(c.u8())
  const cipherBytes = c.bytes(c.u16())
  const cm = c.bytes(c.u8())
  if (!c.ok) return undefined
  // A loop, not [...cm]: the spread made an iterator and a result object per byte when unoptimised.
  const compressionMethods: number[] = []
  for (let i = 0; i < cm.length; i++) compressionMethods.push(cm[i]!)
  const ciphers: number[] = []
  for (let i = 0; i + 1 < cipherBytes.length; i += 2) ciphers.push(cipherBytes.readUInt16BE(i))
  const h: ClientHello = {
    version, random, sessionId, extTypes: [], psk: false, ciphers, compressionMethods,
    serverNames: [], alpn: [], alpnFirst: undefined, groups: [], pointFormats: [], signatureAlgorithms: [],
    supportedVersions: [], keyShareGroups: [], ticketData: false, v2: false,
  }
  walkExtensions(c, h, clientExtension)
  return h
}

/** SSLv2 CLIENT-HELLO (record body after the 2-byte header and the message type byte). */
export function parseV2ClientHello(body: Buffer): ClientHello | undefined {
  const c = new Cursor(body)
  const version = c.u16()
  const csLen = c.u16()
  const sidLen = c.u16()
  const chalLen = c.u16()
  const cs = c.bytes(csLen)
  const sessionId = c.bytes(sidLen)
  const challenge = c.bytes(chalLen)
  if (!c.ok) return undefined
  const ciphers: number[] = []
  for (let i = 0; i + 2 < cs.length; i += 3) ciphers.push(cs.readUIntBE(i, 3))
  return {
    version, random: challenge, sessionId, extTypes: [], psk: false, ciphers, ticketData: false,
    compressionMethods: [], serverNames: [], alpn: [], alpnFirst: undefined, groups: [], pointFormats: [],
    signatureAlgorithms: [], supportedVersions: [], keyShareGroups: [], v2: true,
  }
}

export function parseServerHello(body: Buffer): ServerHello | undefined {
  const c = new Cursor(body)
  const version = c.u16()
  // TLS 1.3 draft versions before -22 omit the session id and compression method.
  const draftNoLegacy = (version >> 8) === 0x7f && (version & 0xff) < 22
  const random = c.bytes(32)
  const sessionId = draftNoLegacy ? Buffer.alloc(0) : c.bytes(c.u8())
  const cipher = c.u16()
  const compressionMethod = draftNoLegacy ? 0 : c.u8()
  if (!c.ok) return undefined
  const h: ServerHello = {
    version, random, sessionId, extTypes: [], psk: false, cipher, compressionMethod,
    alpn: [], supportedVersions: [], keyShareGroups: [],
  }
  walkExtensions(c, h, serverExtension)
  return h
}

/**
 * The DER certificates of a TLS ≤ 1.2 Certificate message body (empty entries skipped), as
 * views into `body` (parseCertificate keeps a copy of what it caches; nothing else keeps them).
 */
export function parseCertificateList(body: Buffer, maxCerts: number): { certs: Buffer[]; ok: boolean; dropped: number } {
  const c = new Cursor(body)
  const total = c.u24()
  const list = new Cursor(body, 3, Math.min(body.length, 3 + total))
  const certs: Buffer[] = []
  let dropped = 0
  while (list.left() >= 3) {
    const der = list.bytes(list.u24())
    if (!list.ok) break
    if (der.length === 0) continue
    if (certs.length >= maxCerts) { dropped++; continue }
    certs.push(der)
  }
  return { certs, ok: c.ok && list.ok && total + 3 <= body.length, dropped }
}

/** Named curve of an ECDHE ServerKeyExchange (curve_type 3 = named_curve), if that is what it holds. */
export function parseEcdheServerKeyExchange(body: Buffer): number | undefined {
  if (body.length < 3 || body[0] !== 3) return undefined
  return body.readUInt16BE(1)
}
