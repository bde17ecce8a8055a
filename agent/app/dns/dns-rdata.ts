/**
 * Resource-record data as Zeek's DNS_Interpreter::ParseRR_* read it, and the text Zeek's
 * base/protocols/dns/main.zeek puts into the `answers` column for it (its `do_reply` calls).
 * Each parser moves the cursor exactly as Zeek's does (including where Zeek does not consume
 * the whole rdata), and reports `ok=false` where Zeek's returns false (the rest of the
 * message is then not parsed). `reply` is absent where Zeek logs nothing for the record:
 * types without a handler in the base scripts (HINFO, CAA, SVCB, HTTPS, NB, EDNS, TSIG) and
 * WKS (whose handler logs an empty reply).
 */
import { ex16, ex32, exBytes, skip, type DnsCursor } from './dns-cursor.js'
import { extractName } from './dns-name.js'
import { RR } from './dns-constants.js'
import { formatAddrBytes, ipv4Text } from '../../output/zeek-value-format.js'

export interface RdataResult {
  ok: boolean
  /** The answers-column text (bytes: TXT strings may hold anything; an address is already text). */
  reply?: Uint8Array | string
  /** A/AAAA/A6 address as Zeek prints it. */
  addr?: string
  /** PTR/CNAME/NS/MX/SRV target name. */
  target?: Uint8Array
}

export interface RdataContext {
  /** Responder port is 137 (NetBIOS name service: long labels allowed, SRV means NBSTAT). */
  netbios: boolean
  weird: (name: string) => void
}

const enc = (s: string): Uint8Array => Buffer.from(s, 'latin1')
const cat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts)
const OK_SILENT: RdataResult = { ok: true }
const v6Scratch = new Uint8Array(16)
const FAIL: RdataResult = { ok: false }

// Module functions rather than closures made per record (hand-written hot path).
const nameOf = (c: DnsCursor, ctx: RdataContext, down = true): Uint8Array => extractName(c, down, ctx.netbios, ctx.weird)
const checkLength = (c: DnsCursor, start: number, rdlength: number, weird: (name: string) => void): void => {
  if (c.pos - start !== rdlength) weird('DNS_RR_length_mismatch')
}

export function parseRdata(c: DnsCursor, atype: number, rdlength: number, owner: Uint8Array, ctx: RdataContext): RdataResult {
  const { netbios, weird } = ctx
  const start = c.pos
  switch (atype) {
    case RR.A: {
      if (rdlength !== 4) {
        weird('DNS_RR_bad_length')
        return FAIL
      }
      // The four bytes read in place (exBytes made a view per A record just to print it).
      const buf = c.buf
      const p = c.pos
      const k = Math.max(0, Math.min(c.len, 4))
      c.pos += k
      c.len -= k
      const addr = k === 4 ? ipv4Text(buf, p) : '0.0.0.0'
      return { ok: true, reply: addr, addr }
    }
    case RR.AAAA:
    case RR.A6: {
      // Four ExtractLong calls regardless of rdlength; a short read yields zero words.
      // Shared scratch: formatAddrBytes only reads it (was a new array per record).
      const b = v6Scratch
      for (let i = 0; i < 4; i++) {
        const w = ex32(c)
        b[i * 4] = w >>> 24
        b[i * 4 + 1] = (w >>> 16) & 0xff
        b[i * 4 + 2] = (w >>> 8) & 0xff
        b[i * 4 + 3] = w & 0xff
      }
      const addr = formatAddrBytes(b)
      return { ok: true, reply: addr, addr }
    }
    case RR.NS:
    case RR.CNAME:
    case RR.PTR: {
      const t = nameOf(c, ctx)
      checkLength(c, start, rdlength, weird)
      return { ok: true, reply: t, target: t }
    }
    case RR.SOA: {
      const mname = nameOf(c, ctx)
      nameOf(c, ctx)
      if (c.len < 20) return FAIL
      for (let i = 0; i < 5; i++) ex32(c)
      checkLength(c, start, rdlength, weird)
      return { ok: true, reply: mname }
    }
    case RR.WKS:
      // Zeek raises dns_WKS_reply without consuming the rdata, and the script logs "".
      return OK_SILENT
    case RR.HINFO:
    case RR.CAA:
    case RR.NBS:
      // No handler in the base scripts (NB: Zeek never parses it): rdata skipped.
      skip(c, rdlength)
      return OK_SILENT
    case RR.MX: {
      ex16(c)
      const t = nameOf(c, ctx)
      checkLength(c, start, rdlength, weird)
      return { ok: true, reply: t, target: t }
    }
    case RR.TXT:
    case RR.SPF:
      return parseStrings(c, rdlength, atype === RR.TXT ? 'TXT' : 'SPF', weird)
    case RR.SRV: {
      if (netbios) {
        // NBSTAT (node status) reuses type 33 on port 137; Zeek does not parse it.
        skip(c, rdlength)
        return OK_SILENT
      }
      ex16(c)
      ex16(c)
      ex16(c)
      const t = nameOf(c, ctx)
      checkLength(c, start, rdlength, weird)
      return { ok: true, reply: t, target: t }
    }
    case RR.NAPTR:
      return parseNaptr(c, rdlength, netbios, weird)
    case RR.EDNS:
      return parseEdns(c, weird)
    case RR.TSIG: {
      nameOf(c, ctx)
      ex32(c)
      ex16(c)
      ex16(c)
      exBytes(c, Math.min(c.len, ex16(c)))
      ex16(c)
      ex16(c)
      exBytes(c, Math.min(c.len, ex16(c)))
      return OK_SILENT
    }
    case RR.RRSIG: {
      if (c.len < 18) return FAIL
      const covered = ex16(c)
      ex16(c)
      ex32(c)
      ex32(c)
      ex32(c)
      ex16(c)
      const nameStart = c.pos
      const signer = nameOf(c, ctx)
      exBytes(c, rdlength - ((c.pos - nameStart) + 18))
      return { ok: true, reply: cat(enc(`RRSIG ${covered} `), signer.length === 0 ? enc('<Root>') : signer) }
    }
    case RR.DNSKEY: {
      if (c.len < 4) return FAIL
      ex16(c)
      const algo = ex16(c) & 0xff
      exBytes(c, rdlength - 4)
      return { ok: true, reply: enc(`DNSKEY ${algo}`) }
    }
    case RR.NSEC: {
      const next = nameOf(c, ctx)
      let bitmaps = rdlength - (c.pos - start)
      while (bitmaps > 0 && c.len > 0) {
        const bm = ex16(c) & 0xff
        if (bm === 0) {
          weird('DNSSEC_NSEC_bitmapLen0')
          break
        }
        exBytes(c, bm)
        bitmaps -= 2 + bm
      }
      return { ok: true, reply: cat(enc('NSEC '), owner, enc(' '), next) }
    }
    case RR.NSEC3: {
      if (c.len < 6) return FAIL
      ex16(c)
      ex16(c)
      skipCounted(c)
      skipCounted(c)
      let bitmaps = rdlength - (c.pos - start)
      while (bitmaps > 0 && c.len > 0) {
        const bm = ex16(c) & 0xff
        if (bm === 0) {
          weird('DNSSEC_NSEC3_bitmapLen0')
          break
        }
        exBytes(c, bm)
        bitmaps -= 2 + bm
      }
      return { ok: true, reply: enc('NSEC3') }
    }
    case RR.NSEC3PARAM: {
      if (c.len < 5) return FAIL
      ex16(c)
      ex16(c)
      skipCounted(c)
      return { ok: true, reply: enc('NSEC3PARAM') }
    }
    case RR.DS: {
      if (c.len < 4) return FAIL
      ex16(c)
      const ad = ex16(c)
      exBytes(c, rdlength - 4)
      return { ok: true, reply: enc(`DS ${(ad >> 8) & 0xff} ${ad & 0xff}`) }
    }
    case RR.BINDS: {
      if (c.len < 5) return FAIL
      ex32(c)
      exBytes(c, rdlength - 4)
      return { ok: true, reply: enc('BIND9 signing signal') }
    }
    case RR.SSHFP: {
      if (c.len < 2) return FAIL
      ex16(c)
      const fp = exBytes(c, rdlength - 2)
      return { ok: true, reply: enc(`SSHFP: ${Buffer.from(fp).toString('hex')}`) }
    }
    case RR.LOC: {
      if (c.len < 15) return FAIL
      const vs = ex16(c)
      const hv = ex16(c)
      ex32(c)
      ex32(c)
      ex32(c)
      if ((vs >> 8) & 0xff) weird('DNS_LOC_version_unrecognized')
      return { ok: true, reply: enc(`LOC:  ${vs & 0xff} ${(hv >> 8) & 0xff} ${hv & 0xff}`) }
    }
    case RR.SVCB:
    case RR.HTTPS: {
      if (c.len < 3) {
        weird('DNS_SVBC_wrong_length')
        return FAIL
      }
      ex16(c)
      nameOf(c, ctx, false)
      const parsed = c.pos - start
      if (parsed < rdlength) skip(c, rdlength - parsed)
      return OK_SILENT
    }
    default:
      weird('DNS_RR_unknown_type')
      skip(c, rdlength)
      return { ok: true, reply: enc(`<unknown type=${atype}>`) }
  }
}

/** TXT/SPF: character-strings until rdlength is used up; "TXT <len> <bytes>" joined by " ". */
function parseStrings(c: DnsCursor, rdlength: number, tag: string, weird: (n: string) => void): RdataResult {
  const parts: Uint8Array[] = []
  let rdlen = rdlength
  while (rdlen > 0) {
    const size = c.buf[c.pos] ?? 0
    rdlen--
    c.len--
    c.pos++
    if (size > rdlen) {
      weird('DNS_TXT_char_str_past_rdlen')
      break
    }
    const s = c.buf.subarray(c.pos, c.pos + size)
    if (parts.length > 0) parts.push(enc(' '))
    parts.push(enc(`${tag} ${s.length} `), s)
    rdlen -= size
    c.len -= size
    c.pos += size
  }
  return { ok: rdlen === 0, reply: cat(...parts) }
}

/** NAPTR: order, preference, flags, service, regexp (character-strings), replacement (name). */
function parseNaptr(c: DnsCursor, rdlength: number, netbios: boolean, weird: (n: string) => void): RdataResult {
  if (c.len < 4 || rdlength < 4) {
    skip(c, rdlength)
    return FAIL
  }
  const start = c.pos
  const order = ex16(c)
  const pref = ex16(c)
  const strs: Uint8Array[] = []
  for (let i = 0; i < 3; i++) {
    const left = rdlength - (c.pos - start)
    const size = c.buf[c.pos] ?? 0
    if (left < 1 || size > left - 1) {
      weird('DNS_NAPTR_char_str_past_rdlen')
      c.pos = Math.min(c.buf.length, start + rdlength)
      c.len -= rdlength - 4
      return FAIL
    }
    c.pos++
    c.len--
    strs.push(exBytes(c, size))
  }
  const repl = extractName(c, true, netbios, weird)
  let tmp: Uint8Array = strs[2]!
  if (repl.length > 0) tmp = tmp.length > 0 ? cat(tmp, enc(' '), repl) : repl
  return { ok: true, reply: cat(enc(`NAPTR ${order} ${pref} `), strs[0]!, enc(' '), strs[1]!, enc(' '), tmp) }
}

/** EDNS OPT: Zeek walks options over the rest of the message (not rdlength). */
function parseEdns(c: DnsCursor, weird: (n: string) => void): RdataResult {
  while (c.len >= 4) {
    ex16(c)
    const optLen = ex16(c)
    if (optLen > c.len) break
    skip(c, optLen)
  }
  if (c.len > 0) {
    weird('EDNS_truncated_option')
    return FAIL
  }
  return OK_SILENT
}

/** A one-byte length followed by that many bytes (NSEC3 salt/hash). */
function skipCounted(c: DnsCursor): void {
  let n = 0
  if (c.len > 0) {
    n = c.buf[c.pos]!
    c.pos++
    c.len--
  }
  exBytes(c, n)
}

