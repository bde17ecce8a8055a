/**
 * Application-log rows → AppRecord: the copied index fields (ts in µs, uid, IPv4/IPv6/absent
 * or unparsable addresses, resp_p), zeek_json byte-identical to what `replay --json` writes
 * for the row (byte strings as \xNN, undefined fields left out), odd values that never throw,
 * the size cap (counted in UTF-8 bytes, not characters), the list of shippable logs against
 * the analyzers' registry, and the flows.app_logs filter.
 */
import t from 'tap'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AppRecord } from '../protocol/index.js'
import { APP_LOG_NAMES } from '../agent/app/app-log-names.js'
import { APP_LOGS } from '../agent/app/registry.js'
import { NdjsonWriter } from '../agent/output/ndjson-writer.js'
import { appLogSink } from '../agent/ship/app-log-sink.js'
import { APP_RECORD_MAX_JSON_BYTES, appRowToWire, type AppRecordResult } from '../agent/ship/app-record-wire.js'

function ok(r: AppRecordResult): Extract<AppRecordResult, { ok: true }>['record'] {
  if (!r.ok) throw new Error(`not shipped: ${r.reason}`)
  return r.record
}

/** What `replay --json` writes for one row (without the newline). */
async function ndjsonLine(row: Record<string, unknown>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-app-json-'))
  try {
    const w = new NdjsonWriter(join(dir, 'x.log'))
    w.write(row)
    await w.close()
    return readFileSync(join(dir, 'x.log'), 'utf8').replace(/\n$/, '')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const dnsRow = (): Record<string, unknown> => ({
  ts: 1_700_000_000.123456, uid: 'CAbc123', 'id.orig_h': '10.0.0.10', 'id.orig_p': 40001, 'id.resp_h': '10.0.0.1', 'id.resp_p': 53,
  proto: 'udp', trans_id: 9, query: Uint8Array.from([0x77, 0xff, 0x2e, 0x65, 0x78]), qtype_name: 'A', rcode: undefined,
  answers: ['192.0.2.7', Buffer.from([0x61, 0x00, 0xc3])], TTLs: [300, 300], rejected: false,
})

t.test('IPv4 row: index fields copied, zeek_json is the replay --json line', async (t) => {
  const row = dnsRow()
  const rec = ok(appRowToWire('dns', row))
  t.equal(rec.log, 'dns')
  t.equal(rec.tsUs, 1_700_000_000_123_456)
  t.equal(rec.uid, 'CAbc123')
  t.same([...rec.origH!], [10, 0, 0, 10])
  t.same([...rec.respH!], [10, 0, 0, 1])
  t.equal(rec.respP, 53)
  t.equal(rec.zeekJson, await ndjsonLine(row), 'byte-identical to the NDJSON writer')
  const parsed = JSON.parse(rec.zeekJson!) as Record<string, unknown>
  t.equal(parsed.query, 'w\\xff.ex', 'invalid UTF-8 escaped as \\xNN, as Zeek does')
  t.same(parsed.answers, ['192.0.2.7', 'a\\x00\\xc3'])
  t.notOk('rcode' in parsed, 'undefined fields left out')
  // And it survives the wire.
  const back = AppRecord.decode(AppRecord.encode(rec).finish())
  t.equal(back.zeekJson, rec.zeekJson)
  t.equal(Number(back.tsUs), 1_700_000_000_123_456)
})

t.test('IPv6, absent and unparsable addresses', async (t) => {
  const v6 = ok(appRowToWire('ssl', { ts: 1, uid: 'C6', 'id.orig_h': '2001:db8::1', 'id.resp_h': 'fe80::1:2', 'id.resp_p': 443 }))
  t.same([...v6.origH!], [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
  t.equal(v6.respH!.length, 16)
  t.equal(v6.respP, 443)
  const x509 = ok(appRowToWire('x509', { ts: 2, fingerprint: 'ab', 'certificate.subject': 'CN=x' }))
  t.equal(x509.uid, '', 'x509 rows have no uid')
  t.equal(x509.origH!.length, 0)
  t.equal(x509.respH!.length, 0)
  t.equal(x509.respP, 0)
  const bad = ok(appRowToWire('http', { ts: 3, uid: 7, 'id.orig_h': '10.0.0.256', 'id.resp_h': 'not-an-ip', 'id.resp_p': 70_000 }))
  t.equal(bad.uid, '', 'a uid that is not text is sent empty')
  t.equal(bad.origH!.length, 0)
  t.equal(bad.respH!.length, 0)
  t.equal(bad.respP, 0, 'a port out of range is 0')
  for (const p of [-1, 53.5, '53', Number.NaN]) t.equal(ok(appRowToWire('dns', { ts: 1, 'id.resp_p': p })).respP, 0, `resp_p ${String(p)}`)
})

t.test('odd values never throw', async (t) => {
  for (const ts of [Number.NaN, Number.POSITIVE_INFINITY, -Infinity, 1e300, 'yesterday', undefined]) {
    const rec = ok(appRowToWire('dns', { ts, uid: 'C1', x: Number.NaN, y: Infinity }))
    t.equal(rec.tsUs, 0, `ts ${String(ts)} → 0`)
    const parsed = JSON.parse(rec.zeekJson!) as Record<string, unknown>
    t.equal(parsed.x, null, 'non-finite numbers become null: still valid JSON')
  }
  t.same(appRowToWire('dns', { ts: 1, n: 10n }), { ok: false, reason: 'unencodable' }, 'a BigInt is refused, not thrown')
  const cycle: Record<string, unknown> = { ts: 1 }
  cycle.self = cycle
  t.same(appRowToWire('dns', cycle), { ok: false, reason: 'unencodable' }, 'a cycle is refused, not thrown')
  const lone = ok(appRowToWire('http', { ts: 1, uri: '/\ud800x' }))
  t.equal((JSON.parse(lone.zeekJson!) as { uri: string }).uri, '/\ud800x', 'a lone surrogate is escaped, the JSON stays valid')
  t.notOk(Buffer.from(lone.zeekJson!, 'utf8').includes(Buffer.from([0xef, 0xbf, 0xbd])), 'and is not replaced on the way to UTF-8')
})

t.test('zeek_json is capped at APP_RECORD_MAX_JSON_BYTES UTF-8 bytes', async (t) => {
  const overhead = JSON.stringify({ ts: 1, uri: '' }).length
  const fits = 'a'.repeat(APP_RECORD_MAX_JSON_BYTES - overhead)
  t.equal(Buffer.byteLength(ok(appRowToWire('http', { ts: 1, uri: fits })).zeekJson!), APP_RECORD_MAX_JSON_BYTES, 'exactly the limit is shipped')
  t.same(appRowToWire('http', { ts: 1, uri: `${fits}a` }), { ok: false, reason: 'oversized' }, 'one byte more is not')
  // 3-byte characters: under the limit in characters, over it in bytes.
  const euros = '€'.repeat(Math.ceil(APP_RECORD_MAX_JSON_BYTES / 3))
  t.ok(euros.length < APP_RECORD_MAX_JSON_BYTES)
  t.same(appRowToWire('http', { ts: 1, uri: euros }), { ok: false, reason: 'oversized' })
  t.ok(appRowToWire('http', { ts: 1, uri: '€'.repeat(20_000) }).ok, '60 000 bytes of € fit')
})

t.test('the shippable logs are the analyzers\' logs', async (t) => {
  t.same([...APP_LOG_NAMES].sort(), APP_LOGS.map((l) => l.path).sort())
})

t.test('flows.app_logs filter', async (t) => {
  const got: string[] = []
  t.equal(appLogSink([], (p) => got.push(p)), undefined, '[] ships none: no callback at all')
  const sink = appLogSink(['dns', 'ssl'], (p) => got.push(p))!
  for (const p of ['dns', 'http', 'ssl', 'x509', 'dns']) sink(p, { ts: 1 })
  t.same(got, ['dns', 'ssl', 'dns'])
})
