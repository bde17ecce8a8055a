/**
 * Which addresses are "local" — the local_orig / local_resp columns of conn.log.
 *
 * With no networks configured this is Zeek's default: since Zeek 5, Site::local_nets starts as
 * Site::private_address_space (Site::private_address_space_is_local = T). The list below is
 * that option's value in zeek/zeek scripts/base/utils/site.zeek as of the 9.x series (it
 * gained 224.0.0.0/24, 239.0.0.0/8 and fec0::/10 in zeek/zeek#4164, early 2025; the
 * corpus' conn.log oracles are consistent with it). Configured networks REPLACE the default.
 *
 * Matching is a linear prefix compare on 32-bit words (≈60 prefixes by default, called once
 * per flow). As in Zeek, where IPv4 addresses live as IPv4-mapped IPv6 addresses, a 16-byte
 * ::ffff:a.b.c.d address is matched against the IPv4 prefixes.
 */
import ipaddr from 'ipaddr.js'
import { parseIpv6Text } from '../output/zeek-value-format.js'
import { AgentError, AgentErrorCode } from '../util/errors.js'

/** Zeek's Site::private_address_space (scripts/base/utils/site.zeek), in Zeek's order. */
export const ZEEK_PRIVATE_ADDRESS_SPACE: readonly string[] = Object.freeze([
  '0.0.0.0/8', '2002::/24',
  '10.0.0.0/8', '2002:a00::/24',
  '100.64.0.0/10', '2002:6440::/26',
  '127.0.0.0/8', '2002:7f00::/24',
  '169.254.0.0/16', '2002:a9fe::/32',
  '172.16.0.0/12', '2002:ac10::/28',
  '192.0.0.0/24', '2002:c000::/40',
  '192.0.2.0/24', '2002:c000:200::/40',
  '192.168.0.0/16', '2002:c0a8::/32',
  '198.18.0.0/15', '2002:c612::/31',
  '198.51.100.0/24', '2002:c633:6400::/40',
  '203.0.113.0/24', '2002:cb00:7100::/40',
  '224.0.0.0/24', '2002:e000::/40',
  '239.0.0.0/8', '2002:ef00::/24',
  '240.0.0.0/4', '2002:f000::/20',
  '255.255.255.255/32', '2002:ffff:ffff::/48',
  '::/128',
  '::1/128',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:2::/48',
  '2001:db8::/32',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
])

function maskWord(bits: number): number {
  if (bits <= 0) return 0
  if (bits >= 32) return 0xffffffff
  return (0xffffffff << (32 - bits)) >>> 0
}

function word(b: ArrayLike<number>, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0
}

function invalid(cidr: string, why: string): AgentError {
  return new AgentError(AgentErrorCode.CONFIG_INVALID, `local network "${cidr}" is not a valid CIDR (${why}); use e.g. 10.0.0.0/8 or fd00::/8`)
}

/** Parses "a.b.c.d/n", "v6::/n" or a bare address (a host prefix); throws CONFIG_INVALID. */
function parsePrefix(cidr: string): { v4: boolean; bytes: number[]; bits: number } {
  if (typeof cidr !== 'string') throw invalid(String(cidr), 'not a string')
  const s = cidr.trim()
  const slash = s.indexOf('/')
  const addrPart = slash < 0 ? s : s.slice(0, slash)
  const lenPart = slash < 0 ? undefined : s.slice(slash + 1)
  let v4: boolean
  // The plain spellings are read by hand: ipaddr.js's IPv6 parser costs ~15 ms of start-up on
  // first use (every replay builds the default local networks); anything else goes to it.
  let bytes = plainV4(addrPart)
  if (bytes !== undefined) v4 = true
  else if (addrPart.includes(':') && parseIpv6Text(addrPart, v6Scratch)) { v4 = false; bytes = [...v6Scratch] }
  else if (ipaddr.IPv4.isValidFourPartDecimal(addrPart)) v4 = true
  else if (ipaddr.IPv6.isValid(addrPart) && addrPart.includes(':')) v4 = false
  else throw invalid(cidr, 'bad address')
  const max = v4 ? 32 : 128
  let bits = max
  if (lenPart !== undefined) {
    if (!/^\d{1,3}$/.test(lenPart)) throw invalid(cidr, 'bad prefix length')
    bits = Number(lenPart)
    if (bits > max) throw invalid(cidr, `prefix length above ${max}`)
  }
  return { v4, bytes: bytes ?? ipaddr.parse(addrPart).toByteArray(), bits }
}

const v6Scratch = new Uint8Array(16)

/** "a.b.c.d" with each part 0–255 in plain decimal (no leading zeros), else undefined. */
function plainV4(s: string): number[] | undefined {
  const parts = s.split('.')
  if (parts.length !== 4) return undefined
  const out: number[] = []
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return undefined
    const v = Number(p)
    if (v > 255) return undefined
    out.push(v)
  }
  return out
}

export class LocalNets {
  private readonly net4: Uint32Array
  private readonly mask4: Uint32Array
  /** 4 words per IPv6 prefix. */
  private readonly net6: Uint32Array
  private readonly mask6: Uint32Array
  /** The prefixes in use, normalised, for logs and config dumps. */
  readonly cidrs: readonly string[]

  /** cidrs: user's configured local networks; when empty/undefined, Zeek's default (Site::private_address_space). */
  constructor(cidrs?: readonly string[]) {
    const list = cidrs !== undefined && cidrs.length > 0 ? cidrs : ZEEK_PRIVATE_ADDRESS_SPACE
    const v4: { net: number; mask: number }[] = []
    const v6: { net: number[]; mask: number[] }[] = []
    for (const c of list) {
      const p = parsePrefix(c)
      if (p.v4) {
        const mask = maskWord(p.bits)
        v4.push({ net: (word(p.bytes, 0) & mask) >>> 0, mask })
      } else {
        const net: number[] = []
        const mask: number[] = []
        for (let w = 0; w < 4; w++) {
          const m = maskWord(p.bits - 32 * w)
          mask.push(m)
          net.push((word(p.bytes, 4 * w) & m) >>> 0)
        }
        v6.push({ net, mask })
      }
    }
    this.net4 = Uint32Array.from(v4.map((p) => p.net))
    this.mask4 = Uint32Array.from(v4.map((p) => p.mask))
    this.net6 = Uint32Array.from(v6.flatMap((p) => p.net))
    this.mask6 = Uint32Array.from(v6.flatMap((p) => p.mask))
    this.cidrs = Object.freeze(list.map((c) => c.trim()))
  }

  /** The prefixes as (net, mask) words: IPv4 one word each, IPv6 four (the WebAssembly flow core copies them). */
  prefixTables(): { net4: Uint32Array; mask4: Uint32Array; net6: Uint32Array; mask6: Uint32Array } {
    return { net4: this.net4, mask4: this.mask4, net6: this.net6, mask6: this.mask6 }
  }

  static zeekDefault(): LocalNets {
    return new LocalNets()
  }

  /** addr: 4 or 16 raw bytes (views OK). Any other length is not local. */
  isLocal(addr: Uint8Array): boolean {
    return this.isLocalAt(addr, 0, addr.length)
  }

  /** isLocal for the `len` address bytes at buf[off] (no view per call: the flow table asks twice per new flow). */
  isLocalAt(addr: Uint8Array, off: number, len: number): boolean {
    if (len === 4) return this.isLocal4(word(addr, off))
    if (len !== 16) return false
    if (isV4Mapped(addr, off)) return this.isLocal4(word(addr, off + 12))
    const w0 = word(addr, off)
    const w1 = word(addr, off + 4)
    const w2 = word(addr, off + 8)
    const w3 = word(addr, off + 12)
    const net = this.net6
    const mask = this.mask6
    for (let i = 0; i < net.length; i += 4) {
      if (((w0 & mask[i]!) >>> 0) === net[i] && ((w1 & mask[i + 1]!) >>> 0) === net[i + 1] &&
          ((w2 & mask[i + 2]!) >>> 0) === net[i + 2] && ((w3 & mask[i + 3]!) >>> 0) === net[i + 3]) return true
    }
    return false
  }

  private isLocal4(a: number): boolean {
    const net = this.net4
    const mask = this.mask4
    for (let i = 0; i < net.length; i++) {
      if (((a & mask[i]!) >>> 0) === net[i]) return true
    }
    return false
  }
}

function isV4Mapped(a: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (a[off + i] !== 0) return false
  return a[off + 10] === 0xff && a[off + 11] === 0xff
}
