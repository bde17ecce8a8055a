/**
 * One DNS message parsed the way Zeek's DNS_Interpreter::ParseMessage walks it: the 12-byte
 * header, the questions, then the answer section. Zeek's defaults skip the authority and
 * additional sections (dns_skip_all_auth/addl), so they are not parsed here either. Parsing
 * stops at the first question or answer Zeek cannot parse; what was read up to there is kept
 * (Zeek has already raised those events). Pure: no I/O, no throw, anomalies are reported by
 * Zeek's weird names through the `weird` callback.
 */
import { cursorAt, ex16, ex32 } from './dns-cursor.js'
import { extractName } from './dns-name.js'
import { parseRdata, type RdataContext, type RdataResult } from './dns-rdata.js'
import { DNS_MAX_QUERIES } from './dns-constants.js'

export const DNS_HEADER_BYTES = 12

export interface DnsHeader {
  id: number
  qr: boolean
  opcode: number
  aa: boolean
  tc: boolean
  rd: boolean
  ra: boolean
  z: number
  rcode: number
  qdcount: number
  ancount: number
  nscount: number
  arcount: number
}

export interface DnsQuestion {
  /** Lower-cased question name (Zeek's `query`). */
  name: Uint8Array
  qtype: number
  qclass: number
}

export interface DnsAnswer extends RdataResult {
  /** Owner name (Zeek's `ans$query`). */
  name: Uint8Array
  atype: number
  aclass: number
  ttl: number
}

export interface DnsMessage {
  header: DnsHeader
  /** Read-only (an empty one is shared). */
  questions: DnsQuestion[]
  /** Read-only (an empty one is shared). */
  answers: DnsAnswer[]
  /** Questions and answers parsed completely: Zeek confirms the protocol. */
  complete: boolean
  /** More questions than Zeek's dns_max_queries: a protocol violation. */
  violation: boolean
}

export function parseDnsHeader(b: Uint8Array): DnsHeader | undefined {
  if (b.length < DNS_HEADER_BYTES) return undefined
  const flags = (b[2]! << 8) | b[3]!
  return {
    id: (b[0]! << 8) | b[1]!,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags & 0x7800) >> 11,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags & 0x0070) >> 4,
    rcode: flags & 0x000f,
    qdcount: (b[4]! << 8) | b[5]!,
    ancount: (b[6]! << 8) | b[7]!,
    nscount: (b[8]! << 8) | b[9]!,
    arcount: (b[10]! << 8) | b[11]!,
  }
}

/**
 * A message's lists until their first entry (shared, read-only): a query has no answers, and
 * a list made by its first entry holds just it (an empty list grown by push reserved ~17
 * slots; two such lists per message were the largest part of the parser's garbage).
 */
const NO_QUESTIONS: DnsQuestion[] = Object.freeze([]) as unknown as DnsQuestion[]
const NO_ANSWERS: DnsAnswer[] = Object.freeze([]) as unknown as DnsAnswer[]

/**
 * The rdata context of the last message, reused while the flag and callback stay the same
 * (the DNS analyzer passes one shared callback): was an object per message.
 */
let lastCtx: RdataContext = { netbios: false, weird: () => {} }

/**
 * Parses one message. `netbios` = the responder port is 137. Returns undefined for fewer
 * than 12 bytes (Zeek: weird DNS_truncated_len_lt_hdr_len, no events at all).
 */
export function parseDnsMessage(b: Uint8Array, netbios: boolean, weird: (name: string) => void): DnsMessage | undefined {
  const header = parseDnsHeader(b)
  if (!header) {
    weird('DNS_truncated_len_lt_hdr_len')
    return undefined
  }
  const msg: DnsMessage = { header, questions: NO_QUESTIONS, answers: NO_ANSWERS, complete: false, violation: false }
  if (header.qdcount > DNS_MAX_QUERIES) {
    weird('DNS_Conn_count_too_large')
    msg.violation = true
    return msg
  }
  const c = cursorAt(b, DNS_HEADER_BYTES, b.length - DNS_HEADER_BYTES)
  for (let n = header.qdcount; n > 0; n--) {
    // Lower-cased whole (Zeek's `query`): the same bytes as lower-casing the extracted name
    // afterwards, without writing into a name that may be shared (see extractName).
    const name = extractName(c, true, netbios, weird)
    if (c.len < 4) {
      weird('DNS_truncated_quest_too_short')
      return msg
    }
    const qtype = ex16(c)
    const qclass = ex16(c)
    const q: DnsQuestion = { name, qtype, qclass }
    if (msg.questions === NO_QUESTIONS) msg.questions = [q]
    else msg.questions.push(q)
  }
  let ctx = lastCtx
  if (ctx.netbios !== netbios || ctx.weird !== weird) ctx = lastCtx = { netbios, weird }
  for (let n = header.ancount; n > 0; n--) {
    const name = extractName(c, true, netbios, weird)
    if (c.len < 4) {
      weird('DNS_truncated_ans_too_short')
      return msg
    }
    const atype = ex16(c)
    const aclass = ex16(c)
    const ttl = ex32(c)
    const rdlength = ex16(c)
    if (rdlength > c.len) {
      weird('DNS_truncated_RR_rdlength_lt_len')
      return msg
    }
    if (rdlength === 0 && c.len > 0) {
      weird('DNS_zero_rdlength')
      return msg
    }
    const r = parseRdata(c, atype, rdlength, name, ctx)
    const a: DnsAnswer = { ok: r.ok, reply: r.reply, addr: r.addr, target: r.target, name, atype, aclass, ttl }
    if (msg.answers === NO_ANSWERS) msg.answers = [a]
    else msg.answers.push(a)
    if (!r.ok) return msg
  }
  msg.complete = true
  return msg
}
