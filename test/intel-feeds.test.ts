// Threat intel: CSV, STIX 2.1 and MISP feeds each produce matches (parsers, the API and
// detection on ingested flows); CIDR and subdomain matching; file feeds reloaded on change.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { parseFeed, detectFormat } from '../collector/intel/parse-feed.js'
import { IntelService } from '../collector/intel/intel-service.js'
import { IpPrefixTable } from '../collector/intel/ip-prefix-table.js'
import { PROTOCOL_VERSION, type FlowProperties } from '../protocol/index.js'
import { ADMIN, enrollAgent, gz, post, startCollector } from './collector-fixtures.js'

const STIX = JSON.stringify({
  type: 'bundle', id: 'bundle--5d0092c5', objects: [
    { type: 'indicator', spec_version: '2.1', id: 'indicator--a', name: 'Bad IP', pattern: "[ipv4-addr:value = '198.18.5.5']", pattern_type: 'stix', valid_from: '2020-01-01T00:00:00Z' },
    { type: 'indicator', spec_version: '2.1', id: 'indicator--b', name: 'Bad net', pattern: "[ipv4-addr:value ISSUBSET '100.64.8.0/22']", pattern_type: 'stix' },
    { type: 'indicator', spec_version: '2.1', id: 'indicator--c', name: 'C2', pattern: "[domain-name:value = 'c2.example.org'] OR [url:value = 'http://c2.example.org/x']", pattern_type: 'stix' },
    { type: 'indicator', spec_version: '2.1', id: 'indicator--d', name: 'cert', pattern: "[x509-certificate:hashes.'SHA-256' = 'AB' ]", pattern_type: 'stix' },
    { type: 'indicator', spec_version: '2.1', id: 'indicator--e', name: 'expired', pattern: "[ipv4-addr:value = '198.18.6.6']", pattern_type: 'stix', valid_until: '2001-01-01T00:00:00Z' },
    { type: 'indicator', spec_version: '2.1', id: 'indicator--f', name: 'revoked', pattern: "[ipv4-addr:value = '198.18.7.7']", pattern_type: 'stix', revoked: true },
    { type: 'indicator', spec_version: '2.1', id: 'indicator--g', name: 'sigma', pattern: 'title: x', pattern_type: 'sigma' },
    { type: 'malware', id: 'malware--1', name: 'x' },
  ],
})
const MISP = JSON.stringify({ Event: { info: 'Campaign X', Attribute: [
  { type: 'ip-dst', value: '198.18.9.9', to_ids: true, category: 'Network activity' },
  { type: 'ip-dst|port', value: '198.18.9.10|443', to_ids: true },
  { type: 'domain', value: 'bad.example.com', to_ids: true },
  { type: 'ja3-fingerprint-md5', value: 'E7D705A3286E19EA42F587B344EE6865', to_ids: true },
  { type: 'ip-dst', value: '198.18.9.11', to_ids: false },
], Object: [{ Attribute: [{ type: 'x509-fingerprint-sha1', value: 'aa'.repeat(20), to_ids: true }] }] } })
const CSV = '# a comment\nindicator,type,description\n198.18.1.1,ip,scanner\n10.99.0.0/16,cidr,internal test\nphish.example.net,domain,phishing\nnot an indicator,,\n'

t.test('format detection and each parser', async (t) => {
  t.equal(detectFormat(STIX), 'stix')
  t.equal(detectFormat(MISP), 'misp')
  t.equal(detectFormat(CSV), 'csv')
  t.equal(detectFormat('1.2.3.4\n5.6.7.8\n'), 'csv')
  const s = parseFeed(STIX)
  t.ok(s.ok)
  if (!s.ok) return
  t.equal(s.index.matchIp('198.18.5.5')?.label, 'Bad IP')
  t.equal(s.index.matchIp('100.64.9.200')?.kind, 'cidr')
  t.equal(s.index.matchIp('100.64.12.1'), undefined)
  t.equal(s.index.matchDomain('www.c2.example.org')?.indicator, 'c2.example.org', 'subdomains match')
  t.ok(s.index.matchUrl('HTTP://C2.example.org/x'))
  t.equal(s.index.matchIp('198.18.6.6'), undefined, 'expired skipped')
  t.equal(s.index.matchIp('198.18.7.7'), undefined, 'revoked skipped')
  const m = parseFeed(MISP)
  t.ok(m.ok)
  if (!m.ok) return
  t.ok(m.index.matchIp('198.18.9.9'))
  t.ok(m.index.matchIp('198.18.9.10'), 'ip|port attribute')
  t.equal(m.index.matchIp('198.18.9.11'), undefined, 'to_ids false skipped')
  t.ok(m.index.matchDomain('x.bad.example.com'))
  t.ok(m.index.matchHash('ja3', 'e7d705a3286e19ea42f587b344ee6865'))
  t.ok(m.index.matchHash('cert_hash', 'AA'.repeat(20)))
  t.match(m.index.matchIp('198.18.9.9')?.label, /Campaign X/)
  const c = parseFeed(CSV)
  t.ok(c.ok)
  if (!c.ok) return
  t.equal(c.count, 3)
  t.equal(c.skipped, 1)
  t.ok(c.index.matchIp('10.99.200.1'))
  t.ok(c.index.matchDomain('login.phish.example.net'))
  t.equal(c.index.matchDomain('example.net'), undefined, 'a parent of a listed domain does not match')
  const bad = parseFeed('{"type": "bundle", ', 'stix')
  t.equal(bad.ok, false)
})

t.test('prefix table: longest match, IPv6, exact /32 among prefixes', async (t) => {
  const p = new IpPrefixTable()
  p.add('10.0.0.0/8', 1); p.add('10.1.0.0/16', 2); p.add('10.1.2.3', 3); p.add('2001:db8::/32', 4); p.add('2001:db8::1', 5); p.add('0.0.0.0/0', 6)
  p.seal()
  t.same(p.lookup('10.1.2.3'), { label: 3, bits: 32 })
  t.same(p.lookup('10.1.9.9'), { label: 2, bits: 16 })
  t.same(p.lookup('10.200.0.1'), { label: 1, bits: 8 })
  t.same(p.lookup('8.8.8.8'), { label: 6, bits: 0 })
  t.same(p.lookup('2001:db8::1'), { label: 5, bits: 128 })
  t.same(p.lookup('2001:db8:ffff::1'), { label: 4, bits: 32 })
  t.equal(p.lookup('2001:db9::1'), undefined)
  t.same(p.lookup('::ffff:10.1.2.3'), { label: 3, bits: 32 })
})

t.test('feeds through the API each produce intel_match alerts from ingested flows', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const auth = { authorization: `Bearer ${ADMIN}` }
  for (const [name, body, ct] of [['stix', STIX, 'application/json'], ['misp', MISP, 'application/json'], ['csv', CSV, 'text/csv']] as const) {
    const r = await c.app.inject({ method: 'POST', url: `/api/v1/intel/feeds?name=${name}`, headers: { ...auth, 'content-type': ct }, payload: body })
    t.equal(r.statusCode, 201, `${name}: ${r.body}`)
    t.equal(r.json().format, name)
  }
  const bad = await c.app.inject({ method: 'POST', url: '/api/v1/intel/feeds?name=bad&format=misp', headers: { ...auth, 'content-type': 'application/json' }, payload: '{nope' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'COLLECTOR_ERR_INTEL_FEED_INVALID')
  const noauth = await c.app.inject({ method: 'POST', url: '/api/v1/intel/feeds?name=x', headers: { 'content-type': 'text/plain' }, payload: '1.2.3.4' })
  t.equal(noauth.statusCode, 401)
  const list = await c.app.inject({ method: 'GET', url: '/api/v1/intel/feeds', headers: auth })
  t.same(list.json().feeds.map((f: { name: string }) => f.name).sort(), ['csv', 'misp', 'stix'])
  const m = await c.app.inject({ method: 'GET', url: '/api/v1/intel/match?value=sub.phish.example.net', headers: auth })
  t.equal(m.json().match.feed, 'csv')

  const { agentId, secret } = await enrollAgent(c)
  const T = 1_700_000_000_000_000
  const f = (i: number, resp: number[]): FlowProperties => ({ tsUs: T + i * 1000, origH: Buffer.from([10, 0, 0, 50]), respH: Buffer.from(resp), origP: 40000 + i, respP: 443, proto: 1, connState: 3, history: 'ShADadFf', uid: `Cint${i}`, ipProto: 6, origPkts: 3, respPkts: 3, communityIdDerived: true })
  const flows = [f(1, [198, 18, 5, 5]), f(2, [100, 64, 10, 1]), f(3, [198, 18, 9, 9]), f(4, [198, 18, 1, 1]), f(5, [10, 99, 1, 1]), f(6, [198, 18, 5, 5]), f(7, [8, 8, 8, 8])]
  const r = await post(c, secret, gz({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: 1, sentAtUs: Date.now() * 1000, flows }), { 'content-encoding': 'gzip' })
  t.equal(r.statusCode, 200)
  await c.detection.detection.idle()
  const alerts = (await c.app.inject({ method: 'GET', url: '/api/v1/alerts?type=intel_match', headers: auth })).json().alerts as Array<{ dst: string; count: number; evidence: { intel_source: string; indicator: string } }>
  const by = Object.fromEntries(alerts.map((a) => [a.dst, a]))
  t.equal(alerts.length, 5, 'five distinct indicators, the repeated one is the same incident')
  t.equal(by['198.18.5.5']?.evidence.intel_source, 'stix')
  t.equal(by['198.18.5.5']?.count, 2)
  t.equal(by['100.64.10.1']?.evidence.indicator, '100.64.8.0/22')
  t.equal(by['198.18.9.9']?.evidence.intel_source, 'misp')
  t.equal(by['198.18.1.1']?.evidence.intel_source, 'csv')
  t.equal(by['10.99.1.1']?.evidence.intel_source, 'csv')
  // API feeds survive a restart
  const del = await c.app.inject({ method: 'DELETE', url: '/api/v1/intel/feeds/csv', headers: auth })
  t.equal(del.statusCode, 200)
})

t.test('API feeds are persisted; file feeds are reloaded when they change', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-intel-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const c1 = await startCollector({}, join(dir, 'data'))
  await c1.app.inject({ method: 'POST', url: '/api/v1/intel/feeds?name=keep', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/plain' }, payload: '203.0.113.9\n' })
  await c1.close()
  const c2 = await startCollector({}, join(dir, 'data'))
  t.ok(c2.detection.intel.matchIp('203.0.113.9'), 'reloaded from the store')
  await c2.close()

  const file = join(dir, 'feed.txt')
  writeFileSync(file, '192.0.2.1\n')
  const svc = new IntelService({ files: [file], reloadIntervalS: 3600, maxFeeds: 4 }, undefined, pino({ level: 'silent' }))
  await svc.start()
  t.teardown(() => svc.stop())
  t.ok(svc.matchIp('192.0.2.1'))
  writeFileSync(file, '192.0.2.2\nevil.example\n')
  utimesSync(file, new Date(), new Date(Date.now() + 5000))
  await svc.pollFiles()
  t.equal(svc.matchIp('192.0.2.1'), undefined, 'old content gone')
  t.ok(svc.matchIp('192.0.2.2'))
  t.ok(svc.matchDomain('a.evil.example'))
  t.equal(svc.feedInfos()[0]?.source, 'file')
})
