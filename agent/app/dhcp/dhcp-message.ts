/**
 * BOOTP/DHCP message decoder (RFC 2131/2132), shaped like Zeek's binpac grammar
 * (src/analyzer/protocol/dhcp): fixed header, magic cookie, options until End (255).
 * Only the options Zeek's dhcp.log and our asset inventory use are decoded; the rest are
 * skipped by length. Pure and bounds-checked: returns an error string instead of throwing.
 */
import { formatMacBytes } from './dhcp-mac.js'

export const DHCP_COOKIE = 0x63825363
export const DHCP_FIXED_LEN = 240 // 236-byte BOOTP header + 4-byte cookie

export interface DhcpOptions {
  /** Option codes in order (Zeek's options$options, without End). */
  codes: number[]
  msgType?: number
  hostName?: string
  domainName?: string
  addrRequest?: string
  lease?: number
  serverId?: string
  paramList?: number[]
  message?: string
  vendorClass?: string
  clientId?: { hwtype: number; hwaddr: string }
  clientFqdn?: string
}

export interface DhcpMessage {
  op: number
  htype: number
  hlen: number
  xid: number
  secs: number
  flags: number
  ciaddr: string
  yiaddr: string
  siaddr: string
  giaddr: string
  /** Zeek's fmt_mac over the 16-byte chaddr field ('' when not a MAC). */
  chaddr: string
  /** 0 when there is no message type option. */
  msgType: number
  options: DhcpOptions
  /** Set when options ran past the end without an End option. */
  unterminated: boolean
}

export type DhcpParse = { ok: true; msg: DhcpMessage } | { ok: false; error: string }

const ipv4 = (b: Buffer, off: number): string => `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`

/** Zeek's domain-name handling: cut after the last non-NUL byte (all NUL or one byte → ''). */
function trimNul(b: Buffer): string {
  let last = 0
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) last = i
  return last === 0 ? '' : b.toString('latin1', 0, last + 1)
}

export function parseDhcp(b: Buffer): DhcpParse {
  if (b.length < DHCP_FIXED_LEN) return { ok: false, error: 'truncated DHCP message' }
  const cookie = b.readUInt32BE(236)
  if (cookie !== DHCP_COOKIE) return { ok: false, error: `bad cookie (${cookie | 0})` }
  const options: DhcpOptions = { codes: [] }
  let off = DHCP_FIXED_LEN
  let unterminated = true
  while (off < b.length) {
    const code = b[off++]!
    if (code === 0) { options.codes.push(0); continue }
    if (code === 255) { unterminated = false; break }
    if (off >= b.length) return { ok: false, error: 'truncated DHCP option' }
    const len = b[off++]!
    if (off + len > b.length) return { ok: false, error: 'truncated DHCP option' }
    options.codes.push(code)
    decodeOption(options, code, b.subarray(off, off + len))
    off += len
  }
  return {
    ok: true,
    msg: {
      op: b[0]!,
      htype: b[1]!,
      hlen: b[2]!,
      xid: b.readUInt32BE(4),
      secs: b.readUInt16BE(8),
      flags: b.readUInt16BE(10),
      ciaddr: ipv4(b, 12),
      yiaddr: ipv4(b, 16),
      siaddr: ipv4(b, 20),
      giaddr: ipv4(b, 24),
      chaddr: formatMacBytes(b.subarray(28, 44)),
      msgType: options.msgType ?? 0,
      options,
      unterminated,
    },
  }
}

function decodeOption(o: DhcpOptions, code: number, v: Buffer): void {
  switch (code) {
    case 53: if (v.length >= 1 && o.msgType === undefined) o.msgType = v[0]!; break
    case 12: o.hostName = v.toString('latin1'); break
    case 15: o.domainName = trimNul(v); break
    case 50: if (v.length >= 4) o.addrRequest = ipv4(v, 0); break
    case 51: if (v.length >= 4) o.lease = v.readUInt32BE(0); break
    case 54: if (v.length >= 4) o.serverId = ipv4(v, 0); break
    case 55: o.paramList = [...v]; break
    case 56: o.message = v.toString('latin1'); break
    case 60: o.vendorClass = v.toString('latin1'); break
    case 61: if (v.length >= 1) o.clientId = { hwtype: v[0]!, hwaddr: formatMacBytes(v.subarray(1)) }; break
    case 81: if (v.length >= 3) o.clientFqdn = v.toString('latin1', 3); break
    default: break
  }
}

/** Zeek's DHCP::message_types names. */
const MESSAGE_TYPES = ['', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM',
  'FORCERENEW', 'LEASEQUERY', 'LEASEUNASSIGNED', 'LEASEUNKNOWN', 'LEASEACTIVE', 'BULKLEASEQUERY',
  'LEASEQUERYDONE', 'ACTIVELEASEQUERY', 'LEASEQUERYSTATUS', 'TLS']

export function messageTypeName(t: number): string {
  return t >= 1 && t < MESSAGE_TYPES.length ? MESSAGE_TYPES[t]! : `unknown-message-type-${t}`
}
