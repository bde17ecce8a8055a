/**
 * dns.log columns in Zeek's order and types (Zeek 9.1 base/protocols/dns/main.zeek, as in the
 * corpus oracles), and the conversion of a DnsInfo record into a row.
 */
import type { AppConnInfo, AppLogSpec } from '../app-analyzer.js'
import type { DnsInfo } from './dns-transactions.js'

export const DNS_LOG: AppLogSpec = {
  path: 'dns',
  fields: [
    { name: 'ts', type: 'time' },
    { name: 'uid', type: 'string' },
    { name: 'id.orig_h', type: 'addr' },
    { name: 'id.orig_p', type: 'port' },
    { name: 'id.resp_h', type: 'addr' },
    { name: 'id.resp_p', type: 'port' },
    { name: 'proto', type: 'enum' },
    { name: 'trans_id', type: 'count' },
    { name: 'rtt', type: 'interval' },
    { name: 'query', type: 'string' },
    { name: 'qclass', type: 'count' },
    { name: 'qclass_name', type: 'string' },
    { name: 'qtype', type: 'count' },
    { name: 'qtype_name', type: 'string' },
    { name: 'rcode', type: 'count' },
    { name: 'rcode_name', type: 'string' },
    { name: 'AA', type: 'bool' },
    { name: 'TC', type: 'bool' },
    { name: 'RD', type: 'bool' },
    { name: 'RA', type: 'bool' },
    { name: 'Z', type: 'count' },
    { name: 'answers', type: 'vector[string]' },
    { name: 'TTLs', type: 'vector[interval]' },
    { name: 'rejected', type: 'bool' },
    { name: 'opcode', type: 'count' },
    { name: 'opcode_name', type: 'string' },
  ],
}

/**
 * Zeek strings are bytes. Valid UTF-8 becomes a JS string (the writer re-encodes it to the
 * same bytes); anything else stays a Uint8Array so the writer can \x-escape the raw bytes.
 */
export function zeekString(b: Uint8Array): string | Uint8Array {
  let ascii = true
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) { ascii = false; break }
  if (ascii) return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')
  const s = Buffer.from(b.buffer, b.byteOffset, b.length).toString('utf8')
  return Buffer.byteLength(s, 'utf8') === b.length && !s.includes('\ufffd') ? s : Uint8Array.from(b)
}

/** An answers-column value: addresses are text already, other replies are bytes. */
const answerText = (a: Uint8Array | string): string | Uint8Array => (typeof a === 'string' ? a : zeekString(a))

export function dnsRow(conn: AppConnInfo, i: DnsInfo): Record<string, unknown> {
  return {
    ts: i.ts,
    uid: conn.uid,
    'id.orig_h': conn.origH,
    'id.orig_p': conn.origP,
    'id.resp_h': conn.respH,
    'id.resp_p': conn.respP,
    proto: conn.proto,
    trans_id: i.transId,
    rtt: i.rtt,
    query: i.query === undefined ? undefined : zeekString(i.query),
    qclass: i.qclass,
    qclass_name: i.qclassName,
    qtype: i.qtype,
    qtype_name: i.qtypeName,
    rcode: i.rcode,
    rcode_name: i.rcodeName,
    AA: i.AA,
    TC: i.TC,
    RD: i.RD,
    RA: i.RA,
    Z: i.Z,
    answers: i.answers?.map(answerText),
    // The record is finished when its row is made (never changed after): its list, not a copy.
    TTLs: i.TTLs,
    rejected: i.rejected,
    opcode: i.opcode,
    opcode_name: i.opcodeName,
  }
}
