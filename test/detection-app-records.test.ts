// Detection from the agent's application-log rows (AppRecord): the DNS TXT/NULL and query-name
// rules of dns_tunnel, clear-text credentials from ftp/http rows, intel matches on DNS
// queries, SNI, JA3/JA4, certificate fingerprints and URLs — as pure detectors fed through the
// engine, and end to end through a collector's ingest.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { AppRecord, PROTOCOL_VERSION, type HostObservation } from '../protocol/index.js'
import { DetectionConfigSchema, type DetectionConfig } from '../collector/detection/detection-config.js'
import { DetectionEngine } from '../collector/detection/detection-engine.js'
import type { Finding } from '../collector/detection/detection-types.js'
import type { IntelLookup, IntelMatchResult } from '../collector/detection/intel-match-detector.js'
import { ADMIN, enrollAgent, gz, post, startCollector } from './collector-fixtures.js'

const T0 = 1_700_000_000_000_000
const S = 1_000_000

function cfg(over: (c: DetectionConfig) => void = () => {}): DetectionConfig {
  const c = Value.Default(DetectionConfigSchema, {}) as DetectionConfig
  over(c)
  return c
}

const v4 = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number))

let uidN = 0
function row(log: string, tsUs: number, orig: string, resp: string, respP: number, cols: Record<string, unknown>): AppRecord {
  const uid = `Ca${uidN++}`
  const json = { ts: tsUs / 1e6, uid, 'id.orig_h': orig, 'id.orig_p': 40000, 'id.resp_h': resp, 'id.resp_p': respP, ...cols }
  return AppRecord.create({ log, tsUs, uid, origH: v4(orig), respH: v4(resp), respP, zeekJson: JSON.stringify(json) })
}

const dns = (i: number, query: string, qtype = 'A', orig = '10.0.0.5'): AppRecord =>
  row('dns', T0 + i * S, orig, '10.0.0.53', 53, { proto: 'udp', query, qtype_name: qtype, rcode_name: 'NOERROR' })

function run(c: DetectionConfig, batches: Array<{ agent?: string; apps?: AppRecord[]; obs?: HostObservation[] }>, intel?: IntelLookup): Finding[] {
  const e = new DetectionEngine(c, intel ? { intel } : {})
  const out: Finding[] = []
  for (const b of batches) e.processBatch({ agentId: b.agent ?? 'a1', flows: [], events: [], observations: b.obs ?? [], gaps: [], appRecords: b.apps ?? [] }, (f) => out.push(f))
  return out
}

t.test('dns_tunnel: TXT/NULL queries for distinct names under one domain, per client', async (t) => {
  const c = cfg((x) => { x.dns_tunnel.txt_queries = 50 })
  const txt = (n: number, qtype = 'TXT', orig = '10.0.0.5') => Array.from({ length: n }, (_, i) => dns(i, `m${i}.t.evil-tunnel.net`, qtype, orig))
  t.equal(run(c, [{ apps: txt(49) }]).filter((f) => f.key.startsWith('txt:')).length, 0, '49 TXT names: below the threshold')
  const hit = run(c, [{ apps: txt(60) }]).filter((f) => f.key.startsWith('txt:'))
  t.equal(hit.length, 11, 'fires at the 50th name, then one finding per further name')
  t.equal(hit[0]!.key, 'txt:10.0.0.5|evil-tunnel.net')
  t.equal(hit[0]!.count, 50)
  t.equal(hit[0]!.src, '10.0.0.5')
  t.equal(hit[0]!.dst, '10.0.0.53')
  t.ok(hit[0]!.evidence.flowUids!.length > 0, 'uids of the rows as evidence')
  t.match(hit[0]!.summary, /TXT\/NULL names under evil-tunnel\.net/)
  t.equal(run(c, [{ apps: txt(60, 'NULL') }]).filter((f) => f.key.startsWith('txt:')).length, 11, 'NULL counts as TXT')
  t.equal(run(c, [{ apps: txt(60, 'A') }]).filter((f) => f.key.startsWith('txt:')).length, 0, 'A queries are not the TXT rule')
  const same = Array.from({ length: 100 }, (_, i) => dns(i, 'x.t.evil-tunnel.net', 'TXT'))
  t.equal(run(c, [{ apps: same }]).length, 0, 'the same name 100 times is one name')
  const spread = [...txt(30, 'TXT', '10.0.0.5'), ...txt(30, 'TXT', '10.0.0.6')]
  t.equal(run(c, [{ apps: spread }]).filter((f) => f.key.startsWith('txt:')).length, 0, 'per client: 30 + 30 from two clients does not fire')
  t.equal(run(cfg((x) => { x.dns_tunnel.enabled = false }), [{ apps: txt(60) }]).length, 0, 'disabled')
})

t.test('dns_tunnel: query names from dns rows feed the names rule, once per name, without reverse/mDNS names', async (t) => {
  const c = cfg((x) => { x.dns_tunnel.unique_subdomains = 100 })
  const names = (n: number) => Array.from({ length: n }, (_, i) => dns(i, `h${i}.cdn-example.com`))
  t.equal(run(c, [{ apps: names(99) }]).length, 0)
  const f = run(c, [{ apps: names(100) }])
  t.equal(f.length, 1)
  t.equal(f[0]!.key, 'name:cdn-example.com')
  // 60 names seen both as an answer's observation and as a query row: 60 names, not 120.
  const obs = (i: number): HostObservation => ({ tsUs: T0 + i * S, ip: v4('192.0.2.1'), name: `h${i}.cdn-example.com`, nameSource: 3, mac: Buffer.alloc(0), iface: '' } as unknown as HostObservation)
  t.equal(run(c, [{ apps: names(60), obs: Array.from({ length: 60 }, (_, i) => obs(i)) }]).length, 0, 'a name seen both ways counts once')
  const ptr = Array.from({ length: 300 }, (_, i) => dns(i, `${i % 250}.${i >> 8}.0.10.in-addr.arpa`, 'PTR'))
  const mdns = Array.from({ length: 300 }, (_, i) => dns(i, `device-${i}.local`))
  t.equal(run(c, [{ apps: [...ptr, ...mdns] }]).length, 0, 'reverse lookups and .local names are not tunnel names')
})

t.test('cleartext_credentials from ftp and http rows: the user, never the password; guests are not credentials', async (t) => {
  const c = cfg()
  const ftp = (user: string, password: string | undefined) => row('ftp', T0, '10.0.0.7', '10.0.0.21', 21, { user, ...(password !== undefined ? { password } : {}), command: 'RETR' })
  const http = (cols: Record<string, unknown>) => row('http', T0, '10.0.0.7', '10.0.0.80', 8080, { method: 'GET', host: 'intranet', uri: '/', ...cols })
  const f = run(c, [{ apps: [ftp('alice', '<hidden>')] }])
  t.equal(f.length, 1)
  t.equal(f[0]!.type, 'cleartext_credentials')
  t.equal(f[0]!.key, '10.0.0.7|10.0.0.21|ftp', 'the same incident key as the flow-based finding: one alert')
  t.match(f[0]!.summary, /user "alice" to FTP on 10\.0\.0\.21:21/)
  t.equal(run(c, [{ apps: [ftp('anonymous', 'me@example.org')] }]).length, 0, 'an anonymous login is not a credential')
  t.equal(run(c, [{ apps: [ftp('guest', undefined)] }]).length, 0, 'guest ids are not credentials')
  t.equal(run(c, [{ apps: [ftp('<unknown>', undefined)] }]).length, 0, 'no USER seen')
  const h = run(c, [{ apps: [http({ username: 'bob', password: 's3cret' })] }])
  t.equal(h.length, 1)
  t.equal(h[0]!.key, '10.0.0.7|10.0.0.80|http')
  t.equal(h[0]!.port, 8080)
  t.match(h[0]!.summary, /user "bob" to HTTP Basic authentication/)
  t.notMatch(JSON.stringify(h[0]), /s3cret/, 'the password is in no field of the finding')
  t.equal(run(c, [{ apps: [http({})] }]).length, 0, 'no credentials in the request')
  t.equal(run(cfg((x) => { x.cleartext_credentials.http_basic_auth = false }), [{ apps: [http({ username: 'bob' })] }]).length, 0, 'http_basic_auth: false')
  t.equal(run(cfg((x) => { x.cleartext_credentials.services = ['telnet'] }), [{ apps: [ftp('alice', '<hidden>')] }]).length, 0, 'ftp not among the services')
})

/** A feed in memory: exact values by kind; domains match their subdomains. */
function intelOf(entries: Array<[kind: string, value: string]>): IntelLookup {
  const res = (kind: string, indicator: string): IntelMatchResult => ({ feed: 'test', kind, indicator, label: '' })
  const has = (k: string, v: string) => entries.some(([a, b]) => a === k && b === v)
  return {
    empty: entries.length === 0,
    matchIpV4: () => undefined,
    matchIp: () => undefined,
    matchDomain: (name) => {
      const n = name.toLowerCase()
      const e = entries.find(([k, v]) => k === 'domain' && (n === v || n.endsWith(`.${v}`)))
      return e ? res('domain', e[1]) : undefined
    },
    matchUrl: (url) => (has('url', url) ? res('url', url) : undefined),
    matchHash: (kind, value) => (has(kind, value.toLowerCase()) ? res(kind, value.toLowerCase()) : undefined),
  }
}

t.test('intel_match on app rows: DNS queries (answered or not), SNI, JA3/JA4, certificate fingerprints, URLs — with the client', async (t) => {
  const c = cfg()
  const intel = intelOf([['domain', 'c2.example'], ['ja3', 'e7d705a3286e19ea42f587b344ee6865'], ['ja4', 't13d1516h2_8daaf6152771_02713d6af862'], ['cert_hash', 'ab'.repeat(32)], ['url', 'http://dl.example.org/payload.bin']])
  const q = run(c, [{ apps: [row('dns', T0, '10.0.0.9', '10.0.0.53', 53, { query: 'x1.c2.example', qtype_name: 'A', rcode_name: 'NXDOMAIN' })] }], intel)
  t.equal(q.length, 1, 'an unanswered query matches')
  t.equal(q[0]!.type, 'intel_match')
  t.equal(q[0]!.src, '10.0.0.9', 'the client that asked is the local host')
  t.equal(q[0]!.key, 'c2.example|10.0.0.9')
  t.match(q[0]!.summary, /via dns query x1\.c2\.example/)
  const cname = run(c, [{ apps: [row('dns', T0, '10.0.0.9', '10.0.0.53', 53, { query: 'innocent.example.com', answers: ['edge.c2.example', '192.0.2.7'] })] }], intel)
  t.equal(cname.length, 1, 'a CNAME target among the answers matches')
  const ssl = (cols: Record<string, unknown>) => row('ssl', T0, '10.0.0.9', '198.51.100.4', 443, { version: 'TLSv12', ...cols })
  t.equal(run(c, [{ apps: [ssl({ server_name: 'api.c2.example' })] }], intel)[0]?.evidence.indicator, 'c2.example', 'SNI')
  const ja3 = run(c, [{ apps: [ssl({ server_name: 'fine.example.net', ja3: 'E7D705A3286E19EA42F587B344EE6865' })] }], intel)
  t.equal(ja3.length, 1, 'JA3 (case-insensitive)')
  t.equal(ja3[0]!.dst, '198.51.100.4', 'the server is the remote side')
  t.equal(run(c, [{ apps: [ssl({ ja4: 't13d1516h2_8daaf6152771_02713d6af862' })] }], intel).length, 1, 'JA4')
  t.equal(run(c, [{ apps: [ssl({ cert_chain_fps: ['00'.repeat(32), 'ab'.repeat(32)] })] }], intel).length, 1, 'a certificate of the chain')
  const http = (host: string, uri: string) => row('http', T0, '10.0.0.9', '203.0.113.8', 80, { method: 'GET', host, uri })
  t.equal(run(c, [{ apps: [http('dl.example.org', '/payload.bin')] }], intel).length, 1, 'URL')
  t.equal(run(c, [{ apps: [http('www.c2.example:8080', '/')] }], intel).length, 1, 'Host header (port stripped)')
  t.equal(run(c, [{ apps: [http('dl.example.org', '/other'), ssl({ server_name: 'fine.example.net', ja3: '00'.repeat(16) })] }], intel).length, 0, 'no match, no finding')
  t.equal(run(c, [{ apps: [row('dns', T0, '10.0.0.9', '10.0.0.53', 53, { query: 'x1.c2.example' })] }], intelOf([])).length, 0, 'no feeds: nothing')
})

t.test('intel_match: an agent that ships rows of a log has its observations of that kind skipped (one sighting, one alert)', async (t) => {
  const c = cfg()
  const intel = intelOf([['domain', 'c2.example']])
  const sni: HostObservation = { tsUs: T0, ip: v4('198.51.100.4'), name: 'api.c2.example', nameSource: 6, mac: Buffer.alloc(0), iface: '' } as unknown as HostObservation
  const ssl = row('ssl', T0, '10.0.0.9', '198.51.100.4', 443, { server_name: 'api.c2.example' })
  const both = run(c, [{ apps: [ssl], obs: [sni] }], intel)
  t.equal(both.length, 1, 'the row and its observation in one batch: one finding')
  t.equal(both[0]!.src, '10.0.0.9')
  const later = run(c, [{ apps: [ssl] }, { obs: [sni] }], intel)
  t.equal(later.length, 1, 'a later batch with only the observation: still skipped for that agent')
  t.equal(run(c, [{ apps: [ssl] }, { agent: 'a2', obs: [sni] }], intel).length, 2, 'another agent without ssl rows: its observation counts')
  const dnsRows = run(c, [{ apps: [dns(0, 'www.example.com')] }, { obs: [sni] }], intel)
  t.equal(dnsRows.length, 1, 'dns rows do not switch off SNI observations')
})

t.test('a row whose JSON is broken or not an object is read as having no columns', async (t) => {
  const c = cfg((x) => { x.dns_tunnel.txt_queries = 1 })
  const bad = ['{', '[1,2]', '"text"', 'null', '{"query": 5, "qtype_name": ["TXT"]}'].map((z, i) => AppRecord.create({ log: 'dns', tsUs: T0 + i, uid: `Cb${i}`, origH: v4('10.0.0.5'), respH: v4('10.0.0.53'), respP: 53, zeekJson: z }))
  t.same(run(c, [{ apps: bad }], intelOf([['domain', 'c2.example']])), [])
})

t.test('end to end: rows in an ingested batch reach detection and become alerts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-det-app-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const c = await startCollector({}, dir)
  t.teardown(() => c.close())
  const { agentId, secret } = await enrollAgent(c)
  const appRecords = [
    ...Array.from({ length: 60 }, (_, i) => dns(i, `d${i}.q.tunnel-test.org`, 'TXT', '10.1.0.5')),
    row('http', T0 + 70 * S, '10.1.0.6', '10.1.0.80', 80, { method: 'GET', host: 'printer', uri: '/admin', username: 'admin' }),
  ]
  const r = await post(c, secret, gz({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: 1, sentAtUs: Date.now() * 1000, appRecords }), { 'content-encoding': 'gzip' })
  t.equal(r.statusCode, 200, 'the batch is accepted')
  await c.detection.detection.idle()
  const alerts = (await c.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { authorization: `Bearer ${ADMIN}` } })).json().alerts as Array<{ type: string; key: string; src: string; count: number }>
  const byType = (ty: string) => alerts.filter((a) => a.type === ty)
  t.equal(byType('dns_tunnel').length, 1)
  t.equal(byType('dns_tunnel')[0]!.src, '10.1.0.5')
  t.equal(byType('dns_tunnel')[0]!.count, 60)
  t.equal(byType('cleartext_credentials').length, 1)
  t.equal(byType('cleartext_credentials')[0]!.src, '10.1.0.6')
  t.equal(c.detection.detection.counters.get('detection_app_records_total'), 61)
})

t.test('a batch of many app rows is examined in parts (the event loop is not held for all of them), each row once', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-det-app-slices-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const c = await startCollector({ 'detection.dns_tunnel.txt_queries': 50 }, dir)
  t.teardown(() => c.close())
  const { agentId, secret } = await enrollAgent(c)
  const engine = c.detection.detection.engine
  const sizes: number[] = []
  const processBatch = engine.processBatch.bind(engine)
  engine.processBatch = (b, emit) => { sizes.push(b.appRecords?.length ?? 0); processBatch(b, emit) }
  const appRecords = Array.from({ length: 1100 }, (_, i) => dns(i, `s${i}.q.sliced-tunnel.org`, 'TXT', '10.2.0.5'))
  const r = await post(c, secret, gz({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: 1, sentAtUs: Date.now() * 1000, appRecords }), { 'content-encoding': 'gzip' })
  t.equal(r.statusCode, 200)
  await c.detection.detection.idle()
  t.same(sizes, [500, 500, 100], 'three parts of at most 500 rows')
  const alerts = (await c.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: { authorization: `Bearer ${ADMIN}` } })).json().alerts as Array<{ type: string; key: string; count: number }>
  // 1100 distinct names: the names rule fires as well as the TXT rule; each counts every row once.
  t.same(alerts.map((a) => [a.type, a.key, a.count]).sort(), [['dns_tunnel', 'name:sliced-tunnel.org', 1100], ['dns_tunnel', 'txt:10.2.0.5|sliced-tunnel.org', 1100]], 'every row counted once')
  t.equal(c.detection.detection.counters.get('detection_app_records_total'), 1100)
})
