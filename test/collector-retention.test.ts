// The retention job (collector/retention/retention-job.ts) on a real collector: flows, events,
// hosts/edges, alerts and minute roll-ups expire at their configured ages, hour roll-ups keep
// the trend after the detail is gone, and what was deleted stays deleted after a restart.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PROTOCOL_VERSION, type BatchProperties, type FlowProperties } from '../protocol/index.js'
import type { Finding } from '../collector/detection/detection-types.js'
import { ADMIN, enrollAgent, gz, post, startCollector, type TestCollector } from './collector-fixtures.js'
import { loadConfig } from '../collector/config/load-config.js'
import type { CollectorConfig } from '../collector/config/config-schema.js'

const DAY_US = 86_400_000_000
// The shipped retention defaults (startCollector keeps everything unless told otherwise).
const defaults = loadConfig({ env: {}, flags: { data_dir: '/nonexistent' } })
if (!defaults.ok) throw new Error('default collector config does not load')
const DEFAULT_RETENTION: Record<string, unknown> = Object.fromEntries(Object.entries((defaults.config as CollectorConfig).retention).filter(([k]) => k.endsWith('_days')).map(([k, v]) => [`retention.${k}`, v]))
const NOW_US = Math.floor(Date.now() / 1000) * 1_000_000
const auth = { authorization: `Bearer ${ADMIN}` }
const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString()

/** `n` TCP flows from 10.9.0.<src> to 192.0.2.<dst>:443 starting at tsUs. */
function flows(src: number, dst: number, tsUs: number, n: number): FlowProperties[] {
  return Array.from({ length: n }, (_, i) => ({
    tsUs: tsUs + i * 1_000_000, origH: Buffer.from([10, 9, 0, src]), respH: Buffer.from([192, 0, 2, dst]), origP: 40_000 + i, respP: 443,
    proto: 1, ipProto: 6, connState: 3, history: 'ShADadFf', durationUs: 5000, origBytes: 100, respBytes: 900, origPkts: 4, origIpBytes: 300,
    respPkts: 4, respIpBytes: 1100, uid: `Cret${src}x${i}`, service: 'ssl', communityIdDerived: true,
  }))
}

/** The alerts this test makes (the detectors may add their own from the flows). */
const MINE = ['current', 'old', 'old-but-worked-on']

function finding(key: string, lastSeenUs: number): Finding {
  return {
    type: 'port_scan', key, severity: 'medium', score: 50, confidence: 0.9, mitre: 'T1046', src: '10.9.0.9', dst: '', port: 0,
    firstSeenUs: lastSeenUs - 1000, lastSeenUs, count: 1, summary: key, evidence: { flowUids: [] }, agents: ['a'],
  }
}

async function get(c: TestCollector, url: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = await c.app.inject({ method: 'GET', url, headers: auth })
  if (r.statusCode !== 200) throw new Error(`${url}: ${r.statusCode} ${r.body}`)
  return r.json()
}

t.test('retention expires each kind at its age; hour roll-ups keep the trend; deletions survive a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-retention-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let c = await startCollector(DEFAULT_RETENTION, dir)
  const { agentId, secret } = await enrollAgent(c)
  const ages: Array<[number, number, number]> = [[1, 50, NOW_US - 100 * DAY_US], [2, 51, NOW_US - 10 * DAY_US], [3, 52, NOW_US - 3600 * 1_000_000]]
  let seq = 0
  for (const [src, dst, ts] of ages) {
    const b: BatchProperties = { protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: ++seq, sentAtUs: NOW_US, flows: flows(src, dst, ts, 10) }
    // One log event 40 days old (expires: events are kept 30 days) and one a day old.
    if (src === 1) b.events = [{ timestampMs: Math.floor((NOW_US - 40 * DAY_US) / 1000), eventDataset: 'sshd', eventAction: 'ssh_login', eventOutcome: 'failure', message: 'old' }]
    if (src === 3) b.events = [{ timestampMs: Math.floor((NOW_US - DAY_US) / 1000), eventDataset: 'sshd', eventAction: 'ssh_login', eventOutcome: 'failure', message: 'recent' }]
    const r = await post(c, secret, gz(b), { 'content-encoding': 'gzip' })
    t.equal(r.statusCode, 200, `batch ${seq} stored`)
  }
  // Alerts: one untouched for 100 days (expires: alerts are kept 90), one as old but commented
  // on today (kept: its last activity is recent), one current.
  await c.detection.alerts.apply([finding('old', NOW_US - 100 * DAY_US), finding('old-but-worked-on', NOW_US - 100 * DAY_US)], Math.floor((NOW_US - 100 * DAY_US) / 1000))
  await c.detection.alerts.apply([finding('current', NOW_US - 1000)])
  const worked = (await get(c, '/api/v1/alerts')).alerts.find((a: { key: string }) => a.key === 'old-but-worked-on')
  t.equal((await c.app.inject({ method: 'PATCH', url: `/api/v1/alerts/${worked.id}`, headers: auth, payload: { comment: 'still investigating' } })).statusCode, 200)
  await c.api.topology.settle()

  const all = `from=${iso(NOW_US - 101 * DAY_US)}&to=${iso(NOW_US + DAY_US)}`
  const srcOf = (f: { orig_h: string }): string => f.orig_h
  t.equal((await get(c, `/api/v1/flows?${all}&limit=1000`)).flows.length, 30, 'before: every flow')
  const trend = async (): Promise<number> => (await get(c, `/api/v1/timeseries?${all}&interval=86400`)).points.reduce((a: number, p: { flows: number }) => a + p.flows, 0)
  t.equal(await trend(), 30, 'before: daily trend from hour roll-ups')
  t.equal((await get(c, `/api/v1/events?${all}`)).events.length, 2)
  t.equal((await get(c, `/api/v1/hosts?${all}&cidr=10.9.0.0/16`)).total, 3)
  const mine = async (c: TestCollector): Promise<string[]> => ((await get(c, '/api/v1/alerts')).alerts as Array<{ key: string }>).map((a) => a.key).filter((k) => MINE.includes(k)).sort()
  t.same(await mine(c), ['current', 'old', 'old-but-worked-on'])

  const run = await c.api.retention.runOnce(NOW_US)
  t.ok(run.flows > 0, `flow keys deleted (${run.flows})`)
  t.ok(run.events > 0, 'event keys deleted')
  t.equal(run.hosts, 2, 'the two hosts seen only 100 days ago')
  t.equal(run.edges, 1, 'their edge')
  t.equal(run.alerts, 1, 'one alert without activity for 100 days')

  const check = async (c: TestCollector, when: string): Promise<void> => {
    const left = (await get(c, `/api/v1/flows?${all}&limit=1000`)).flows as Array<{ orig_h: string; ts_us: number }>
    t.same([...new Set(left.map(srcOf))], ['10.9.0.3'], `${when}: only flows younger than 7 days are left`)
    t.equal(left.length, 10, when)
    t.equal(await trend(), 30, `${when}: the hour roll-ups still hold the trend of the expired flows`)
    const minute = (await get(c, `/api/v1/timeseries?from=${iso(NOW_US - 101 * DAY_US)}&to=${iso(NOW_US - 99 * DAY_US)}&interval=60`)).points as Array<{ flows: number }>
    t.equal(minute.reduce((a, p) => a + p.flows, 0), 0, `${when}: minute roll-ups older than 30 days are gone`)
    t.same((await get(c, `/api/v1/events?${all}`)).events.map((e: { message: string }) => e.message), ['recent'], `${when}: events older than 30 days are gone`)
    const hosts = (await get(c, `/api/v1/hosts?${all}&cidr=10.9.0.0/16`)).hosts as Array<{ ips: string[] }>
    t.same(hosts.map((h) => h.ips[0]).sort(), ['10.9.0.2', '10.9.0.3'], `${when}: hosts not seen for 90 days are gone, younger ones stay after their flows expired`)
    const topo = await get(c, `/api/v1/topology?${all}&limit=1000`)
    t.notOk((topo.edges as Array<{ source: string; target: string }>).some((e) => e.source.includes('10.9.0.1') || e.target.includes('192.0.2.50')), `${when}: the old edge is gone`)
    t.same(await mine(c), ['current', 'old-but-worked-on'], `${when}: alerts`)
  }
  await check(c, 'after the run')
  await c.close()
  c = await startCollector(DEFAULT_RETENTION, dir)
  t.teardown(() => c.close())
  await check(c, 'after a restart')
  t.equal((await c.api.retention.runOnce(NOW_US)).alerts, 0, 'a second run finds nothing more to expire')
})
