/**
 * X.509 certificate → the fields of Zeek's x509.log (X509::Certificate, SAN and basic
 * constraints), parsed from DER by hand: version, serial (OpenSSL's hex without sign padding),
 * subject/issuer (x509-name.ts), validity as epoch seconds, key and signature algorithm long
 * names, key type/length, RSA exponent, EC curve, SAN dns/uri/email/ip, basic constraints.
 * Never throws; a certificate whose outer structure does not parse returns undefined.
 */
import { createHash } from 'node:crypto'
import { bitLength, children, content, oidString, parseDerTime, readTlv, type Tlv } from './x509-der.js'
import { formatName, nameAttributeValues } from './x509-name.js'
import { algorithmName, namedCurve } from './x509-oids.js'

export interface X509Info {
  fingerprint: string
  sha1: string
  version: number
  serial: string
  subject: string
  issuer: string
  notValidBefore: number | undefined
  notValidAfter: number | undefined
  keyAlg: string
  sigAlg: string
  keyType: string | undefined
  keyLength: number | undefined
  exponent: string | undefined
  curve: string | undefined
  sanDns: string[] | undefined
  sanUri: string[] | undefined
  sanEmail: string[] | undefined
  sanIp: string[] | undefined
  bcCa: boolean | undefined
  bcPathLen: number | undefined
  /** Subject CNs (for host name matching). */
  commonNames: string[]
}

const HEX = '0123456789ABCDEF'

/** OpenSSL's i2a_ASN1_INTEGER: uppercase hex of the magnitude, "-" for negatives, "00" for zero. */
export function formatSerial(b: Buffer): string {
  if (b.length === 0) return '00'
  let mag = b
  let neg = false
  if (b[0]! & 0x80) {
    neg = true
    let v = 0n
    for (const x of b) v = (v << 8n) | BigInt(x)
    v = (1n << BigInt(b.length * 8)) - v
    let h = v.toString(16).toUpperCase()
    if (h.length % 2) h = '0' + h
    mag = Buffer.from(h, 'hex')
  }
  let i = 0
  while (i < mag.length - 1 && mag[i] === 0) i++
  let s = ''
  for (let j = i; j < mag.length; j++) s += HEX[mag[j]! >> 4]! + HEX[mag[j]! & 15]!
  return (neg ? '-' : '') + (s === '' ? '00' : s)
}

function unsignedDecimal(b: Buffer): string {
  let v = 0n
  for (const x of b) v = (v << 8n) | BigInt(x)
  return v.toString()
}

function formatIp(b: Buffer): string | undefined {
  if (b.length === 4) return [...b].join('.')
  if (b.length !== 16) return undefined
  const words: string[] = []
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i).toString(16))
  // RFC 5952 compression of the longest run of zero words (length ≥ 2).
  let best = -1
  let bestLen = 0
  for (let i = 0; i < 8;) {
    if (words[i] !== '0') { i++; continue }
    let j = i
    while (j < 8 && words[j] === '0') j++
    if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i }
    i = j
  }
  if (best < 0) return words.join(':')
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`
}

function parseKey(spki: Tlv, info: X509Info): void {
  const [alg, key] = children(spki)
  if (!alg || !key) return
  const [oidT, params] = children(alg)
  if (!oidT || oidT.tag !== 0x06) return
  let oid = oidString(content(oidT))
  // Zeek treats md5WithRSAEncryption as key algorithm (seen in RDP certificates) as rsaEncryption.
  if (oid === '1.2.840.113549.1.1.4') oid = '1.2.840.113549.1.1.1'
  info.keyAlg = algorithmName(oid)
  if (key.tag !== 0x03 || key.end - key.off < 1) return
  const bits = key.buf.subarray(key.off + 1, key.end)
  if (oid === '1.2.840.113549.1.1.1' || oid === '1.2.840.113549.1.1.10') {
    const seq = readTlv(bits, 0)
    const [n, e] = seq && seq.tag === 0x30 ? children(seq) : []
    info.keyType = 'rsa'
    if (n && n.tag === 0x02) info.keyLength = bitLength(content(n)) || undefined
    if (e && e.tag === 0x02) info.exponent = unsignedDecimal(content(e))
  } else if (oid === '1.2.840.10040.4.1') {
    info.keyType = 'dsa'
    const [p] = params && params.tag === 0x30 ? children(params) : []
    if (p && p.tag === 0x02) info.keyLength = bitLength(content(p)) || undefined
  } else if (oid === '1.2.840.10045.2.1') {
    info.keyType = 'ecdsa'
    if (params && params.tag === 0x06) {
      const c = namedCurve(oidString(content(params)))
      if (c) { info.curve = c.name; info.keyLength = c.bits }
    }
  }
}

function parseSan(ext: Buffer, info: X509Info): void {
  const seq = readTlv(ext, 0)
  if (!seq || seq.tag !== 0x30) return
  for (const gn of children(seq)) {
    const v = content(gn)
    switch (gn.tag) {
      case 0x82: (info.sanDns ??= []).push(v.toString('latin1')); break
      case 0x86: (info.sanUri ??= []).push(v.toString('latin1')); break
      case 0x81: (info.sanEmail ??= []).push(v.toString('latin1')); break
      case 0x87: { const ip = formatIp(v); if (ip !== undefined) (info.sanIp ??= []).push(ip); break }
      default: break
    }
  }
}

function parseBasicConstraints(ext: Buffer, info: X509Info): void {
  const seq = readTlv(ext, 0)
  if (!seq || seq.tag !== 0x30) return
  info.bcCa = false
  for (const c of children(seq)) {
    if (c.tag === 0x01) info.bcCa = c.end > c.off && c.buf[c.off] !== 0
    else if (c.tag === 0x02) {
      const b = content(c)
      if (b.length > 0 && b.length <= 6 && !(b[0]! & 0x80)) info.bcPathLen = b.readUIntBE(0, b.length)
    }
  }
}

function parseExtensions(exts: Tlv, info: X509Info): void {
  const [seq] = children(exts)
  if (!seq || seq.tag !== 0x30) return
  for (const ext of children(seq)) {
    const parts = children(ext)
    const oidT = parts[0]
    const value = parts[parts.length - 1]
    if (!oidT || !value || oidT.tag !== 0x06 || value.tag !== 0x04) continue
    const oid = oidString(content(oidT))
    if (oid === '2.5.29.17') parseSan(content(value), info)
    else if (oid === '2.5.29.19') parseBasicConstraints(content(value), info)
  }
}

/**
 * Parsed certificates by DER bytes: servers present the same chain on every connection, so
 * each certificate is parsed (and hashed) once. Bounded; the oldest entry is dropped first.
 * The map key is the length and the last 24 bytes (the end of the signature: as good as
 * random) and a hit is confirmed by comparing the whole DER with the entry's own copy. The
 * key was the whole DER as a latin1 string: a string the size of the certificate, made and
 * hashed per certificate of every TLS connection (with the copy the list made of each DER:
 * ~1 KB of garbage per TLS connection of the bench capture, whose certificate is 454 bytes).
 */
const CACHE_MAX = 2048
const KEY_TAIL = 24
const cache = new Map<string, { der: Buffer; info: X509Info | undefined }>()

/** `der` may be a view: nothing of it is kept (the cache holds its own copy). */
export function parseCertificate(der: Buffer): X509Info | undefined {
  const key = `${der.length}:${der.toString('latin1', Math.max(0, der.length - KEY_TAIL))}`
  const hit = cache.get(key)
  if (hit !== undefined && hit.der.equals(der)) return hit.info
  const info = parseCertificateUncached(der)
  if (hit !== undefined) cache.delete(key) // same key, other bytes: the newer one is kept
  else if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string)
  cache.set(key, { der: Buffer.from(der), info })
  return info
}

function parseCertificateUncached(der: Buffer): X509Info | undefined {
  const cert = readTlv(der, 0)
  if (!cert || cert.tag !== 0x30) return undefined
  const [tbs, sigAlg] = children(cert)
  if (!tbs || tbs.tag !== 0x30 || !sigAlg || sigAlg.tag !== 0x30) return undefined
  const f = children(tbs)
  let i = 0
  let version = 1
  if (f[0] && f[0].tag === 0xa0) {
    const [v] = children(f[0])
    if (v && v.tag === 0x02 && v.end - v.off <= 4 && v.end > v.off) version = content(v).readUIntBE(0, v.end - v.off) + 1
    i = 1
  }
  const serialT = f[i]
  const issuerT = f[i + 2]
  const validityT = f[i + 3]
  const subjectT = f[i + 4]
  const spkiT = f[i + 5]
  if (!serialT || serialT.tag !== 0x02 || !issuerT || !validityT || !subjectT || !spkiT) return undefined
  const [sigOid] = children(sigAlg)
  const [nb, na] = children(validityT)
  const info: X509Info = {
    fingerprint: createHash('sha256').update(der).digest('hex'),
    sha1: createHash('sha1').update(der).digest('hex'),
    version,
    serial: formatSerial(content(serialT)),
    subject: formatName(subjectT) ?? '',
    issuer: formatName(issuerT) ?? '',
    notValidBefore: nb ? parseDerTime(nb.tag, content(nb)) : undefined,
    notValidAfter: na ? parseDerTime(na.tag, content(na)) : undefined,
    keyAlg: '',
    sigAlg: sigOid && sigOid.tag === 0x06 ? algorithmName(oidString(content(sigOid))) : '',
    keyType: undefined, keyLength: undefined, exponent: undefined, curve: undefined,
    sanDns: undefined, sanUri: undefined, sanEmail: undefined, sanIp: undefined,
    bcCa: undefined, bcPathLen: undefined,
    commonNames: subjectT.tag === 0x30 ? nameAttributeValues(subjectT, '2.5.4.3') : [],
  }
  parseKey(spkiT, info)
  for (let j = i + 6; j < f.length; j++) if (f[j]!.tag === 0xa3) parseExtensions(f[j]!, info)
  return info
}
