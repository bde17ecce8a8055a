// `telltale-agent replay --collector` ships the analyzers' host observations with the flows
// (as `run` does): a DNS answer in a capture names the host the client then connects to.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, enrollmentToken, startCollector } from './collector-fixtures.js'
import { dnsMessage, QUERY, rdA, RESPONSE } from './helpers/dns-builder.js'
import { Trace } from './helpers/flow-fixtures.js'
import { ipv4, IPPROTO_TCP, IPPROTO_UDP, tcp, udp } from './helpers/packet-builder.js'
import { AGENT_BIN } from './helpers/paths.js'
import { buildPcap } from './helpers/pcap-writer.js'

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
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [AGENT_BIN, 'replay', pcap, '--collector', url, '--enroll-token', token, '--state-dir', join(dir, 'state')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    p.on('exit', (status) => resolve({ status, stdout, stderr }))
  })
  t.equal(r.status, 0, r.stderr)
  const m = /2 flows produced, 2 acknowledged; (\d+) host observations, (\d+) acknowledged/.exec(r.stdout)
  t.ok(m, `summary line: ${r.stdout.trim()}`)
  t.ok(Number(m?.[1]) >= 1, 'the DNS answer produced host observations')
  t.equal(m?.[2], m?.[1], 'every observation acknowledged')
  await c.api.topology.flush()
  const hosts = (await c.app.inject({ method: 'GET', url: '/api/v1/hosts?name=printer.example', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { hosts: Array<{ ips: string[]; names: Array<{ name: string; source: string }> }> }
  t.equal(hosts.hosts.length, 1, 'one host carries the name')
  t.same(hosts.hosts[0]?.ips, [printer])
  t.ok(hosts.hosts[0]?.names.some((n) => n.name === 'printer.example' && n.source.startsWith('dns')), JSON.stringify(hosts.hosts[0]?.names))
})
