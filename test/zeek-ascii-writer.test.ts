import t from 'tap'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ZeekAsciiWriter, formatZeekRow, zeekLogHeader, type ZeekField } from '../agent/output/zeek-ascii-writer.js'
import { NdjsonWriter } from '../agent/output/ndjson-writer.js'
import { formatAddrBytes, formatZeekTime, formatZeekValue, escapeZeekBytes, ipv4Text } from '../agent/output/zeek-value-format.js'
import { CONN_LOG_FIELDS, CONN_LOG_PATH, connLogFields, connRecordToJson, connRecordToZeekRow } from '../agent/output/conn-log-fields.js'
import { WEIRD_LOG_FIELDS, weirdRecordToJson, weirdRecordToZeekRow } from '../agent/output/weird-log-fields.js'
import type { ConnRecord, ConnState } from '../agent/flow/conn-record.js'
import { isAgentError, AgentErrorCode } from '../agent/util/errors.js'
import { CORPUS_DIR, CORPUS_SKIP_MESSAGE, corpusAvailable, corpusPath } from './helpers/paths.js'
import { readZeekLog, splitSet } from './helpers/zeek-log-reader.js'

const skipCorpus = corpusAvailable() ? false : CORPUS_SKIP_MESSAGE
const tmp = mkdtempSync(join(tmpdir(), 'telltale-zeek-writer-'))
t.teardown(() => rmSync(tmp, { recursive: true, force: true }))

const MASKED_TS = 'XXXXXXXXXX.XXXXXX'

/** Test-only: a conn.log row (corpus oracle) as the ConnRecord that should reproduce it. */
function rowToConnRecord(row: Record<string, string>): ConnRecord {
  const num = (k: string): number | undefined => (row[k] === '-' || row[k] === undefined ? undefined : Number(row[k]))
  const bool = (k: string): boolean | undefined => (row[k] === 'T' ? true : row[k] === 'F' ? false : undefined)
  const str = (k: string): string => (row[k] === '-' || row[k] === undefined ? '' : row[k]!)
  return {
    ts: 1300475167.096535,
    uid: row.uid!,
    origH: row['id.orig_h']!,
    origP: Number(row['id.orig_p']),
    respH: row['id.resp_h']!,
    respP: Number(row['id.resp_p']),
    proto: row.proto as ConnRecord['proto'],
    service: str('service'),
    duration: num('duration'),
    origBytes: num('orig_bytes'),
    respBytes: num('resp_bytes'),
    connState: row.conn_state as ConnState,
    localOrig: bool('local_orig'),
    localResp: bool('local_resp'),
    missedBytes: Number(row.missed_bytes),
    history: str('history'),
    origPkts: Number(row.orig_pkts),
    origIpBytes: Number(row.orig_ip_bytes),
    respPkts: Number(row.resp_pkts),
    respIpBytes: Number(row.resp_ip_bytes),
    tunnelParents: splitSet(row.tunnel_parents!) ?? [],
    ipProto: Number(row.ip_proto),
    communityId: '',
    vlan: num('vlan'),
    innerVlan: num('inner_vlan'),
    origL2Addr: undefined,
    respL2Addr: undefined,
    iface: '',
    lastTs: 1300475167.096535,
    interim: false,
    reason: 'end',
  }
}

t.test('header is byte-exact against wikipedia.conn.log (lines 2..9 except the masked #open)', { skip: skipCorpus }, async (t) => {
  const expected = readFileSync(corpusPath('wikipedia.conn.log'), 'utf8').split('\n').slice(1, 9)
  const ours = zeekLogHeader('conn', CONN_LOG_FIELDS, new Date(2011, 2, 18, 19, 6, 7)).split('\n').slice(0, 8)
  t.equal(ours.length, 8)
  for (let i = 0; i < 8; i++) {
    if (expected[i]!.startsWith('#open')) {
      t.equal(ours[i], '#open\t2011-03-18-19-06-07', '#open: tab + local time')
      continue
    }
    t.equal(ours[i], expected[i], `header line ${i + 2}`)
  }
})

t.test('round trip: every corpus conn.log row parsed into a ConnRecord is written back identically (ts masked)', { skip: skipCorpus }, async (t) => {
  const files = readdirSync(CORPUS_DIR).filter((f) => /\.conn(-[a-z0-9]+)?\.log$/.test(f))
  t.ok(files.length >= 10)
  let rows = 0
  for (const f of files) {
    const log = readZeekLog(corpusPath(f))
    const extras = { vlan: log.fields.includes('vlan'), communityId: log.fields.includes('community_id') }
    const fields = connLogFields(extras)
    t.same(fields.map((x) => x.name), log.fields, `${f}: #fields`)
    t.same(fields.map((x) => x.type), log.types, `${f}: #types`)
    const out = join(tmp, `rt-${f}`)
    const w = new ZeekAsciiWriter(out, CONN_LOG_PATH, fields)
    for (const row of log.rows) w.write(connRecordToZeekRow(rowToConnRecord(row), extras))
    await w.close()
    t.equal(w.rows, log.rows.length)
    const written = readFileSync(out, 'utf8').split('\n')
    t.equal(written.pop(), '', 'ends with a newline')
    const header = written.slice(0, 8)
    const data = written.slice(8, -1)
    t.match(written[written.length - 1]!, /^#close\t\d{4}(-\d\d){5}$/, `${f}: #close`)
    t.same(header.filter((l) => !l.startsWith('#open')), log.headerLines.filter((l) => l.startsWith('#') && !l.startsWith('#open') && !l.startsWith('#close')), `${f}: header`)
    data.forEach((line, i) => {
      const masked = MASKED_TS + line.slice(line.indexOf('\t'))
      t.equal(masked, log.lines[i], `${f} row ${i + 1}`)
      rows++
    })
  }
  t.ok(rows >= 90, `${rows} rows compared`)
})

t.test('string escaping as Zeek does', async (t) => {
  const s = (v: unknown): string => formatZeekValue('string', v)
  t.equal(s(''), '(empty)')
  t.equal(s('-'), '\\x2d')
  t.equal(s('(empty)'), '\\x28empty)')
  t.equal(s('--'), '--', 'only an exact match is reserved')
  t.equal(s('a\tb'), 'a\\x09b', 'separator')
  t.equal(s('a\\b'), 'a\\\\b', 'backslash doubled')
  t.equal(s('line\nnext\r'), 'line\\x0anext\\x0d')
  t.equal(s('\x00\x1f\x7f'), '\\x00\\x1f\\x7f')
  t.equal(s('a,b'), 'a,b', 'comma is fine outside sets')
  t.equal(s('café ☕ 𝄞'), 'café ☕ 𝄞', 'valid UTF-8 passes (LogAscii::enable_utf_8 = T)')
  t.equal(s(Buffer.from([0x41, 0xff, 0xc3, 0x28, 0xe2, 0x82])), 'A\\xff\\xc3(\\xe2\\x82', 'invalid UTF-8 bytes escaped one by one')
  t.equal(s(Buffer.from([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80', 'UTF-16 surrogates are not valid UTF-8')
  t.equal(s(Buffer.from([0xc0, 0x80])), '\\xc0\\x80', 'overlong encoding')
  t.equal(escapeZeekBytes(Buffer.from('-'), false), '\\x2d')
  t.equal(formatZeekValue('enum', 'tcp'), 'tcp')
})

t.test('sets and vectors', async (t) => {
  t.equal(formatZeekValue('set[string]', []), '(empty)')
  t.equal(formatZeekValue('set[string]', undefined), '-')
  t.equal(formatZeekValue('set[string]', ['CHhAvVGS1DHFjwGM9', 'x']), 'CHhAvVGS1DHFjwGM9,x')
  t.equal(formatZeekValue('vector[string]', ['a,b', '', '-', 'tab\t']), 'a\\x2cb,(empty),\\x2d,tab\\x09')
  t.equal(formatZeekValue('set[enum]', ['udp']), 'udp')
})

t.test('numbers, bools, times', async (t) => {
  t.equal(formatZeekTime(1300475167.096535), '1300475167.096535')
  t.equal(formatZeekTime(0.0001), '0.000100')
  t.equal(formatZeekTime(3.157831), '3.157831')
  t.equal(formatZeekTime(0), '0.000000')
  t.equal(formatZeekTime(1.9999999), '2.000000', 'rounding carries into the whole part')
  t.equal(formatZeekTime(-1.5), '-1.500000')
  t.equal(formatZeekValue('interval', NaN), '-')
  t.equal(formatZeekValue('count', 42), '42')
  t.equal(formatZeekValue('count', 2n ** 64n - 1n), '18446744073709551615')
  t.equal(formatZeekValue('int', -13), '-13')
  t.equal(formatZeekValue('port', 443), '443')
  t.equal(formatZeekValue('bool', true), 'T')
  t.equal(formatZeekValue('bool', false), 'F')
  t.equal(formatZeekValue('double', 1.5), '1.5')
  t.equal(formatZeekValue('double', 2), '2.0')
  t.equal(formatZeekValue('double', 0.1234567), '0.123457')
  t.equal(formatZeekValue('count', null), '-')
})

t.test('addresses as inet_ntop prints them', async (t) => {
  const a = (v: string): string => formatZeekValue('addr', v)
  t.equal(a('141.142.220.202'), '141.142.220.202')
  t.equal(a('FE80:0:0:0:217:F2FF:FED7:CF65'), 'fe80::217:f2ff:fed7:cf65')
  t.equal(a('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'first of two equal zero runs')
  t.equal(a('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1', 'longest zero run')
  t.equal(a('1:0:2:3:4:5:6:7'), '1:0:2:3:4:5:6:7', 'a single zero word is not compressed')
  t.equal(a('1::'), '1::')
  t.equal(a('::'), '::')
  t.equal(a('::1'), '::1')
  t.equal(a('::ffff:192.168.1.1'), '192.168.1.1', 'IPv4-mapped is IPv4 in Zeek')
  t.equal(a('::102:304'), '::1.2.3.4', 'IPv4-compatible form as glibc prints it')
  t.equal(formatAddrBytes(Uint8Array.from([10, 0, 0, 1])), '10.0.0.1')
  t.equal(formatZeekValue('addr', Uint8Array.from([0xff, 2, ...new Array<number>(13).fill(0), 0xfb])), 'ff02::fb')
})

t.test('ipv4Text writes the dotted quad of any four bytes at any offset (flat, one string)', async (t) => {
  // Every octet value in every position (each octet's digits go through the same scratch).
  for (let v = 0; v < 256; v++) {
    const b = Uint8Array.from([7, v, 255 - v, (v * 7) & 0xff, v ^ 0x5a, 9])
    const want = `${b[1]}.${b[2]}.${b[3]}.${b[4]}`
    t.equal(ipv4Text(b, 1), want)
    if (ipv4Text(b, 1) !== want) break
  }
  t.equal(ipv4Text(Uint8Array.from([0, 0, 0, 0]), 0), '0.0.0.0')
  t.equal(ipv4Text(Uint8Array.from([255, 255, 255, 255]), 0), '255.255.255.255')
  t.equal(ipv4Text(Uint8Array.from([10, 9, 100, 99]), 0), '10.9.100.99')
  // A longer text after a shorter one: nothing of the earlier text shows through.
  t.equal(ipv4Text(Uint8Array.from([1, 2, 3, 4]), 0), '1.2.3.4')
  t.equal(formatAddrBytes(Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 33])), '192.0.2.33')
})

t.test('a row that would start with "#" gets its first byte escaped', async (t) => {
  const fields: ZeekField[] = [{ name: 'a', type: 'string' }, { name: 'b', type: 'count' }]
  t.equal(formatZeekRow(fields, ['#x', 1]), '\\x23x\t1')
  t.equal(formatZeekRow(fields, [undefined, undefined]), '-\t-')
})

t.test('weird.log rows and JSON', async (t) => {
  t.same(WEIRD_LOG_FIELDS.map((f) => f.name), ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'name', 'addl', 'notice', 'peer', 'source'])
  const rec = { ts: 1.5, uid: undefined, origH: '10.0.0.1', origP: undefined, respH: undefined, respP: undefined, name: 'fragment_overlap', addl: '', notice: false, peer: 'telltale', source: 'IP' }
  t.equal(formatZeekRow(WEIRD_LOG_FIELDS, weirdRecordToZeekRow(rec)), '1.500000\t-\t10.0.0.1\t-\t-\t-\tfragment_overlap\t-\tF\ttelltale\tIP')
  t.same(weirdRecordToJson(rec), { ts: 1.5, 'id.orig_h': '10.0.0.1', name: 'fragment_overlap', notice: false, peer: 'telltale', source: 'IP' })
})

t.test('connRecordToJson: Zeek JSON keys in column order, unset fields omitted', async (t) => {
  const rec = rowToConnRecord({
    uid: 'CHhAvVGS1DHFjwGM9', 'id.orig_h': '141.142.220.202', 'id.orig_p': '5353', 'id.resp_h': '224.0.0.251', 'id.resp_p': '5353',
    proto: 'udp', service: 'dns', duration: '-', orig_bytes: '-', resp_bytes: '-', conn_state: 'S0', local_orig: 'F', local_resp: 'T',
    missed_bytes: '0', history: 'D', orig_pkts: '1', orig_ip_bytes: '73', resp_pkts: '0', resp_ip_bytes: '0', tunnel_parents: '-', ip_proto: '17',
  })
  rec.communityId = '1:abc='
  const j = connRecordToJson(rec)
  t.same(Object.keys(j), ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'conn_state', 'local_orig', 'local_resp',
    'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'ip_proto', 'community_id'])
  t.equal(j['id.resp_p'], 5353)
  t.equal(j.local_resp, true)
  const row = connRecordToZeekRow(rec, { vlan: false, communityId: true })
  t.equal(row.length, 23)
  t.equal(row[22], '1:abc=')
})

t.test('NdjsonWriter writes one object per line', async (t) => {
  const out = join(tmp, 'x.ndjson')
  const w = new NdjsonWriter(out)
  w.write({ a: 1, 'id.orig_h': '10.0.0.1' })
  w.write({ b: 'x\ny' })
  await w.close()
  const lines = readFileSync(out, 'utf8').split('\n')
  t.equal(lines.length, 3)
  t.same(JSON.parse(lines[0]!), { a: 1, 'id.orig_h': '10.0.0.1' })
  t.same(JSON.parse(lines[1]!), { b: 'x\ny' })
})

t.test('many rows survive the buffer flushes intact', async (t) => {
  const out = join(tmp, 'many.log')
  const fields: ZeekField[] = [{ name: 'n', type: 'count' }, { name: 's', type: 'string' }]
  const w = new ZeekAsciiWriter(out, 'test', fields, { flushBytes: 1000 })
  for (let i = 0; i < 5000; i++) w.write([i, `row-${i}-é`])
  await w.close()
  const lines = readFileSync(out, 'utf8').split('\n').filter((l) => !l.startsWith('#') && l !== '')
  t.equal(lines.length, 5000)
  t.equal(lines[4999], '4999\trow-4999-é')
  t.equal(w.rows, 5000)
})

t.test('an unwritable path is OUTPUT_UNWRITABLE naming the path', async (t) => {
  const bad = join(tmp, 'no-such-dir', 'conn.log')
  for (const make of [() => new ZeekAsciiWriter(bad, 'conn', CONN_LOG_FIELDS), () => new NdjsonWriter(bad)]) {
    try {
      make()
      t.fail('should throw')
    } catch (err) {
      t.ok(isAgentError(err) && err.code === AgentErrorCode.OUTPUT_UNWRITABLE)
      t.match((err as Error).message, bad)
    }
  }
})

t.test('writeRecord renders the same line as write with the values in field order', async (t) => {
  const fields: ZeekField[] = [
    { name: 's', type: 'string' }, { name: 'ts', type: 'time' }, { name: 'n', type: 'count' }, { name: 'b', type: 'bool' },
    { name: 'h', type: 'addr' }, { name: 'e', type: 'enum' }, { name: 'v', type: 'vector[string]' }, { name: 'i', type: 'interval' },
    { name: 'p', type: 'port' }, { name: 'set', type: 'set[string]' },
  ]
  const rows: Array<Record<string, unknown>> = [
    { s: '#hash first', ts: 1700000000.5, n: 3, b: true, h: '10.0.0.1', e: 'tcp', v: ['a', 'b,c'], i: 0.25, p: 80, set: [] },
    { s: Buffer.from([0x61, 0xff, 0x5c]), ts: NaN, n: undefined, b: false, h: 'FD00:0::1', e: '-', v: [], i: undefined, p: 0n, set: ['x'] },
    { s: '', n: 2.7, b: null, h: new Uint8Array([192, 168, 0, 1]), e: '(empty)', v: undefined, i: -1.5 },
    {},
  ]
  const a = join(tmp, 'record-a.log')
  const b = join(tmp, 'record-b.log')
  const wa = new ZeekAsciiWriter(a, 'x', fields, { openTime: new Date(0), now: () => new Date(0) })
  const wb = new ZeekAsciiWriter(b, 'x', fields, { openTime: new Date(0), now: () => new Date(0) })
  for (const r of rows) {
    wa.writeRecord(r)
    wb.write(fields.map((f) => r[f.name]))
  }
  await wa.close()
  await wb.close()
  t.equal(readFileSync(a, 'utf8'), readFileSync(b, 'utf8'))
  t.equal(wa.rows, rows.length)
})
