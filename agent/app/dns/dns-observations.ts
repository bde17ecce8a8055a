/**
 * Host names learned from DNS traffic, for the asset inventory: A/AAAA answers (name → address,
 * source dns_a), PTR answers for in-addr.arpa / ip6.arpa names (address → name, dns_ptr),
 * mDNS answers (source mdns, including the SRV target a responder announces for itself) and
 * NetBIOS name registrations / positive name-query responses (source netbios).
 */
import type { AppConnInfo, HostObservation } from '../app-analyzer.js'
import type { DnsMessage } from './dns-message.js'
import { RR, MDNS_PORT } from './dns-constants.js'
import { decodeNetbiosName } from './netbios-name.js'
import { formatAddrBytes } from '../../output/zeek-value-format.js'

const text = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Address encoded in a reverse-lookup name, or undefined. */
export function reverseNameToAddr(name: string): string | undefined {
  const n = name.toLowerCase()
  if (n.endsWith('.in-addr.arpa')) {
    const parts = n.slice(0, -'.in-addr.arpa'.length).split('.')
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) return undefined
    return parts.reverse().join('.')
  }
  if (n.endsWith('.ip6.arpa')) {
    const nibbles = n.slice(0, -'.ip6.arpa'.length).split('.')
    if (nibbles.length !== 32 || !nibbles.every((x) => /^[0-9a-f]$/.test(x))) return undefined
    const hex = nibbles.reverse().join('')
    return formatAddrBytes(Uint8Array.from(Buffer.from(hex, 'hex')))
  }
  return undefined
}

const NO_OBSERVATIONS: HostObservation[] = Object.freeze([]) as unknown as HostObservation[]

/**
 * Host observations carried by one message seen on `conn` (`fromOrig`: sent by the
 * originator). The result is read-only (queries share one empty list).
 */
export function dnsObservations(msg: DnsMessage, conn: AppConnInfo, fromOrig: boolean, ts: number, netbios: boolean): readonly HostObservation[] {
  const h = msg.header
  if (!netbios && !h.qr) return NO_OBSERVATIONS
  const out: HostObservation[] = []
  const mdns = conn.respP === MDNS_PORT || conn.origP === MDNS_PORT
  const sender = fromOrig ? conn.origH : conn.respH
  if (netbios) {
    // Registration / refresh requests name the sender; positive responses carry NB records.
    if (!h.qr && (h.opcode === 5 || h.opcode === 8 || h.opcode === 9 || h.opcode === 15)) {
      for (const q of msg.questions) {
        const name = decodeNetbiosName(q.name)
        if (name.length > 0) out.push({ ts, ip: sender, name: text(name), nameSource: 'netbios' })
      }
    }
    return out
  }
  if (!h.qr) return out
  // Answers usually share their owner name (several A records): its text is made once.
  let prevName: Uint8Array | undefined
  let prevText = ''
  for (const a of msg.answers) {
    const owner = prevName !== undefined && sameBytes(prevName, a.name) ? prevText : text(a.name)
    prevName = a.name
    prevText = owner
    if ((a.atype === RR.A || a.atype === RR.AAAA) && a.addr !== undefined && owner !== '') {
      out.push({ ts, ip: a.addr, name: owner, nameSource: mdns ? 'mdns' : 'dns_a' })
    } else if (a.atype === RR.PTR && a.target !== undefined && a.target.length > 0) {
      const ip = reverseNameToAddr(owner)
      if (ip !== undefined) out.push({ ts, ip, name: text(a.target), nameSource: mdns ? 'mdns' : 'dns_ptr' })
    } else if (mdns && a.atype === RR.SRV && a.target !== undefined && a.target.length > 0) {
      out.push({ ts, ip: sender, name: text(a.target), nameSource: 'mdns' })
    }
  }
  return out
}
