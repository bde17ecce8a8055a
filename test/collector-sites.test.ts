// Sites: branch offices that use the same private ranges stay apart in the topology. A site
// comes from the enrollment token (API and CLI) or is set on an agent by an admin; private
// addresses are scoped by it, public ones are not, and two sites' flows are never taken for
// duplicates of one another.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { encodeBatch, PROTOCOL_VERSION, type FlowProperties, type HostObservationProperties } from '../protocol/index.js'
import { siteNameProblem } from '../collector/enroll/site-name.js'
import { ADMIN, machineHash, post, startCollector, type TestCollector } from './collector-fixtures.js'

const auth = { authorization: `Bearer ${ADMIN}` }
const T0 = 1_700_000_000_000_000

async function siteToken(c: TestCollector, site?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: auth, payload: site === undefined ? {} : { site } })
  return { status: r.statusCode, body: r.json() as Record<string, unknown> }
}

async function enrollAt(c: TestCollector, machine: number, site?: string): Promise<{ agentId: string; secret: string }> {
  const tok = await siteToken(c, site)
  if (tok.status !== 201) throw new Error(`token: ${tok.status} ${JSON.stringify(tok.body)}`)
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: tok.body.token, machine_id_hash: machineHash(machine), nonce: `nonce-0123456789-${machine}`, hostname: `host${machine}` } })
  if (r.statusCode !== 200) throw new Error(`enroll: ${r.statusCode} ${r.body}`)
  const j = r.json() as { agent_id: string; secret: string }
  return { agentId: j.agent_id, secret: j.secret }
}

/** The same client → server connection, as every branch office's sensor sees its own. */
function conn(orig: number[], resp: number[], tsUs: number): FlowProperties {
  return {
    tsUs, origH: Buffer.from(orig), respH: Buffer.from(resp), origP: 51000, respP: 443, proto: 1, connState: 3, history: 'ShADadFf',
    durationUs: 1000, origPkts: 5, origIpBytes: 400, respPkts: 5, respIpBytes: 4000, uid: 'Cx1', ipProto: 6, service: 'ssl', communityIdDerived: true,
  }
}

async function ship(c: TestCollector, a: { agentId: string; secret: string }, seq: number, flows: FlowProperties[], hostObservations: HostObservationProperties[] = []): Promise<number> {
  const body = encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: a.agentId, epoch: 1, seq, sentAtUs: T0, flows, hostObservations })
  return (await post(c, a.secret, body)).statusCode
}

interface Host { id: string; scope: string; ips: string[]; names: { name: string }[]; flows_out: number; flows_in: number }

async function hosts(c: TestCollector, query = ''): Promise<Host[]> {
  const r = await c.app.inject({ method: 'GET', url: `/api/v1/hosts?from=2020-01-01T00:00:00Z&limit=1000${query}`, headers: auth })
  if (r.statusCode !== 200) throw new Error(`hosts: ${r.statusCode} ${r.body}`)
  return (r.json() as { hosts: Host[] }).hosts
}

t.test('site names: lower-case words, not the VLAN scope', async (t) => {
  for (const ok of ['berlin', 'dc-1', 'a', 'site_7', '0ffice']) t.equal(siteNameProblem(ok), undefined, ok)
  for (const bad of ['', 'Berlin', '-x', 'a b', 'a/b', 'x'.repeat(33), 'vlan7', 'ber%lin']) t.type(siteNameProblem(bad), 'string', JSON.stringify(bad))
})

t.test('two sites with the same private addresses give two sets of hosts; a public address stays one host', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const berlin = await enrollAt(c, 1, 'berlin')
  const paris = await enrollAt(c, 2, 'paris')
  const agents = (await c.app.inject({ method: 'GET', url: '/api/v1/agents', headers: auth })).json() as { agents: { id: string; site: string | null }[] }
  t.same(agents.agents.map((a) => [a.id, a.site]).sort(), [[berlin.agentId, 'berlin'], [paris.agentId, 'paris']].sort(), 'the agents carry their token\'s site')
  const inParis = (await c.app.inject({ method: 'GET', url: '/api/v1/agents?site=paris', headers: auth })).json() as { agents: { id: string }[] }
  t.same(inParis.agents.map((a) => a.id), [paris.agentId], 'agents?site= lists a site\'s agents')

  // Each office: 192.168.1.10 talks to its own 192.168.1.1 and to the same public server,
  // with the same five-tuples at the same time.
  for (const [a, seq] of [[berlin, 1], [paris, 1]] as const) {
    t.equal(await ship(c, a, seq, [conn([192, 168, 1, 10], [192, 168, 1, 1], T0), conn([192, 168, 1, 10], [198, 51, 100, 7], T0 + 10)]), 200)
  }
  const all = await hosts(c)
  t.same(all.map((h) => h.id).sort(), ['192.168.1.1%berlin', '192.168.1.1%paris', '192.168.1.10%berlin', '192.168.1.10%paris', '198.51.100.7'], 'private addresses per site, the public one once')
  const pub = all.find((h) => h.id === '198.51.100.7')!
  t.equal(pub.scope, '')
  t.equal(pub.flows_in, 2, 'the public server has one flow from each office: no duplicate across sites')
  t.equal(all.find((h) => h.id === '192.168.1.1%paris')!.flows_in, 1)
  t.same((await hosts(c, '&site=berlin')).map((h) => h.id).sort(), ['192.168.1.1%berlin', '192.168.1.10%berlin'], 'hosts?site= lists a site\'s private hosts')

  const topo = (await c.app.inject({ method: 'GET', url: '/api/v1/topology?limit=100', headers: auth })).json() as { edges: { duplicate_flows: number; flows: number }[] }
  t.equal(topo.edges.length, 4, 'an edge per office and peer')
  t.equal(topo.edges.reduce((s, e) => s + e.duplicate_flows, 0), 0, 'no flow counted as another site\'s duplicate')
  const parisTopo = (await c.app.inject({ method: 'GET', url: '/api/v1/topology?limit=100&site=paris', headers: auth })).json() as { edges: { source: string; target: string }[] }
  t.same(parisTopo.edges.map((e) => `${e.source}>${e.target}`).sort(), ['192.168.1.10%paris>192.168.1.1%paris', '192.168.1.10%paris>198.51.100.7'], 'topology?site= keeps the edges touching the site')
})

t.test('agents of one site share its hosts and de-duplicate each other', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const hostAgent = await enrollAt(c, 1, 'berlin')
  const spanAgent = await enrollAt(c, 2, 'berlin')
  t.equal(await ship(c, hostAgent, 1, [conn([192, 168, 1, 10], [192, 168, 1, 1], T0)]), 200)
  t.equal(await ship(c, spanAgent, 1, [conn([192, 168, 1, 10], [192, 168, 1, 1], T0)]), 200)
  const all = await hosts(c)
  t.same(all.map((h) => h.id).sort(), ['192.168.1.1%berlin', '192.168.1.10%berlin'])
  t.equal(all.find((h) => h.id === '192.168.1.1%berlin')!.flows_in, 1, 'the second sensor\'s record is a duplicate')
})

t.test('an agent without a site keeps global hosts; an admin moves it to a site', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAt(c, 1)
  t.equal(await ship(c, a, 1, [conn([10, 0, 0, 5], [10, 0, 0, 1], T0)]), 200)
  t.same((await hosts(c)).map((h) => h.id).sort(), ['10.0.0.1', '10.0.0.5'], 'no site: addresses are global, as before sites existed')

  const put = (site: unknown, token = ADMIN) => c.app.inject({ method: 'PUT', url: `/api/v1/agents/${a.agentId}/site`, headers: { authorization: `Bearer ${token}` }, payload: { site } })
  const bad = await put('vlan3')
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { message: /VLAN scope/ })
  t.equal((await put('Paris')).statusCode, 400, 'upper case refused by the schema')
  t.equal((await put('berlin', a.secret)).statusCode, 403, 'an agent cannot move itself')
  t.equal((await c.app.inject({ method: 'PUT', url: '/api/v1/agents/agt_nope/site', headers: auth, payload: { site: 'berlin' } })).statusCode, 404)
  const ok = await put('berlin')
  t.equal(ok.statusCode, 200)
  t.same(ok.json(), { agent_id: a.agentId, site: 'berlin' })
  // The DHCP observation and the flow merged from now on are scoped; the hosts merged before keep their ids.
  const dhcp: HostObservationProperties = { tsUs: T0 + 2000, ip: Buffer.from([10, 0, 0, 7]), mac: Buffer.from([0x00, 0x1b, 0x21, 9, 9, 9]), name: 'printer', nameSource: 1 }
  t.equal(await ship(c, a, 2, [conn([10, 0, 0, 5], [10, 0, 0, 1], T0 + 1000)], [dhcp]), 200)
  const after = await hosts(c)
  t.same(after.map((h) => h.id).sort(), ['10.0.0.1', '10.0.0.1%berlin', '10.0.0.5', '10.0.0.5%berlin', 'mac:00:1b:21:09:09:09'])
  t.equal(after.find((h) => h.id === 'mac:00:1b:21:09:09:09')!.scope, 'berlin', 'an observed device is scoped too')
  const audit = (await c.app.inject({ method: 'GET', url: '/api/v1/audit', headers: auth })).json() as { entries: { action: string; target: string; details?: { to?: string } }[] }
  t.ok(audit.entries.some((e) => e.action === 'agent.site' && e.target === a.agentId && e.details?.to === 'berlin'), 'the move is audited')
  // A rebuild merges the stored batches again, with the agent's current site.
  t.equal((await c.app.inject({ method: 'POST', url: '/api/v1/topology/rebuild', headers: auth })).statusCode, 200)
  t.same((await hosts(c)).map((h) => h.id).sort(), ['10.0.0.1%berlin', '10.0.0.5%berlin', 'mac:00:1b:21:09:09:09'], 'history re-scoped')
  t.equal((await put(null)).json().site, null, 'null takes it out of its site')
})

t.test('site with VLAN scoping: both scope a private address', async (t) => {
  const c = await startCollector({ 'topology.scope_by_vlan': true })
  t.teardown(() => c.close())
  const a = await enrollAt(c, 1, 'berlin')
  const f = conn([192, 168, 1, 10], [8, 8, 8, 8], T0)
  f.vlan = 7
  t.equal(await ship(c, a, 1, [f]), 200)
  t.same((await hosts(c)).map((h) => [h.id, h.scope]).sort(), [['192.168.1.10%berlin/vlan7', 'berlin/vlan7'], ['8.8.8.8', '']])
  t.same((await hosts(c, '&site=berlin')).map((h) => h.id), ['192.168.1.10%berlin/vlan7'])
})

t.test('a bad site is a 400 that names it; a token without a site has site null', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const r = await siteToken(c, 'vlan12')
  t.equal(r.status, 400)
  t.match(r.body, { message: /"site".*vlan<N>/ })
  t.equal((await siteToken(c, 'Not A Site')).status, 400)
  t.equal((await siteToken(c)).body.site, null)
  t.equal((await siteToken(c, 'lyon')).body.site, 'lyon')
})

const exec = promisify(execFile)
const BIN = new URL('../collector/cli/main.js', import.meta.url).pathname

t.test('telltale-collector token create --site: the CLI makes site tokens offline', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-sites-cli-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const { stdout, stderr } = await exec(process.execPath, [BIN, 'token', 'create', '--role', 'enroll', '--site', 'oslo', '--json', '--data-dir', dir])
  t.match(JSON.parse(stdout), { role: 'enroll', site: 'oslo' })
  t.match(stderr, /site oslo/)
  const bad = await exec(process.execPath, [BIN, 'token', 'create', '--role', 'enroll', '--site', 'Oslo', '--data-dir', dir]).catch((e: { code: number; stderr: string }) => e)
  t.equal((bad as { code: number }).code, 2)
  t.match((bad as { stderr: string }).stderr, /--site: "Oslo" is not a site name/)
  const admin = await exec(process.execPath, [BIN, 'token', 'create', '--role', 'admin', '--site', 'oslo', '--data-dir', dir]).catch((e: { code: number; stderr: string }) => e)
  t.equal((admin as { code: number }).code, 2)
  t.match((admin as { stderr: string }).stderr, /only enroll tokens have a site/)
  // The offline token enrolls an agent into its site once a collector runs on the store.
  const c = await startCollector({}, dir)
  t.teardown(() => c.close())
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: JSON.parse(stdout).token, machine_id_hash: machineHash(5), nonce: 'nonce-0123456789-cli' } })
  t.equal(r.statusCode, 200)
  const agent = (await c.app.inject({ method: 'GET', url: `/api/v1/agents/${(r.json() as { agent_id: string }).agent_id}`, headers: auth })).json() as { site: string }
  t.equal(agent.site, 'oslo')
})
