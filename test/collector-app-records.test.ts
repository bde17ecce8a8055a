// Application-log rows (Batch.app_records = 12) end to end on a real collector: ingest and
// its bookkeeping (agent/batch counts, gaps, counter, listeners), GET /api/v1/app-records
// with every filter, cursor pages and NDJSON, odd times and hostile JSON, malformed entries,
// retention, and a store and agent record from before app records.
import t from 'tap'
import { hostBucket } from '../collector/storage/host-buckets.js'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Batch, encodeBatch, GapKind, GapReason, type AppRecordProperties } from '../protocol/index.js'
import type { StoredBatch } from '../collector/ingest/ingest-service.js'
import { CollectorStore, keys } from '../collector/storage/index.js'
import { ADMIN, batch, enrollAgent, gz, post, startCollector, type TestCollector } from './collector-fixtures.js'

const H = { authorization: `Bearer ${ADMIN}` }
const GZ = { 'content-encoding': 'gzip' }
const T0 = 1_700_000_000_000_000
const DAY_US = 86_400_000_000

const v4 = (a: number, b: number, c: number, d: number): Buffer => Buffer.from([a, b, c, d])
/** 2001:db8::<last> */
const v6 = (last: number): Buffer => { const b = Buffer.alloc(16); b.writeUInt16BE(0x2001, 0); b.writeUInt16BE(0x0db8, 2); b[15] = last; return b }

/** One row of Zeek log `log` at tsUs, with its Zeek JSON built from the same values. */
function row(log: string, tsUs: number, uid: string, orig: Buffer, resp: Buffer, respP: number, extra: Record<string, unknown>): AppRecordProperties {
  const ip = (b: Buffer): string => b.length === 4 ? [...b].join('.') : b.length === 16 ? '2001:db8::' + b[15]!.toString(16) : ''
  const z = { ts: tsUs / 1e6, uid, 'id.orig_h': ip(orig), 'id.orig_p': 40000, 'id.resp_h': ip(resp), 'id.resp_p': respP, ...extra }
  return { log, tsUs, uid, origH: orig, respH: resp, respP, zeekJson: JSON.stringify(z) }
}

/** Six rows of three logs, two address families. */
function rows(t0: number): AppRecordProperties[] {
  return [
    row('dns', t0 + 1_000_000, 'CdnsA1', v4(10, 0, 0, 5), v4(10, 0, 0, 53), 53, { proto: 'udp', query: 'Example.COM', qtype_name: 'A', answers: ['93.184.216.34'] }),
    row('dns', t0 + 2_000_000, 'CdnsA2', v6(5), v6(0x53), 53, { proto: 'udp', query: 'ipv6.example.org', qtype_name: 'AAAA' }),
    row('http', t0 + 3_000_000, 'ChttpB', v4(10, 0, 0, 5), v4(192, 0, 2, 80), 80, { method: 'GET', host: 'intranet.local', uri: '/login', user_agent: 'curl/8.0', status_code: 200 }),
    row('ssl', t0 + 4_000_000, 'CsslC1', v4(10, 0, 0, 6), v4(192, 0, 2, 44), 443, { version: 'TLSv13', server_name: 'bank.example', ja3: 'e7d705a3286e19ea42f587b344ee6865' }),
    row('ssl', t0 + 5_000_000, 'CsslC2', v6(6), v6(0x44), 8443, { version: 'TLSv12', server_name: 'portal.example' }),
    row('x509', t0 + 6_000_000, '', Buffer.alloc(0), Buffer.alloc(0), 0, { fingerprint: 'ab12', 'certificate.subject': 'CN=bank.example' }),
  ]
}

interface Page { app_records: Array<Record<string, unknown>>; next_cursor: string | null }
async function page(c: TestCollector, query: string): Promise<Page> {
  const r = await c.app.inject({ method: 'GET', url: `/api/v1/app-records?${query}`, headers: H })
  if (r.statusCode !== 200) throw new Error(`${query}: ${r.statusCode} ${r.body}`)
  return r.json() as Page
}
const uids = (p: Page): unknown[] => p.app_records.map((r) => r.uid)

t.test('ingest stores app records with the batch; counts, gaps, counter, listeners and /agents', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const seen: StoredBatch[] = []
  c.ingest.onStored((b) => { seen.push(b) })
  const b = batch(a.agentId, 1, 5, {
    appRecords: rows(T0),
    gaps: [{ kind: GapKind.GAP_KIND_APP_RECORDS, count: 77, reason: GapReason.GAP_REASON_QUEUE_FULL, firstTsUs: T0, lastTsUs: T0 + 1 },
      { kind: GapKind.GAP_KIND_EVENTS, count: 3, reason: GapReason.GAP_REASON_QUEUE_FULL }],
  })
  t.equal((await post(c, a.secret, gz(b), GZ)).statusCode, 200)
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 2, 1, { appRecords: rows(T0 + 60_000_000).slice(0, 2) })), GZ)).statusCode, 200)
  t.match(await c.store.agents.get(a.agentId), { flows: 6, appRecords: 8, gapRecords: { flows: 0, events: 3, observations: 0, appRecords: 77 } })
  t.match(await c.store.batches.batchRecord(1), { appRecords: 6, appMinTsUs: T0 + 1_000_000, appMaxTsUs: T0 + 6_000_000 })
  t.equal(c.ingest.counters.get('ingest_app_records_total'), 8)
  t.same(seen.map((s) => s.rest.appRecords.length), [6, 2], 'listeners get the decoded app records')
  t.equal(seen[0]!.rest.appRecords[3]!.zeekJson, rows(T0)[3]!.zeekJson)
  let stored = 0
  for await (const s of c.store.batches.appSegments()) stored += Batch.decode(s).appRecords.length
  t.equal(stored, 8)
  const ag = (await c.app.inject({ method: 'GET', url: `/api/v1/agents/${a.agentId}`, headers: H })).json() as Record<string, unknown>
  t.match(ag, { app_records: 8, gap_records: { flows: 0, events: 3, observations: 0, app_records: 77 } })
  t.equal(((await c.app.inject({ method: 'GET', url: '/api/v1/stats', headers: H })).json() as { app_records: number }).app_records, 8, '/stats counts them')
  const m = await c.app.inject({ method: 'GET', url: '/metrics', headers: H })
  t.match(m.body, /telltale_ingest_total\{counter="ingest_app_records_total"\} 8\n/)
})

t.test('GET /api/v1/app-records: each filter, the row as Zeek JSON plus _log/_agent', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const b2 = await enrollAgent(c, 2, 'nonce-second-agent-0123')
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 1, 0, { appRecords: rows(T0) })), GZ)).statusCode, 200)
  t.equal((await post(c, b2.secret, gz(batch(b2.agentId, 1, 0, { appRecords: [row('dns', T0 + 10_000_000, 'CfromB', v4(10, 1, 0, 1), v4(10, 0, 0, 53), 53, { query: 'b.example' })] })), GZ)).statusCode, 200)

  const all = await page(c, '')
  t.same(uids(all), ['CdnsA1', 'CdnsA2', 'ChttpB', 'CsslC1', 'CsslC2', '', 'CfromB'], 'everything, in storage order')
  t.equal(all.next_cursor, null)
  const first = all.app_records[0]!
  t.same(first, { ...JSON.parse(rows(T0)[0]!.zeekJson as string), _log: 'dns', _agent: a.agentId }, 'the row as sent plus _log and _agent')
  t.same(first.answers, ['93.184.216.34'], 'nested values survive the response schema')
  t.equal(all.app_records[6]!._agent, b2.agentId)

  t.same(uids(await page(c, 'log=ssl')), ['CsslC1', 'CsslC2'])
  t.same(uids(await page(c, 'log=x509')), [''])
  t.same(uids(await page(c, 'uid=ChttpB')), ['ChttpB'])
  t.same(uids(await page(c, 'resp_p=53')), ['CdnsA1', 'CdnsA2', 'CfromB'])
  t.same(uids(await page(c, 'resp_p=8443')), ['CsslC2'])
  t.same(uids(await page(c, `agent=${b2.agentId}`)), ['CfromB'])
  t.same(uids(await page(c, `agent=${a.agentId}&log=dns`)), ['CdnsA1', 'CdnsA2'])
  // host: either end, compared as addresses (any text form of an IPv6 address).
  t.same(uids(await page(c, 'host=10.0.0.5')), ['CdnsA1', 'ChttpB'])
  t.same(uids(await page(c, 'host=10.0.0.53')), ['CdnsA1', 'CfromB'], 'responder side too')
  t.same(uids(await page(c, 'host=2001:db8::6')), ['CsslC2'])
  t.same(uids(await page(c, `host=${encodeURIComponent('2001:0DB8:0000:0000:0000:0000:0000:0044')}`)), ['CsslC2'], 'a long upper-case IPv6 form matches')
  t.same(uids(await page(c, `host=${encodeURIComponent('::ffff:10.0.0.6')}`)), ['CsslC1'], 'an IPv4-mapped form matches the IPv4 row')
  // q: case-insensitive substring of the JSON text.
  t.same(uids(await page(c, 'q=example.com')), ['CdnsA1'])
  t.same(uids(await page(c, 'q=E7D705A3')), ['CsslC1'], 'ja3 found whatever the case')
  t.same(uids(await page(c, 'q=bank.example')), ['CsslC1', ''])
  // time range
  const iso = (us: number): string => new Date(us / 1000).toISOString()
  t.same(uids(await page(c, `from=${iso(T0 + 2_000_000)}&to=${iso(T0 + 4_000_000)}`)), ['CdnsA2', 'ChttpB', 'CsslC1'])
  t.same(uids(await page(c, `from=${iso(T0 + 7_000_000)}`)), ['CfromB'])

  const bad = async (query: string, re: RegExp): Promise<void> => {
    const r = await c.app.inject({ method: 'GET', url: `/api/v1/app-records?${query}`, headers: H })
    t.equal(r.statusCode, 400, query)
    t.equal((r.json() as { code: string }).code, 'COLLECTOR_ERR_BAD_REQUEST')
    t.match((r.json() as { message: string }).message, re, query)
  }
  await bad('host=not-an-ip', /"host"/)
  await bad('resp_p=70000', /resp_p/)
  await bad('service=dns', /"service" is not known/)
  await bad('limit=5000', /"limit": at most 1000/)
  await bad('cursor=xyz', /"cursor"/)
  const viewer = (await c.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: H, payload: { role: 'viewer' } })).json() as { token: string }
  t.equal((await c.app.inject({ method: 'GET', url: '/api/v1/app-records', headers: { authorization: `Bearer ${viewer.token}` } })).statusCode, 403, 'raw records: not for viewers')
  const oa = (await c.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { get?: { parameters?: Array<{ name: string }> } }> }
  t.same(oa.paths['/api/v1/app-records']?.get?.parameters?.map((p) => p.name).sort(), ['agent', 'cursor', 'from', 'host', 'limit', 'log', 'q', 'resp_p', 'to', 'uid'], 'documented in OpenAPI')
})

t.test('cursor pages and NDJSON export walk every row once', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  for (let s = 1; s <= 4; s++) t.equal((await post(c, a.secret, gz(batch(a.agentId, s, 0, { appRecords: rows(T0 + s * 60_000_000) })), GZ)).statusCode, 200)
  const want = (await page(c, 'limit=1000')).app_records.map((r) => `${String(r.uid)}@${String(r.ts)}`)
  t.equal(want.length, 24)
  t.equal(new Set(want).size, 24)
  const got: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const p: Page = await page(c, `limit=5${cursor === null ? '' : `&cursor=${cursor}`}`)
    got.push(...p.app_records.map((r) => `${String(r.uid)}@${String(r.ts)}`))
    cursor = p.next_cursor
    pages++
  } while (cursor !== null && pages < 20)
  t.same(got, want, 'pages of 5 across segment boundaries')
  t.equal(pages, 5)
  const nd = await c.app.inject({ method: 'GET', url: '/api/v1/app-records?log=ssl', headers: { ...H, accept: 'application/x-ndjson' } })
  t.match(nd.headers['content-type'], /application\/x-ndjson/)
  const lines = nd.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(lines.length, 8)
  t.ok(lines.every((l) => l._log === 'ssl' && l._agent === a.agentId))
  const capped = await c.app.inject({ method: 'GET', url: '/api/v1/app-records?limit=3', headers: { ...H, accept: 'application/x-ndjson' } })
  const cl = capped.body.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.equal(cl.length, 4, '3 rows and the cursor')
  const rest = await page(c, `limit=1000&cursor=${String(cl[3]!.next_cursor)}`)
  t.same([...cl.slice(0, 3), ...rest.app_records].map((r) => `${String(r.uid)}@${String(r.ts)}`), want, 'the export cursor continues where it stopped')
})

t.test('a row hours later than its segment\'s oldest is found (also after a restart); odd values are stored and listed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-app-records-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let c = await startCollector({}, dir)
  const a = await enrollAgent(c)
  const now = Date.now() * 1000
  // An ssh or ftp row of a long connection is written hours after the batch's other rows' times.
  const spread = [row('ssh', now - 2 * 3600_000_000, 'ClongAgo', v4(10, 0, 0, 1), v4(192, 0, 2, 1), 22, {}), row('http', now, 'Cnow', v4(10, 0, 0, 1), v4(192, 0, 2, 1), 80, {})]
  t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, 1, 0, { appRecords: spread })))).statusCode, 200)
  t.same(uids(await page(c, 'from=-10m')), ['Cnow'], 'live')
  await c.close()
  c = await startCollector({}, dir)
  t.teardown(() => c.close())
  t.same(uids(await page(c, 'from=-10m')), ['Cnow'], 'after a restart (the span is kept in the store)')

  const odd = [
    row('dns', -5, 'Cnegative', v4(10, 0, 0, 1), v4(10, 0, 0, 53), 53, { query: 'negative.example' }),
    row('dns', 2 ** 62, 'Cfuture', v4(10, 0, 0, 1), v4(10, 0, 0, 53), 53, { query: 'future.example' }),
    { ...row('http', now, 'CbadPort', v4(10, 0, 0, 1), v4(192, 0, 2, 1), 80, {}), respP: 70_000 },
    // A 5-byte address, no uid: stored; the host filter skips it.
    { log: 'weird', tsUs: now, origH: Buffer.from([1, 2, 3, 4, 5]), zeekJson: '{"ts":1}' },
  ]
  t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, 2, 0, { appRecords: odd })))).statusCode, 200, 'odd values do not break the batch')
  t.same(uids(await page(c, 'limit=100')), ['Cnegative', 'Cfuture', 'CbadPort', undefined, 'ClongAgo', 'Cnow'], 'every row listed, in (segment, index) order')
  t.same(uids(await page(c, 'from=-10m')), ['Cfuture', 'CbadPort', undefined, 'Cnow'], 'the far future counts as the end of time')
  t.same(uids(await page(c, 'to=1970-01-02T00:00:00Z')), ['Cnegative'], 'before 1970 counts as 1970')
  t.same(uids(await page(c, 'host=1.2.3.4')), [], 'a 5-byte address matches no host')
  t.same(uids(await page(c, 'host=192.0.2.1&log=http')), ['CbadPort', 'Cnow'])
})

t.test('a row whose zeek_json is not a JSON object comes back as _invalid_json; a row cannot pose as another log or agent', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const texts = ['{"ts":1, broken', '[1,2,3]', '"just a string"', 'null', '', '{"ts":1,"_log":"conn","_agent":"agt_forged","query":"x"}']
  const recs = texts.map((zeekJson, i): AppRecordProperties => ({ log: 'dns', tsUs: T0 + i, uid: `Cbad${i}`, zeekJson }))
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 1, 0, { appRecords: recs })), GZ)).statusCode, 200)
  const got = (await page(c, '')).app_records
  t.same(got.slice(0, 5), texts.slice(0, 5).map((text) => ({ _log: 'dns', _agent: a.agentId, _invalid_json: text })))
  t.same(got[5], { ts: 1, _log: 'dns', _agent: a.agentId, query: 'x' }, 'the collector\'s _log/_agent win')
  const nd = await c.app.inject({ method: 'GET', url: '/api/v1/app-records?q=broken', headers: { ...H, accept: 'application/x-ndjson' } })
  t.same(nd.body.trim().split('\n').map((l) => JSON.parse(l) as unknown), [{ _log: 'dns', _agent: a.agentId, _invalid_json: texts[0] }])
})

t.test('malformed app_records entries are refused as MALFORMED_BATCH; they count against max_entries_per_batch', async (t) => {
  const c = await startCollector({ 'ingest.max_entries_per_batch': 100 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const base = (seq: number): Buffer => Buffer.from(encodeBatch(batch(a.agentId, seq, 0)))
  const entry = (inner: number[]): number[] => [0x62, inner.length, ...inner]
  const cases: Array<[string, number[], RegExp]> = [
    ['field 12 as a varint', [0x60, 0x05], /app_records entry with wire type 0/],
    ['field 12 as fixed64', [0x61, 1, 2, 3, 4, 5, 6, 7, 8], /app_records entry with wire type 1/],
    ['ts_us as bytes', entry([0x12, 1, 0x41]), /app record 0: field 2 has wire type 2, expected 0/],
    ['log as a varint', entry([0x08, 0x05]), /app record 0: field 1 has wire type 0, expected 2/],
    ['resp_p as bytes', entry([0x0a, 1, 0x41, 0x32, 0]), /app record 0: field 6 has wire type 2, expected 0/],
    ['zeek_json as fixed32', entry([0x3d, 1, 2, 3, 4]), /app record 0: field 7 has wire type 5, expected 2/],
    ['truncated inner length', entry([0x3a, 9, 0x41]), /app record 0: bad value of wire type 2 in field 7/],
  ]
  let seq = 0
  for (const [name, extra, re] of cases) {
    const r = await post(c, a.secret, Buffer.concat([base(++seq), Buffer.from(extra)]))
    t.equal(r.statusCode, 400, name)
    t.equal((r.json() as { code: string }).code, 'COLLECTOR_ERR_MALFORMED_BATCH', name)
    t.match((r.json() as { message: string }).message, re, name)
  }
  const many = Array.from({ length: 101 }, (_, i): AppRecordProperties => ({ log: 'dns', tsUs: T0 + i, zeekJson: '{}' }))
  const r = await post(c, a.secret, gz(batch(a.agentId, ++seq, 0, { appRecords: many })), GZ)
  t.equal(r.statusCode, 413)
  t.equal((r.json() as { code: string }).code, 'COLLECTOR_ERR_TOO_MANY_FLOWS')
  // An unknown field inside an AppRecord is skipped (a newer agent), as everywhere in the protocol.
  const fine = await post(c, a.secret, Buffer.concat([base(++seq), Buffer.from(entry([0x0a, 3, 0x64, 0x6e, 0x73, 0x48, 7]))]))
  t.equal(fine.statusCode, 200, 'unknown field 9 (varint) is skipped')
  t.same((await page(c, '')).app_records, [{ _log: 'dns', _agent: a.agentId, _invalid_json: '' }])
  t.equal(c.ingest.counters.get('ingest_batches_total'), 1, 'nothing else stored')
})

t.test('retention expires app segments whose newest row is older than app_records_days', async (t) => {
  const c = await startCollector({ 'retention.app_records_days': 30 })
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const now = Math.floor(Date.now() / 1000) * 1_000_000
  const at = (days: number, uid: string): AppRecordProperties => row('dns', now - days * DAY_US, uid, v4(10, 0, 0, 1), v4(10, 0, 0, 53), 53, {})
  const batches = [[at(40, 'Cold')], [at(1, 'Crecent')], [at(45, 'ColdButSegmentRecent'), at(2, 'CsameSegment')]]
  let seq = 0
  for (const recs of batches) t.equal((await post(c, a.secret, gz(batch(a.agentId, ++seq, 0, { appRecords: recs })), GZ)).statusCode, 200)
  t.equal((await page(c, '')).app_records.length, 4)
  const run = await c.api.retention.runOnce(now)
  const abKeys = async (): Promise<number> => { let n = 0; for await (const _ of c.store.db.keys({ gte: Buffer.from('ab'), lt: Buffer.from('ac') })) n++; return n }
  // The two addresses' host-index buckets: one key per bucket and segment.
  const buckets = new Set([hostBucket(0x0a000001), hostBucket(0x0a000035)]).size
  t.equal(run.app_records, 1 + buckets, 'one segment deleted, with its host-index keys (10.0.0.1, 10.0.0.53)')
  t.equal(await abKeys(), 2 * buckets, 'the host-index keys of the two segments left')
  t.same(uids(await page(c, '')), ['ColdButSegmentRecent', 'CsameSegment', 'Crecent'], 'a segment goes with its newest row')
  t.same(uids(await page(c, 'host=10.0.0.53')), ['ColdButSegmentRecent', 'CsameSegment', 'Crecent'], 'and the host index with it')
  t.equal((await c.api.retention.runOnce(now)).app_records, 0)
})

t.test('a store and an agent record from before app records keep working', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-app-old-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let c = await startCollector({}, dir)
  const a = await enrollAgent(c)
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 1, 3, { events: [{ timestampMs: T0 / 1000, eventDataset: 'sshd', message: 'old' }] })), GZ)).statusCode, 200, 'a batch without app records')
  t.same((await page(c, '')).app_records, [], 'no app records, no error')
  t.equal((await c.store.batches.batchRecord(1))?.appRecords, 0)
  await c.close()
  // Rewrite the agent record as an older collector wrote it (no app-record totals).
  const s = new CollectorStore({ dataDir: dir, sync: false })
  await s.open()
  const rec = JSON.parse((await s.db.get(keys.agent(a.agentId)))!.toString('utf8')) as Record<string, unknown>
  delete rec.appRecords
  rec.gapRecords = { flows: 2, events: 0, observations: 0 }
  await s.db.write([{ type: 'put', key: keys.agent(a.agentId), value: Buffer.from(JSON.stringify(rec)) }])
  await s.close()
  c = await startCollector({}, dir)
  t.teardown(() => c.close())
  const listed = (await c.app.inject({ method: 'GET', url: '/api/v1/agents', headers: H })).json() as { agents: Array<Record<string, unknown>> }
  t.match(listed.agents[0], { app_records: 0, gap_records: { flows: 2, app_records: 0 } }, 'old record read with zero app totals')
  const gaps = [{ kind: GapKind.GAP_KIND_APP_RECORDS, count: 5, reason: GapReason.GAP_REASON_SPOOL_FULL }]
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 2, 1, { appRecords: rows(T0).slice(0, 2), gaps })), GZ)).statusCode, 200)
  t.match(await c.store.agents.get(a.agentId), { batches: 2, flows: 4, events: 1, appRecords: 2, gapRecords: { flows: 2, appRecords: 5 } }, 'totals continue, no NaN')
  t.same(uids(await page(c, '')), ['CdnsA1', 'CdnsA2'])
  t.equal(((await c.app.inject({ method: 'GET', url: '/api/v1/events', headers: H })).json() as { events: unknown[] }).events.length, 1, 'events still served')
})

t.test('segments are stored DEFLATEd; a corrupt stored segment is skipped, not a 500', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  // Many similar rows, as real DNS traffic is: DEFLATE shrinks them.
  const many = Array.from({ length: 200 }, (_, i) => row('dns', T0 + i * 1000, `Cz${i}`, v4(10, 0, 0, 5), v4(10, 0, 0, 53), 53, { proto: 'udp', query: `host${i}.example.com`, qtype_name: 'A', rcode_name: 'NOERROR' }))
  t.equal((await post(c, a.secret, gz(batch(a.agentId, 1, 0, { appRecords: many })), GZ)).statusCode, 200)
  const stored: Buffer[] = []
  for await (const [, v] of c.store.db.entries({ gte: keys.appSegment(0, 0), lte: keys.appSegment(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER) })) stored.push(v)
  t.equal(stored.length, 1)
  t.equal(stored[0]![8], 1, 'codec byte: DEFLATE')
  const rawBytes = many.reduce((n, r) => n + (r.zeekJson as string).length, 0)
  t.ok(stored[0]!.length < rawBytes / 3, `stored ${stored[0]!.length} B for ${rawBytes} B of JSON`)
  t.equal((await page(c, 'log=dns&limit=1000')).app_records.length, 200, 'read back whole')
  // Disk damage: a segment whose DEFLATE stream is garbage, next to the good one.
  await c.store.db.write([{ type: 'put', key: keys.appSegment(T0 - 5, 999_999), value: Buffer.concat([Buffer.alloc(8, 0xff), Buffer.from([1]), Buffer.from('not deflate at all')]) }])
  const after = await c.app.inject({ method: 'GET', url: '/api/v1/app-records?log=dns&limit=1000', headers: H })
  t.equal(after.statusCode, 200)
  t.equal((after.json() as Page).app_records.length, 200, 'the corrupt segment is skipped')
})

t.test('a host filter reads only the segments its postings name (no scan of the time range)', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  let seq = 0
  // 30 batches: the host 10.9.9.9 is in two rows of batch 7 and one of batch 21.
  for (let b = 0; b < 30; b++) {
    const recs = Array.from({ length: 20 }, (_, i) => row('dns', T0 + b * 1_000_000 + i, `C${b}-${i}`, v4(10, 0, 1, i), v4(10, 0, 0, 53), 53, { query: `q${i}.example` }))
    if (b === 7) { recs[3] = row('dns', T0 + b * 1_000_000 + 3, 'Chit1', v4(10, 9, 9, 9), v4(10, 0, 0, 53), 53, {}); recs[15] = row('http', T0 + b * 1_000_000 + 15, 'Chit2', v4(10, 0, 1, 1), v4(10, 9, 9, 9), 80, {}) }
    if (b === 21) recs[0] = row('ssl', T0 + b * 1_000_000, 'Chit3', v6(9), v4(10, 9, 9, 9), 443, {})
    t.equal((await post(c, a.secret, gz(batch(a.agentId, ++seq, 0, { appRecords: recs })), GZ)).statusCode, 200)
  }
  let scans = 0
  const scan = c.store.flows.appSegments.bind(c.store.flows)
  c.store.flows.appSegments = (...args: Parameters<typeof scan>) => { scans++; return scan(...args) }
  const reads: Buffer[] = []
  const get = c.store.db.get.bind(c.store.db)
  c.store.db.get = async (k: Buffer) => { if (k.subarray(0, 2).toString() === 'ap') reads.push(k); return get(k) }
  t.same(uids(await page(c, 'host=10.9.9.9')), ['Chit1', 'Chit2', 'Chit3'])
  t.equal(scans, 0, 'the time-range scan is not used')
  t.equal(reads.length, 2, 'two segments read of thirty')
  // Paging through the index keeps the cursor's order.
  const p1 = await page(c, 'host=10.9.9.9&limit=2')
  t.same(uids(p1), ['Chit1', 'Chit2'])
  t.same(uids(await page(c, `host=10.9.9.9&limit=2&cursor=${p1.next_cursor}`)), ['Chit3'])
  t.same(uids(await page(c, 'host=10.9.9.9&log=http')), ['Chit2'], 'with another filter')
  t.equal(uids(await page(c, 'host=10.0.1.3')).length, 29, 'a host in every batch but one')
})
