/**
 * Distinguished names printed as Zeek prints them: OpenSSL's `X509_NAME_print_ex` with
 * `XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB` — attributes in reverse order, "," between RDNs and
 * "+" inside one, short attribute names, RFC 2253 escaping of `,+"\<>;` (and a leading "#" or
 * space, a trailing space), control characters as \XX, other characters as they are (UTF-8),
 * unknown attribute types and non-string values dumped as "#" + hex of their DER.
 */
import { children, content, oidString, readTlv, whole, type Tlv } from './x509-der.js'
import { dnAttributeName } from './x509-oids.js'

const HEX = '0123456789ABCDEF'

function dump(t: Tlv): string {
  let s = '#'
  for (const b of whole(t)) s += HEX[b >> 4]! + HEX[b & 15]!
  return s
}

/** Decodes the value of a DirectoryString-like type to text, or undefined when not a string type. */
function decodeString(t: Tlv): string | undefined {
  const b = content(t)
  switch (t.tag) {
    case 0x0c: return b.toString('utf8') // UTF8String
    case 0x12: case 0x13: case 0x14: case 0x16: case 0x17: case 0x18: case 0x1a:
      return b.toString('latin1') // Numeric, Printable, T61 (as Latin-1, like OpenSSL), IA5, UTC/GeneralizedTime, Visible
    case 0x1e: { // BMPString: UCS-2 big-endian
      let s = ''
      for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode(b.readUInt16BE(i))
      return s
    }
    case 0x1c: { // UniversalString: UCS-4 big-endian
      let s = ''
      for (let i = 0; i + 3 < b.length; i += 4) {
        const cp = b.readUInt32BE(i)
        s += cp <= 0x10ffff ? String.fromCodePoint(cp) : '\ufffd'
      }
      return s
    }
    default: return undefined
  }
}

function escape2253(s: string): string {
  let out = ''
  const chars = [...s]
  chars.forEach((ch, i) => {
    const c = ch.codePointAt(0)!
    if (c < 0x20 || c === 0x7f) {
      out += '\\' + HEX[c >> 4]! + HEX[c & 15]!
    } else if (',+"\\<>;'.includes(ch) || (i === 0 && (ch === '#' || ch === ' ')) || (i === chars.length - 1 && ch === ' ')) {
      out += '\\' + ch
    } else out += ch
  })
  return out
}

/** Formats a DER Name (SEQUENCE OF RDN). Returns '' for an empty name, undefined when malformed. */
export function formatName(name: Tlv): string | undefined {
  if (name.tag !== 0x30) return undefined
  const parts: Array<{ text: string; rdn: number }> = []
  children(name).forEach((rdn, ri) => {
    for (const atv of children(rdn)) {
      const [oidT, valT] = children(atv)
      if (!oidT || !valT || oidT.tag !== 0x06) continue
      const oid = oidString(content(oidT))
      const sn = dnAttributeName(oid)
      const decoded = sn !== undefined ? decodeString(valT) : undefined
      const value = decoded === undefined ? dump(valT) : escape2253(decoded)
      parts.push({ text: `${sn ?? oid}=${value}`, rdn: ri })
    }
  })
  let out = ''
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!
    if (i < parts.length - 1) out += parts[i + 1]!.rdn === p.rdn ? '+' : ','
    out += p.text
  }
  return out
}

/** Values of one attribute (e.g. CN) in a DER Name, in certificate order. */
export function nameAttributeValues(name: Tlv, oid: string): string[] {
  const out: string[] = []
  for (const rdn of children(name)) {
    for (const atv of children(rdn)) {
      const [oidT, valT] = children(atv)
      if (oidT && valT && oidT.tag === 0x06 && oidString(content(oidT)) === oid) {
        const v = decodeString(valT)
        if (v !== undefined) out.push(v)
      }
    }
  }
  return out
}

export { readTlv }
