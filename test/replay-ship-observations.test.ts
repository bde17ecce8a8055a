// `telltale-agent replay --collector` ships the analyzers' host observations with the flows
// (as `run` does): a DNS answer in a capture names the host the client then connects to.
import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, enrollmentToken, startCollector } from './collector-fixtures.js'
import { dnsMessage, QUERY, rdA, RESPONSE } from './helpers/dns-builder.js'
import { Trace } from './helpers/flow-fixtures.js'
import { ipv4, IPPROTO_TCP, IPPROTO_UDP, tcp, udp } from './helpers/packet-builder.js'
import { buildPcap } from './helpers/pcap-writer.js'
import { runAgentCli } from './helpers/agent-cli.js'

t.test('a DNS answer in a replayed capture names the host in the collector', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-replay-obs-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const client = '10.20.0.1'
  const resolver = '10.20.0.53'
  const printer = '10.20.0.7'
  const question = { name: 'printer.example', type: 1 }
  const query = dnsMessage({ id: 9, flags: QUERY, questions: [question] })
  const answer = dnsMessage({ id: 9, flags: RESPONSE, questions: [question], answers: [{ name: 'printer.example', type: 1, ttl: 300, rdata: rdA(printer) }] })
  const tr = new Trace()
    .raw(ipv4({ src: client, dst: resolver, protocol: IPPROTO_UDP }, udp({ src: client, dst: resolver, sport: 40001, dport: 53 }, query)))
    .raw(ipv4({ src: resolver, dst: client, protocol: IPPROTO_UDP }, udp({ src: resolver, dst: client, sport: 53, dport: 40001 }, answer)))
    // The connection the lookup was for (a DNS answer alone names an address, it makes no host).
    .raw(ipv4({ src: client, dst: printer, protocol: IPPROTO_TCP }, tcp({ src: client, dst: printer, sport: 40002, dport: 631, seq: 100, ack: 0, flags: 'S' }, Buffer.alloc(0))))
    .raw(ipv4({ src: printer, dst: client, protocol: IPPROTO_TCP }, tcp({ src: printer, dst: client, sport: 631, dport: 40002, seq: 500, ack: 101, flags: 'SA' }, Buffer.alloc(0))))
  const pcap = join(dir, 'dns.pcap')
  writeFileSync(pcap, buildPcap(tr.frames))

  const c = await startCollector()
  t.teardown(() => c.close())
  const url = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const token = await enrollmentToken(c)
  // spawnSync would block the collector living in this process: run the agent asynchronously.
  const r = await runAgentCli(['replay', pcap, '--collector', url, '--enroll-token', token, '--state-dir', join(dir, 'state')])
  t.equal(r.status, 0, r.stderr)
  const m = /2 flows produced, 2 acknowledged; (\d+) host observations, (\d+) acknowledged/.exec(r.stdout)
  t.ok(m, `summary line: ${r.stdout.trim()}`)
  t.ok(Number(m?.[1]) >= 1, 'the DNS answer produced host observations')
  t.equal(m?.[2], m?.[1], 'every observation acknowledged')
  await c.api.topology.settle()
  const hosts = (await c.app.inject({ method: 'GET', url: '/api/v1/hosts?name=printer.example', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { hosts: Array<{ ips: string[]; names: Array<{ name: string; source: string }> }> }
  t.equal(hosts.hosts.length, 1, 'one host carries the name')
  t.same(hosts.hosts[0]?.ips, [printer])
  t.ok(hosts.hosts[0]?.names.some((n) => n.name === 'printer.example' && n.source.startsWith('dns')), JSON.stringify(hosts.hosts[0]?.names))
})

t.test('--wait-timeout gives up with the batches kept; the next replay sends them and still succeeds', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-replay-carry-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const conversation = (client: string, server: string): Trace => new Trace()
    .raw(ipv4({ src: client, dst: server, protocol: IPPROTO_TCP }, tcp({ src: client, dst: server, sport: 40010, dport: 8080, seq: 100, ack: 0, flags: 'S' }, Buffer.alloc(0))))
    .raw(ipv4({ src: server, dst: client, protocol: IPPROTO_TCP }, tcp({ src: server, dst: client, sport: 8080, dport: 40010, seq: 500, ack: 101, flags: 'SA' }, Buffer.alloc(0))))
  const first = join(dir, 'first.pcap')
  const second = join(dir, 'second.pcap')
  writeFileSync(first, buildPcap(conversation('10.30.0.1', '10.30.0.2').frames))
  writeFileSync(second, buildPcap(conversation('10.30.0.3', '10.30.0.4').frames))
  const c = await startCollector()
  t.teardown(() => c.close())
  const url = await c.app.listen({ host: '127.0.0.1', port: 0 })
  const state = join(dir, 'state')
  const run = (args: string[]) => runAgentCli(args)
  const en = await run(['enroll', '--collector', url, '--token', await enrollmentToken(c), '--state-dir', state])
  t.equal(en.status, 0, en.stderr)
  // A collector address nothing listens on: the batches stay in the spool; give up after 1 s.
  const dead = await new Promise<string>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const port = (s.address() as AddressInfo).port; s.close(() => resolve(`http://127.0.0.1:${port}`)) })
  })
  const interrupted = await run(['replay', first, '--collector', dead, '--state-dir', state, '--wait-timeout', '1'])
  t.equal(interrupted.status, 1, 'the replay that gave up waiting does not claim success')
  t.match(interrupted.stderr, /did not acknowledge everything within --wait-timeout 1 s; 1 batches stay in the spool/, interrupted.stderr)
  const r = await run(['replay', second, '--collector', url, '--state-dir', state])
  t.equal(r.status, 0, r.stderr)
  t.match(r.stdout, /: 1 flows produced, 2 acknowledged/, r.stdout)
  t.match(r.stdout, /include 1 flows, \d+ host observations and \d+ app records in \d+ batches an earlier, interrupted run left in the spool/, r.stdout)
  const flows = (await c.app.inject({ method: 'GET', url: '/api/v1/flows?limit=10', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { flows: Array<{ orig_h: string }> }
  t.same(flows.flows.map((f) => f.orig_h).sort(), ['10.30.0.1', '10.30.0.3'], 'the collector holds both runs\' flows, once each')
})
