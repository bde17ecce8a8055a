// Alerts: one incident = one alert, lifecycle via PATCH (assignee, comments, forward-only
// transitions), filters, suppression rules with expiry, persistence across a restart, the
// event emitter, webhooks signed with HMAC-SHA256 and retried on 5xx.
import t from 'tap'
import { createServer, type IncomingMessage } from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { PROTOCOL_VERSION, type FlowProperties } from '../protocol/index.js'
import type { Finding } from '../collector/detection/detection-types.js'
import type { AlertEvent } from '../collector/alerts/alert-manager.js'
import { verifyWebhook } from '../collector/alerts/webhook-signature.js'
import { ADMIN, enrollAgent, gz, post, startCollector } from './collector-fixtures.js'

const T = 1_700_000_000_000_000
const auth = { authorization: `Bearer ${ADMIN}` }

function finding(p: Partial<Finding> = {}): Finding {
  return { type: 'port_scan', key: '10.0.0.1|10.0.0.2', severity: 'medium', score: 50, confidence: 0.9, mitre: 'T1046', src: '10.0.0.1', dst: '10.0.0.2', port: 0, firstSeenUs: T, lastSeenUs: T + 1000, count: 1, summary: 's', evidence: { flowUids: ['C1'] }, agents: ['a'], ...p }
}

function scanFlows(src: number[], n: number, t0 = T): FlowProperties[] {
  return Array.from({ length: n }, (_, i) => ({ tsUs: t0 + i * 1000, origH: Buffer.from(src), respH: Buffer.from([10, 0, 0, 40]), origP: 40000, respP: 1 + i, proto: 1, connState: 1, history: 'S', uid: `Cs${src[3]}-${i}`, ipProto: 6, origPkts: 1, respPkts: 0, communityIdDerived: true }))
}

t.test('repeated evidence updates one alert; lifecycle, filters and persistence', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-alerts-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const c = await startCollector({}, dir)
  const events: AlertEvent[] = []
  c.detection.alerts.events.on('alert', (e: AlertEvent) => events.push(e))
  const { agentId, secret } = await enrollAgent(c)
  for (let seq = 1; seq <= 3; seq++) {
    const r = await post(c, secret, gz({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq, sentAtUs: Date.now() * 1000, flows: scanFlows([10, 0, 0, 12], 20, T + seq * 1_000_000).map((f, i) => ({ ...f, respP: seq * 100 + i, uid: `C${seq}-${i}` })) }), { 'content-encoding': 'gzip' })
    t.equal(r.statusCode, 200)
  }
  await c.detection.detection.idle()
  let list = (await c.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: auth })).json().alerts
  t.equal(list.length, 1, 'one incident across three batches')
  const a = list[0]
  t.equal(a.type, 'port_scan')
  t.equal(a.count, 60)
  t.equal(a.status, 'open')
  t.ok(a.evidence.community_ids.length > 0)
  t.same(events.map((e) => e.kind).slice(0, 2), ['created', 'updated'])
  // The alert shows in the counts and on the source host's page.
  t.equal((await c.app.inject({ method: 'GET', url: '/api/v1/stats', headers: auth })).json().alerts, 1, 'stats counts the alert')
  await c.api.topology.settle()
  const host = (await c.app.inject({ method: 'GET', url: `/api/v1/hosts/${encodeURIComponent(a.src)}`, headers: auth })).json()
  t.equal(host.alerts?.[0]?.id, a.id, 'the host page lists its alert')

  const q = async (qs: string) => (await c.app.inject({ method: 'GET', url: `/api/v1/alerts?${qs}`, headers: auth })).json().alerts.length
  t.equal(await q('type=port_scan'), 1)
  t.equal(await q('type=bruteforce'), 0)
  t.equal(await q('host=10.0.0.12'), 1)
  t.equal(await q('host=10.9.9.9'), 0)
  t.equal(await q('severity=medium&status=open'), 1)
  t.equal(await q(`since=${(T + 10_000_000) / 1e6}`), 0, 'evidence ended before since')
  t.equal(await q('since=2023-11-14T22:13:00Z&limit=1'), 1)
  t.equal((await c.app.inject({ method: 'GET', url: '/api/v1/alerts?type=nope', headers: auth })).statusCode, 400)

  const patch = (body: unknown) => c.app.inject({ method: 'PATCH', url: `/api/v1/alerts/${a.id}`, headers: auth, payload: body as Record<string, unknown> })
  let r = await patch({ status: 'acknowledged', assignee: 'alice', comment: 'looking' })
  t.equal(r.statusCode, 200)
  t.equal(r.json().status, 'acknowledged')
  t.equal(r.json().assignee, 'alice')
  t.equal(r.json().comments[0].text, 'looking')
  r = await patch({ status: 'open' })
  t.equal(r.statusCode, 409)
  t.equal(r.json().code, 'COLLECTOR_ERR_ALERT_TRANSITION')
  r = await patch({ status: 'resolved', comment: 'lab scanner' })
  t.equal(r.json().transitions.length, 2)
  t.equal((await c.app.inject({ method: 'PATCH', url: '/api/v1/alerts/al_nope', headers: auth, payload: { status: 'resolved' } })).statusCode, 404)
  t.equal((await c.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: {} })).statusCode, 401)

  // after resolve, new evidence opens a new alert
  await post(c, secret, gz({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: 4, sentAtUs: Date.now() * 1000, flows: scanFlows([10, 0, 0, 12], 20, T + 9_000_000).map((f, i) => ({ ...f, respP: 1000 + i, uid: `C4-${i}` })) }), { 'content-encoding': 'gzip' })
  await c.detection.detection.idle()
  list = (await c.app.inject({ method: 'GET', url: '/api/v1/alerts', headers: auth })).json().alerts
  t.equal(list.length, 2)
  t.same(list.map((x: { status: string }) => x.status).sort(), ['open', 'resolved'])
  await c.close()

  const c2 = await startCollector({}, dir)
  t.teardown(() => c2.close())
  const again = (await c2.app.inject({ method: 'GET', url: '/api/v1/alerts?status=resolved', headers: auth })).json().alerts
  t.equal(again.length, 1, 'alerts survive a restart')
  t.equal(again[0].assignee, 'alice')
})

t.test('suppression rules: scoped, commented, expiring', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const mk = (body: Record<string, unknown>) => c.app.inject({ method: 'POST', url: '/api/v1/alert-suppressions', headers: auth, payload: body })
  t.equal((await mk({ src: '10.0.0.1', expires_at: new Date(Date.now() + 3600_000).toISOString() })).statusCode, 400, 'comment required')
  t.equal((await mk({ comment: 'x', expires_at: new Date(Date.now() + 3600_000).toISOString() })).statusCode, 400, 'scope required')
  t.equal((await mk({ src: '10.0.0.1', comment: 'x', expires_at: new Date(Date.now() - 1000).toISOString() })).statusCode, 400, 'expired')
  const r = await mk({ type: 'port_scan', src: '10.0.0.1', comment: 'vulnerability scanner', expires_at: new Date(Date.now() + 3600_000).toISOString() })
  t.equal(r.statusCode, 201)
  const m = c.detection.alerts
  await m.apply([finding(), finding({ src: '10.0.0.3', key: '10.0.0.3|10.0.0.2' }), finding({ type: 'bruteforce', key: '10.0.0.1' })])
  t.same(m.query({}).map((a) => `${a.type}:${a.src}`).sort(), ['bruteforce:10.0.0.1', 'port_scan:10.0.0.3'])
  t.equal(m.counters.get('alerts_suppressed_total'), 1)
  // expired rule no longer applies
  await m.apply([finding({ key: 'later' })], Date.now() + 7200_000)
  t.equal(m.query({ type: 'port_scan' }).length, 2)
  const list = await c.app.inject({ method: 'GET', url: '/api/v1/alert-suppressions', headers: auth })
  t.equal(list.json().suppressions.length, 1)
  const del = await c.app.inject({ method: 'DELETE', url: `/api/v1/alert-suppressions/${r.json().id}`, headers: auth })
  t.equal(del.statusCode, 200)
})

t.test('webhooks: HMAC-SHA256 signature, retried after 5xx, filtered by severity', async (t) => {
  const got: Array<{ body: string; sig: string; ts: number }> = []
  let calls = 0
  const server = createServer((req: IncomingMessage, res) => {
    let body = ''
    req.on('data', (d: Buffer) => { body += d.toString() })
    req.on('end', () => {
      calls++
      if (calls === 1) { res.statusCode = 503; res.setHeader('retry-after', '0'); res.end(); return }
      got.push({ body, sig: String(req.headers['x-telltale-signature']), ts: Number(req.headers['x-telltale-timestamp']) })
      res.end('ok')
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const port = (server.address() as AddressInfo).port
  const secret = 'webhook-secret-0123456789'
  const c = await startCollector({ alerts: { webhooks: [{ url: `http://127.0.0.1:${port}/hook`, secret, min_severity: 'high' }], webhook_retry_initial_ms: 10 } })
  t.teardown(() => c.close())
  await c.detection.alerts.apply([finding({ severity: 'low', key: 'low' }), finding({ type: 'bruteforce', key: 'bf', severity: 'high' })])
  const deadline = Date.now() + 10_000
  while (got.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  t.equal(got.length, 1, 'only the high alert, delivered after one retry')
  t.equal(calls, 2)
  const g = got[0]!
  t.ok(verifyWebhook(secret, g.ts, g.body, g.sig), 'signature verifies')
  t.notOk(verifyWebhook('other-secret-0123456789', g.ts, g.body, g.sig))
  t.equal(JSON.parse(g.body).alert.type, 'bruteforce')
  // The sender counts a delivery when it has read the reply, which can be after our server
  // handed the body over: wait (bounded) for the counter rather than race it.
  const counted = Date.now() + 10_000
  while (c.detection.webhooks.counters.get('webhook_sent_total') < 1 && Date.now() < counted) await new Promise((r) => setTimeout(r, 20))
  t.equal(c.detection.webhooks.counters.get('webhook_retries_total'), 1)
  t.equal(c.detection.webhooks.counters.get('webhook_sent_total'), 1)
})

t.test('policy: learn mode proposes the observed edges as a reviewable diff', async (t) => {
  const c = await startCollector({ policy: { mode: 'learn', zones: [{ name: 'lan', cidrs: ['10.0.0.0/24'] }, { name: 'dmz', cidrs: ['10.0.1.0/24'] }], allowed: [{ from: 'lan', to: 'dmz', ports: ['tcp/22'] }] } })
  t.teardown(() => c.close())
  const { agentId, secret } = await enrollAgent(c)
  const f = (i: number, resp: number[], port: number, state = 3): FlowProperties => ({ tsUs: T + i, origH: Buffer.from([10, 0, 0, 5]), respH: Buffer.from(resp), origP: 40000 + i, respP: port, proto: 1, connState: state, history: 'ShADadFf', uid: `Cp${i}`, ipProto: 6, origPkts: 3, respPkts: 3, communityIdDerived: true })
  await post(c, secret, gz({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: 1, sentAtUs: Date.now() * 1000, flows: [f(1, [10, 0, 1, 9], 443), f(2, [10, 0, 1, 9], 443), f(3, [8, 8, 8, 8], 53), f(4, [10, 0, 1, 9], 3389, 1), f(5, [10, 0, 0, 9], 80)] }), { 'content-encoding': 'gzip' })
  await c.detection.detection.idle()
  const r = await c.app.inject({ method: 'GET', url: '/api/v1/policy/proposal', headers: auth })
  t.equal(r.statusCode, 200)
  const p = r.json()
  t.match(p.diff, /\+ lan -> dmz tcp\/443/)
  t.match(p.diff, /\+ lan -> external tcp\/53/)
  t.match(p.diff, /- lan -> dmz tcp\/22/)
  t.notMatch(p.diff, /3389/, 'unanswered attempts are not proposed')
  t.notMatch(p.diff, /lan -> lan/, 'intra-zone traffic is allowed anyway')
  t.match(p.yaml, /from: lan/)
  t.equal(p.add, 2)
  t.equal(c.detection.alerts.size, 0, 'learn mode does not alert')
})

t.test('alerts are pushed to the SSE stream (GET /api/v1/stream, event: alert)', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  await c.app.listen({ host: '127.0.0.1', port: 0 })
  const port = (c.app.server.address() as AddressInfo).port
  const { request } = await import('undici')
  const ac = new AbortController()
  const res = await request(`http://127.0.0.1:${port}/api/v1/stream`, { headers: auth, signal: ac.signal })
  t.equal(res.statusCode, 200)
  let text = ''
  const got = new Promise<void>((resolve) => {
    res.body.on('data', (d: Buffer) => { text += d.toString(); if (text.includes('event: alert')) resolve() })
  })
  res.body.on('error', () => {})
  const { agentId, secret } = await enrollAgent(c)
  await post(c, secret, gz({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: 1, sentAtUs: Date.now() * 1000, flows: scanFlows([10, 0, 0, 77], 20) }), { 'content-encoding': 'gzip' })
  await Promise.race([got, new Promise((r) => setTimeout(r, 10_000))])
  ac.abort()
  t.match(text, /event: alert\ndata: \{"kind":"created","alert":\{"id":"al_[^"]+","type":"port_scan"/)
})
