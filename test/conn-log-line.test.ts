/**
 * The fast conn.log row renderers (connRecordToZeekLine, and encodeConnLine, which replay uses
 * to write the row's bytes) must produce exactly the row of the generic path (formatZeekRow
 * over connRecordToZeekRow), and the allocation-
 * free IPv6 text parser behind normalizeAddr must agree with ipaddr.js wherever it accepts.
 */
import t from 'tap'
import fc from 'fast-check'
import ipaddr from 'ipaddr.js'
import { connLineMaxBytes, encodeConnLine } from '../agent/output/conn-log-bytes.js'
import { connLogFields, connRecordToZeekLine, connRecordToZeekRow } from '../agent/output/conn-log-fields.js'
import { formatZeekRow } from '../agent/output/zeek-ascii-writer.js'
import { formatAddrBytes, normalizeAddr, parseIpv6Text } from '../agent/output/zeek-value-format.js'
import { CONN_STATES, type ConnRecord } from '../agent/flow/conn-record.js'

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'))
const v6Bytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  // Mostly-zero addresses exercise the "::" compression and the IPv4-mapped/compatible forms.
  fc.tuple(fc.nat(7), fc.nat(8), fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([at, len, b]) => {
    b.fill(0, at * 2, Math.min(16, (at + len) * 2))
    return b
  }),
  fc.tuple(fc.boolean(), fc.uint8Array({ minLength: 4, maxLength: 4 })).map(([mapped, q]) => {
    const b = new Uint8Array(16)
    if (mapped) { b[10] = 0xff; b[11] = 0xff }
    b.set(q, 12)
    return b
  }),
)
/** Several spellings of the same IPv6 address: canonical, fully expanded, upper case, ipaddr's own. */
const v6Text = fc.tuple(v6Bytes, fc.nat(3)).map(([b, style]) => {
  const a = ipaddr.fromByteArray([...b]) as ipaddr.IPv6
  if (style === 0) return formatAddrBytes(b)
  if (style === 1) return a.toNormalizedString().split(':').map((w) => w.padStart(4, '0')).join(':')
  if (style === 2) return a.toString().toUpperCase()
  return a.toNormalizedString()
})

function reference(text: string): string {
  return formatAddrBytes(Uint8Array.from(ipaddr.parse(text).toByteArray()))
}

t.test('parseIpv6Text agrees with ipaddr.js on valid spellings', async (t) => {
  const out = new Uint8Array(16)
  fc.assert(fc.property(v6Text, (text) => {
    const want = reference(text)
    if (normalizeAddr(text) !== want) return false
    // Hex-only spellings take the fast path; dotted-quad tails are left to ipaddr.js.
    if (text.includes('.')) return !parseIpv6Text(text, out)
    return parseIpv6Text(text, out) && formatAddrBytes(out) === want
  }), { numRuns: 5000 })
  t.pass('5000 spellings agree')
})

t.test('parseIpv6Text rejects what it does not handle (normalizeAddr falls back)', async (t) => {
  const out = new Uint8Array(16)
  for (const bad of ['', ':', ':1', '1:', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1::2:3:4:5:6:7:8', '12345::1', 'g::1',
    '::1.2.3.4', '::ffff:1.2.3.4', 'fe80::1%eth0', '1:2:3:4:5:6:7:1.2.3.4']) {
    t.notOk(parseIpv6Text(bad, out), bad)
  }
  t.equal(normalizeAddr('fe80::1%eth0'), 'fe80::1')
  t.equal(normalizeAddr('10.1.2.3'), '10.1.2.3')
  t.equal(normalizeAddr('::ffff:10.1.2.3'), '10.1.2.3')
  t.equal(normalizeAddr('::10.1.2.3'), reference('::10.1.2.3'))
  t.equal(normalizeAddr('::'), '::')
  t.equal(normalizeAddr('1::'), '1::')
})

const optional = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined })
const text = fc.oneof(fc.constantFrom('', '-', '(empty)', 'dns', 'http,ssl', 'ShADadFf', 'a\tb', 'a,b', 'x\\y', '#'), fc.string(), fc.string({ unit: 'binary' }))
const time = fc.oneof(fc.double({ min: 0, max: 2e9, noNaN: true }), fc.constantFrom(1700000000.000001, 0.0000005, 1.5, NaN, Infinity))
const n = fc.oneof(fc.nat(), fc.constantFrom(0, 2 ** 53, NaN, 1.5))

const record: fc.Arbitrary<ConnRecord> = fc.record({
  ts: time,
  uid: text,
  origH: fc.oneof(v4, v6Text),
  origP: fc.nat(65535),
  respH: fc.oneof(v4, v6Text),
  respP: fc.nat(65535),
  proto: fc.constantFrom('tcp', 'udp', 'icmp', 'unknown_transport'),
  service: text,
  duration: optional(time),
  origBytes: optional(n),
  respBytes: optional(n),
  connState: fc.constantFrom(...CONN_STATES),
  localOrig: optional(fc.boolean()),
  localResp: optional(fc.boolean()),
  missedBytes: n,
  history: text,
  origPkts: n,
  origIpBytes: n,
  respPkts: n,
  respIpBytes: n,
  tunnelParents: fc.array(text, { maxLength: 3 }),
  ipProto: fc.nat(255),
  communityId: text,
  vlan: optional(fc.nat(4095)),
  innerVlan: optional(fc.nat(4095)),
  origL2Addr: fc.constant(undefined),
  respL2Addr: fc.constant(undefined),
  iface: fc.constant(''),
  lastTs: time,
  interim: fc.boolean(),
  reason: fc.constantFrom('end', 'inactive', 'active_timeout', 'evicted', 'flush'),
}) as fc.Arbitrary<ConnRecord>

t.test('connRecordToZeekLine renders the same row as the generic writer path', async (t) => {
  fc.assert(fc.property(record, fc.boolean(), fc.boolean(), (rec, vlan, communityId) => {
    const extras = { vlan, communityId }
    const generic = formatZeekRow(connLogFields(extras), connRecordToZeekRow(rec, extras))
    if (connRecordToZeekLine(rec, extras) !== generic) throw new Error(`differs: ${JSON.stringify(connRecordToZeekLine(rec, extras))} vs ${JSON.stringify(generic)}`)
  }), { numRuns: 5000 })
  t.pass('5000 records render identically')
})

t.test('encodeConnLine writes the bytes of connRecordToZeekLine + newline, within connLineMaxBytes', async (t) => {
  const buf = Buffer.alloc(1 << 16)
  fc.assert(fc.property(record, fc.boolean(), fc.boolean(), fc.nat(64), (rec, vlan, communityId, at) => {
    const extras = { vlan, communityId }
    const want = Buffer.from(connRecordToZeekLine(rec, extras) + '\n', 'utf8')
    const max = connLineMaxBytes(rec)
    const end = encodeConnLine(rec, extras, buf, at)
    if (end - at > max) throw new Error(`${end - at} bytes > bound ${max}`)
    if (!buf.subarray(at, end).equals(want)) throw new Error(`differs: ${JSON.stringify(buf.toString('utf8', at, end))} vs ${JSON.stringify(want.toString('utf8'))}`)
  }), { numRuns: 5000 })
  // Numbers at the edges of the digit printer and of formatZeekTime's rounding.
  const base = fc.sample(record, { numRuns: 1, seed: 7 })[0]!
  for (const v of [0, -0, 9, 10, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e21, -5, 0.9999999, 1700000000 + 0.9999996, 1700000000 + 0.0000005, 4503599627370495.5]) {
    const rec = { ...base, ts: v, duration: v, origBytes: v, missedBytes: v, origPkts: v }
    const end = encodeConnLine(rec, { vlan: true, communityId: true }, buf, 0)
    t.equal(buf.toString('utf8', 0, end), connRecordToZeekLine(rec, { vlan: true, communityId: true }) + '\n', String(v))
  }
})
