// Route tests (app.inject) for the query API: every route, its filters and its errors, and
// the RBAC matrix (each role × each route → allowed or 403; no token → 401).
import t from 'tap'
import { encodeBatch, type FlowProperties } from '../protocol/index.js'
import { ROUTE_ROLES } from '../collector/api/roles.js'
import { TOKEN_ROLES } from '../collector/storage/index.js'
import { ADMIN, batch, enrollAgent, gz, post, startCollector, type TestCollector } from './collector-fixtures.js'

const H = { authorization: `Bearer ${ADMIN}` }
const T0 = 1_700_000_000_000_000

async function loaded(): Promise<{ c: TestCollector; agentId: string }> {
  const c = await startCollector()
  const a = await enrollAgent(c, 1)
  for (let s = 1; s <= 2; s++) {
    const b = batch(a.agentId, s, 300)
    if (s === 1) b.events = [{ timestampMs: Math.floor(T0 / 1000) + 200_000, eventDataset: 'sshd', eventCategory: ['authentication'], eventAction: 'ssh_login', eventOutcome: 'failure', sourceIp: '203.0.113.9', userName: 'root', message: 'Failed password for root from 203.0.113.9' }]
    const r = await post(c, a.secret, encodeBatch(b))
    if (r.statusCode !== 200) throw new Error(r.body)
  }
  await c.api.topology.settle()
  return { c, agentId: a.agentId }
}

const get = async (c: TestCollector, url: string, headers: Record<string, string> = H) => c.app.inject({ method: 'GET', url, headers })

t.test('flows: filters, cursor pages, NDJSON, errors', async (t) => {
  const { c, agentId } = await loaded()
  t.teardown(() => c.close())
  type Page = { flows: Array<Record<string, unknown>>; next_cursor: string | null }
  const all = (await get(c, '/api/v1/flows?limit=1000')).json() as Page
  t.equal(all.flows.length, 600)
  t.equal(all.next_cursor, null)
  const filters: Array<[string, (f: Record<string, unknown>) => boolean]> = [
    ['port=443', (f) => f.resp_p === 443],
    ['proto=udp', (f) => f.proto === 'udp'],
    ['port=53&proto=udp', (f) => f.resp_p === 53 && f.proto === 'udp'],
    ['service=ssh', (f) => f.service === 'ssh'],
    ['host=192.0.2.3', (f) => f.resp_h === '192.0.2.3' || f.orig_h === '192.0.2.3'],
    ['cidr=10.0.135.0/24', (f) => String(f.orig_h).startsWith('10.0.135.')],
    ['conn_state=SF', (f) => f.conn_state === 'SF'],
    [`agent=${agentId}`, () => true],
    [`from=${new Date((T0 + 100_100_000) / 1000).toISOString()}&to=${new Date((T0 + 100_150_000) / 1000).toISOString()}`, (f) => (f.ts_us as number) >= T0 + 100_100_000 && (f.ts_us as number) <= T0 + 100_150_000],
  ]
  for (const [q, pred] of filters) {
    const r = await get(c, `/api/v1/flows?limit=1000&${q}`)
    t.equal(r.statusCode, 200, q)
    const got = (r.json() as Page).flows
    const want = all.flows.filter(pred)
    t.ok(want.length > 0, `${q} has matches`)
    t.same(got.map((f) => f.id).sort(), want.map((f) => f.id).sort(), `${q} returns exactly the matching flows`)
  }
  const cid = all.flows[5]!.community_id as string
  const byCid = (await get(c, `/api/v1/flows?community_id=${encodeURIComponent(cid)}`)).json() as Page
  t.ok(byCid.flows.every((f) => f.community_id === cid) && byCid.flows.length >= 1)
  t.equal((await get(c, `/api/v1/flows?agent=agt_nobody`)).json().flows.length, 0)
  // Cursor pages cover everything exactly once.
  const seen: string[] = []
  let cursor: string | null = ''
  let pages = 0
  while (cursor !== null && pages < 20) {
    const p = (await get(c, `/api/v1/flows?limit=70${cursor ? `&cursor=${cursor}` : ''}`)).json() as Page
    seen.push(...p.flows.map((f) => f.id as string)); cursor = p.next_cursor; pages++
  }
  t.equal(seen.length, 600)
  t.equal(new Set(seen).size, 600)
  const nd = await c.app.inject({ method: 'GET', url: '/api/v1/flows?port=22', headers: { ...H, accept: 'application/x-ndjson' } })
  t.match(nd.headers['content-type'], /application\/x-ndjson/)
  t.equal(nd.body.trim().split('\n').length, 150)
  for (const [q, param] of [['port=70000', 'port'], ['proto=sctp', 'proto'], ['cidr=10.0.0.0/99', 'cidr'], ['host=nope', 'host'], ['conn_state=XX', 'conn_state'], ['from=yesterday', 'from'], ['cursor=AAAA', 'cursor'], ['limit=5000', 'limit'], ['bogus=1', 'bogus']] as const) {
    const r = await get(c, `/api/v1/flows?${q}`)
    t.equal(r.statusCode, 400, q)
    t.equal(r.json().code, 'COLLECTOR_ERR_BAD_REQUEST')
    t.match(r.json().message, param, `${q}: the message names "${param}"`)
  }
  const choice = (await get(c, '/api/v1/flows?proto=sctp')).json() as { message: string }
  t.equal(choice.message, 'querystring parameter "proto": must be one of tcp, udp, icmp, other', 'a choice lists the allowed values')
})

t.test('top, timeseries, events, hosts, topology, agents, stats, tokens, audit, docs, health', async (t) => {
  const { c, agentId } = await loaded()
  t.teardown(() => c.close())
  const win = `from=${new Date(T0 / 1000).toISOString()}&to=${new Date(T0 / 1000 + 86400_000).toISOString()}`
  const top = (await get(c, `/api/v1/flows/top?${win}&group=ports&by=flows&limit=4`)).json() as { rows: { key: string; flows: number }[] }
  t.same(top.rows.map((r) => r.flows), [150, 150, 150, 150])
  t.same(top.rows.map((r) => r.key).sort(), ['tcp/22', 'tcp/443', 'tcp/80', 'udp/53'])
  for (const g of ['talkers', 'services', 'pairs']) t.equal((await get(c, `/api/v1/flows/top?${win}&group=${g}&by=bytes`)).statusCode, 200, g)
  t.equal((await get(c, `/api/v1/flows/top?${win}&by=joy`)).statusCode, 400)
  const ts = (await get(c, `/api/v1/timeseries?${win}&interval=3600`)).json() as { source: string; points: { flows: number }[] }
  t.equal(ts.source, 'rollup_hour')
  t.equal(ts.points.reduce((a, p) => a + p.flows, 0), 600)
  const tsSvc = (await get(c, `/api/v1/timeseries?${win}&interval=60&service=dns`)).json() as { points: { flows: number }[] }
  t.equal(tsSvc.points.reduce((a, p) => a + p.flows, 0), 150)
  const tsHost = (await get(c, `/api/v1/timeseries?${win}&interval=30&host=192.0.2.3`)).json() as { source: string; points: { flows: number }[] }
  t.equal(tsHost.source, 'flows')
  t.equal((await get(c, `/api/v1/timeseries?${win}&interval=30`)).statusCode, 400)
  const ev = (await get(c, '/api/v1/events?dataset=sshd&outcome=failure')).json() as { events: Record<string, unknown>[] }
  t.equal(ev.events.length, 1)
  t.equal(ev.events[0]!.user_name, 'root')
  t.equal((await get(c, '/api/v1/events?dataset=nginx')).json().events.length, 0)
  t.equal((await get(c, '/api/v1/events?q=FAILED')).json().events.length, 1)
  const hosts = (await get(c, '/api/v1/hosts?cidr=192.0.2.0/24')).json() as { hosts: { id: string }[]; total: number }
  t.equal(hosts.total, 7)
  t.equal((await get(c, '/api/v1/hosts?service=22/tcp')).json().total, 7)
  const p1 = (await get(c, '/api/v1/hosts?limit=5')).json() as { hosts: { id: string }[]; next_cursor: string }
  const p2 = (await get(c, `/api/v1/hosts?limit=5&cursor=${p1.next_cursor}`)).json() as { hosts: { id: string }[] }
  t.ok(p2.hosts[0]!.id > p1.hosts[4]!.id)
  const one = (await get(c, '/api/v1/hosts/192.0.2.3')).json() as { peers: unknown[]; alerts: unknown[] }
  t.ok(one.peers.length > 0)
  t.equal((await get(c, '/api/v1/hosts/198.51.100.1')).statusCode, 404)
  const topo = (await get(c, '/api/v1/topology?service=ssh&min_bytes=1')).json() as { nodes: unknown[]; edges: { services: string[] }[] }
  t.ok(topo.edges.length > 0 && topo.edges.every((e) => e.services.includes('ssh')))
  t.equal((await get(c, '/api/v1/topology?cidr=10.0.200.0/24')).json().edges.length, 0)
  t.equal((await get(c, '/api/v1/topology?min_bytes=999999999')).json().edges.length, 0)
  t.equal((await get(c, '/api/v1/topology?cidr=300.1.1.1/8')).statusCode, 400)
  const gml = await get(c, '/api/v1/topology?format=graphml&limit=10')
  t.match(gml.headers['content-type'], /graphml/)
  t.match(gml.body, /<graphml[\s\S]*<node id="[^"]+">[\s\S]*<edge id="[^"]+" source=/)
  const agents = (await get(c, '/api/v1/agents')).json() as { agents: { id: string; online: boolean }[] }
  t.equal(agents.agents[0]!.id, agentId)
  t.equal(agents.agents[0]!.online, true)
  t.equal((await get(c, `/api/v1/agents/${agentId}`)).json().flows, 600)
  t.equal((await get(c, '/api/v1/agents/agt_nope')).statusCode, 404)
  const stats = (await get(c, '/api/v1/stats')).json() as Record<string, number>
  t.same({ flows: stats.flows, hosts: stats.hosts, edges: stats.edges, events: stats.events, alerts: stats.alerts, agents: stats.agents }, { flows: 600, hosts: stats.hosts, edges: stats.edges, events: 1, alerts: 0, agents: 1 })
  // Tokens: create, list (no secrets), use, revoke, audit.
  const created = await c.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: H, payload: { role: 'viewer', note: 'wall screen' } })
  t.equal(created.statusCode, 201)
  const { id, token } = created.json() as { id: string; token: string }
  t.notMatch((await get(c, '/api/v1/tokens')).body, token)
  t.equal((await get(c, '/api/v1/stats', { authorization: `Bearer ${token}` })).statusCode, 200)
  t.equal((await c.app.inject({ method: 'DELETE', url: `/api/v1/tokens/${id}`, headers: H })).statusCode, 200)
  t.equal((await get(c, '/api/v1/stats', { authorization: `Bearer ${token}` })).json().code, 'COLLECTOR_ERR_REVOKED_CREDENTIAL')
  t.equal((await c.app.inject({ method: 'DELETE', url: '/api/v1/tokens/tok_missing', headers: H })).statusCode, 404)
  t.equal((await c.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: H, payload: { role: 'agent' } })).statusCode, 400)
  const audit = (await get(c, '/api/v1/audit')).json() as { entries: { action: string; target?: string }[] }
  t.ok(audit.entries.some((e) => e.action === 'token.revoke' && e.target === id))
  t.ok(audit.entries.some((e) => e.action === 'token.create' && e.target === id))
  const oa = (await get(c, '/openapi.json', {})).json() as { openapi: string; paths: Record<string, unknown> }
  t.equal(oa.openapi, '3.0.3')
  for (const r of ROUTE_ROLES) if (r.url.startsWith('/api')) t.ok(oa.paths[r.url.replace(/:(\w+)/g, '{$1}')], `${r.url} documented`)
  t.equal((await get(c, '/docs/', {})).statusCode, 200)
  t.equal((await get(c, '/healthz', {})).statusCode, 200)
  t.equal((await get(c, '/readyz', {})).statusCode, 200)
  await c.detection.detection.idle()
  const m = await get(c, '/metrics')
  t.match(m.body, /telltale_detection\{what="queue_batches"\} 0\n/, 'detection backlog exported')
  t.match(m.body, /telltale_detection\{what="detection_dropped_batches_total"\} 0\n/)
  t.match(m.body, /telltale_detection\{what="webhook_dropped_total"\} 0\n/)
  t.match(m.body, /telltale_http_request_duration_seconds_bucket/)
  t.match(m.body, /telltale_ingest_total\{counter="ingest_flows_total"\} 600/)
  t.match(m.body, /telltale_agent_lag_seconds\{agent=/)
})

t.test('RBAC matrix: each role × each route', async (t) => {
  const { c } = await loaded()
  t.teardown(() => c.close())
  const secrets: Record<string, string> = {}
  for (const role of ['admin', 'analyst', 'viewer', 'enroll'] as const) {
    const r = await c.app.inject({ method: 'POST', url: '/api/v1/tokens', headers: H, payload: { role } })
    secrets[role] = (r.json() as { token: string }).token
  }
  secrets.agent = (await enrollAgent(c, 9)).secret
  for (const route of ROUTE_ROLES) {
    // Stateless stand-ins for ids; mutating routes get a target that does not exist (404 = allowed).
    const url = route.url.replace('/agents/:id', '/agents/agt_none').replace('/tokens/:id', '/tokens/tok_none').replace('/hosts/:id', '/hosts/192.0.2.3')
    const payload = route.method === 'POST' && url === '/api/v1/tokens' ? { role: 'viewer' } : route.method === 'POST' ? {} : undefined
    const none = await c.app.inject({ method: route.method, url, ...(payload ? { payload } : {}) })
    t.equal(none.statusCode, 401, `${route.method} ${route.url} without a token`)
    for (const role of TOKEN_ROLES) {
      if (url === '/api/v1/stream') continue // checked below (the stream stays open)
      const r = await c.app.inject({ method: route.method, url, headers: { authorization: `Bearer ${secrets[role]}` }, ...(payload ? { payload } : {}) })
      if (route.roles.includes(role)) t.not(r.statusCode, 403, `${role} may ${route.method} ${route.url} (${r.statusCode})`)
      else t.equal(r.statusCode, 403, `${role} may not ${route.method} ${route.url}`)
    }
  }
  const denied = await c.app.inject({ method: 'GET', url: '/api/v1/stream', headers: { authorization: `Bearer ${secrets.agent}` } })
  t.equal(denied.statusCode, 403)
})

t.test('SSE stream delivers new hosts and edges', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const address = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const ac = new AbortController()
  const res = await fetch(`${address}/api/v1/stream`, { headers: H, signal: ac.signal })
  t.equal(res.status, 200)
  const reader = res.body!.getReader()
  const f: FlowProperties = { tsUs: T0, origH: Buffer.from([10, 9, 9, 9]), respH: Buffer.from([10, 9, 9, 10]), origP: 5000, respP: 8080, proto: 1, connState: 3, origPkts: 1, respPkts: 1, communityIdDerived: true, ipProto: 6 }
  await post(c, a.secret, encodeBatch({ ...batch(a.agentId, 1, 0), flows: [f] }))
  let text = ''
  const deadline = Date.now() + 5000
  while (!(text.includes('event: edge') && text.includes('10.9.9.10')) && Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    text += Buffer.from(value).toString('utf8')
  }
  ac.abort()
  t.match(text, /event: host\ndata: \{"id":"10\.9\.9\.9"/)
  t.match(text, /event: edge\ndata: .*"port":8080/)
})

t.test('rate limit per token answers 429 with a stable code', async (t) => {
  const c = await startCollector({ 'api.rate_limit_per_minute': 3 })
  t.teardown(() => c.close())
  const codes = []
  for (let i = 0; i < 5; i++) codes.push((await get(c, '/api/v1/stats')).statusCode)
  t.same(codes, [200, 200, 200, 429, 429])
  const r = await get(c, '/api/v1/stats')
  t.equal(r.json().code, 'COLLECTOR_ERR_RATE_LIMITED')
  t.equal((await get(c, '/healthz', {})).statusCode, 200, 'probes are not limited')
})

t.test('events whose time is before 1970 or past 2255 are still listed, with their own timestamp_ms', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  // Go's zero time ("0001-01-01T00:00:00Z") is common in JSON logs; 2^60 ms is junk.
  const times: Array<[number, string]> = [[Date.parse('0001-01-01T00:00:00Z'), 'go zero time'], [2 ** 60, 'far future'], [Date.now(), 'now']]
  let seq = 0
  for (const [ms, message] of times) {
    const r = await post(c, a.secret, gz({ ...batch(a.agentId, ++seq, 0), events: [{ timestampMs: ms, message, eventDataset: 'json' }] }), { 'content-encoding': 'gzip' })
    t.equal(r.statusCode, 200)
  }
  const list = (await c.app.inject({ method: 'GET', url: '/api/v1/events?limit=10', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { events: Array<{ message: string; timestamp_ms: number; '@timestamp'?: string }> }
  t.same(list.events.map((e) => e.message).sort(), ['far future', 'go zero time', 'now'], 'all three listed')
  const zero = list.events.find((e) => e.message === 'go zero time')
  t.equal(zero?.['@timestamp'], '0001-01-01T00:00:00.000Z', 'with the time they carry')
  t.equal(list.events.find((e) => e.message === 'far future')?.timestamp_ms, 2 ** 60, 'a time with no ISO form keeps timestamp_ms only')
  const recent = (await c.app.inject({ method: 'GET', url: '/api/v1/events?from=-1h&limit=10', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { events: Array<{ message: string }> }
  t.same(recent.events.map((e) => e.message).sort(), ['far future', 'now'], 'an open-ended window from an hour ago reaches the far future one too')
})

t.test('host observations with times outside 0..2^53-1 µs are held to that range', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c)
  const ip = Buffer.from([10, 77, 0, 1])
  // A flow makes the host (an observation alone only describes one); then the observations.
  t.equal((await post(c, a.secret, gz({ ...batch(a.agentId, 1, 0), flows: [{ ...batch(a.agentId, 1, 1).flows![0]!, origH: ip }] }), { 'content-encoding': 'gzip' })).statusCode, 200)
  const r = await post(c, a.secret, gz({ ...batch(a.agentId, 2, 0), hostObservations: [{ tsUs: -5, ip, name: 'early.example', nameSource: 2 }, { tsUs: 2 ** 62, ip, name: 'late.example', nameSource: 2, service: { port: 22, proto: 1, name: 'ssh' } }] }), { 'content-encoding': 'gzip' })
  t.equal(r.statusCode, 200)
  await c.api.topology.settle()
  const h = (await c.app.inject({ method: 'GET', url: '/api/v1/hosts/10.77.0.1', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { host: { first_seen_us: number; last_seen_us: number; names: Array<{ name: string }> } }
  t.same(h.host.names.map((n) => n.name).sort(), ['early.example', 'late.example'])
  t.equal(h.host.first_seen_us, 100_000 * 1000 + 1_700_000_000_000_000, 'a time before 1970 counts as unknown: first seen stays the flow\'s')
  // A time past 2^53 µs (2^62 lost precision in the stored JSON) is a clock far ahead: held to
  // the batch's receive time plus the 5 min tolerance (collector-clock-offset.test.ts).
  const held = h.host.last_seen_us
  t.ok(Number.isSafeInteger(held) && held <= Date.now() * 1000 + 5 * 60 * 1_000_000 && held > Date.now() * 1000 - 60_000_000, `a time past 2^53 µs is held to the receive time (+5 min): ${held}`)
})
