/**
 * ClientHello / ServerHello bodies (handshake header already removed) and the extensions the
 * ssl.log and the fingerprints need. Pure and bounds-checked: a malformed hello returns
 * `undefined` (the caller counts it); a malformed extension is kept raw and skipped.
 * Buffers in a result (random, session id, extension data, first ALPN value) are views into
 * `body`, not copies: the TLS session reads them during the handshake message and keeps none.
 */
import {
  EXT_ALPN, EXT_EC_POINT_FORMATS, EXT_KEY_SHARE, EXT_SERVER_NAME, EXT_SIGNATURE_ALGORITHMS,
  EXT_SUPPORTED_GROUPS, EXT_SUPPORTED_VERSIONS,
} from './tls-constants.js'

export interface TlsExtension {
  type: number
  data: Buffer
}

export interface HelloCommon {
  version: number
  random: Buffer
  sessionId: Buffer
  extensions: TlsExtension[]
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

function u16List(d: Buffer, lenBytes: 1 | 2): number[] {
  const c = new Cursor(d)
  const n = lenBytes === 1 ? c.u8() : c.u16()
  const body = c.bytes(n)
  const out: number[] = []
  for (let i = 0; i + 1 < body.length; i += 2) out.push(body.readUInt16BE(i))
  return out
}

function u8List(d: Buffer): number[] {
  const c = new Cursor(d)
  return [...c.bytes(c.u8())]
}

function parseExtensions(c: Cursor): TlsExtension[] {
  const out: TlsExtension[] = []
  if (c.left() < 2) return out
  const total = c.u16()
  const end = Math.min(c.end, c.p + total)
  const e = new Cursor(c.b, c.p, end)
  while (e.left() >= 4) {
    const type = e.u16()
    const len = e.u16()
    const data = e.bytes(len)
    if (!e.ok) break
    out.push({ type, data })
  }
  c.p = end
  return out
}

function serverNames(d: Buffer): string[] {
  const c = new Cursor(d)
  const list = new Cursor(d, 2, Math.min(d.length, 2 + c.u16()))
  const out: string[] = []
  while (list.left() >= 3) {
    const type = list.u8()
    const name = list.bytes(list.u16())
    if (!list.ok) break
    if (type === 0) out.push(name.toString('latin1'))
  }
  return out
}

function alpnList(d: Buffer): Buffer[] {
  const c = new Cursor(d)
  const list = new Cursor(d, 2, Math.min(d.length, 2 + c.u16()))
  const out: Buffer[] = []
  while (list.left() >= 1) {
    const v = list.bytes(list.u8())
    if (!list.ok) break
    out.push(v)
  }
  return out
}

function keyShareGroups(d: Buffer, isClient: boolean): number[] {
  // ServerHello: one KeyShareEntry; HelloRetryRequest: just the selected group. Both start with it.
  if (!isClient) return d.length >= 2 ? [d.readUInt16BE(0)] : []
  const c = new Cursor(d)
  const list = new Cursor(d, 2, Math.min(d.length, 2 + c.u16()))
  const out: number[] = []
  while (list.left() >= 4) {
    const g = list.u16()
    list.bytes(list.u16())
    if (!list.ok) break
    out.push(g)
  }
  return out
}

export function parseClientHello(body: Buffer): ClientHello | undefined {
  const c = new Cursor(body)
  const version = c.u16()
  const random = c.bytes(32)
  const sessionId = c.bytes(c.u8())
  const cipherBytes = c.bytes(c.u16())
  const compressionMethods = [...c.bytes(c.u8())]
  if (!c.ok) return undefined
  const ciphers: number[] = []
  for (let i = 0; i + 1 < cipherBytes.length; i += 2) ciphers.push(cipherBytes.readUInt16BE(i))
  const extensions = parseExtensions(c)
  const h: ClientHello = {
    version, random, sessionId, extensions, ciphers, compressionMethods,
    serverNames: [], alpn: [], alpnFirst: undefined, groups: [], pointFormats: [], signatureAlgorithms: [],
    supportedVersions: [], keyShareGroups: [], v2: false,
  }
  for (const e of extensions) {
    switch (e.type) {
      case EXT_SERVER_NAME: h.serverNames = serverNames(e.data); break
      case EXT_ALPN: { const l = alpnList(e.data); h.alpn = l.map((x) => x.toString('latin1')); h.alpnFirst = l[0]; break }
      case EXT_SUPPORTED_GROUPS: h.groups = u16List(e.data, 2); break
      case EXT_EC_POINT_FORMATS: h.pointFormats = u8List(e.data); break
      case EXT_SIGNATURE_ALGORITHMS: h.signatureAlgorithms = u16List(e.data, 2); break
      case EXT_SUPPORTED_VERSIONS: h.supportedVersions = u16List(e.data, 1); break
      case EXT_KEY_SHARE: h.keyShareGroups = keyShareGroups(e.data, true); break
      default: break
    }
  }
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
    version, random: challenge, sessionId, extensions: [], ciphers,
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
  const extensions = parseExtensions(c)
  const h: ServerHello = {
    version, random, sessionId, extensions, cipher, compressionMethod,
    alpn: [], supportedVersions: [], keyShareGroups: [],
  }
  for (const e of extensions) {
    switch (e.type) {
      case EXT_ALPN: h.alpn = alpnList(e.data).map((x) => x.toString('latin1')); break
      case EXT_SUPPORTED_VERSIONS: h.supportedVersions = e.data.length >= 2 ? [e.data.readUInt16BE(0)] : []; break
      case EXT_KEY_SHARE: h.keyShareGroups = keyShareGroups(e.data, false); break
      default: break
    }
  }
  return h
}

/** The DER certificates of a TLS ≤ 1.2 Certificate message body (empty entries skipped). */
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
    certs.push(Buffer.from(der))
  }
  return { certs, ok: c.ok && list.ok && total + 3 <= body.length, dropped }
}

/** Named curve of an ECDHE ServerKeyExchange (curve_type 3 = named_curve), if that is what it holds. */
export function parseEcdheServerKeyExchange(body: Buffer): number | undefined {
  if (body.length < 3 || body[0] !== 3) return undefined
  return body.readUInt16BE(1)
}
