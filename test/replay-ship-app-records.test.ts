// `telltale-agent replay --collector` ships the analyzers' application-log rows as AppRecords:
// a generated capture with DNS (IPv4 and IPv6, a name that is not UTF-8), HTTP and TLS (with
// a certificate) is replayed twice, once to `--json --log-dir` and once to a collector that
// decodes and acknowledges every Batch (checked at the wire: the collector's storage of app
// records is not part of this change). The shipped records are exactly the rows the logs
// hold, with the same JSON, and their index fields are copies of the row's. flows.app_logs
// (here through its environment variable) limits what ships.
import t from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ipaddr from 'ipaddr.js'
import type { AppRecord } from '../protocol/index.js'
import { machineIdHash, saveIdentity } from '../agent/ship/identity.js'
import { clientHello, cert, hs, record, serverHello } from './app-tls-fixtures.js'
import { dnsMessage, QUERY, rdA, RESPONSE } from './helpers/dns-builder.js'
import { writeCaptureFile } from './helpers/pcap-writer.js'
import { startFakeCollector } from './helpers/ship-fake-collector.js'
import { mergeByTime, tcpConversation, udpExchange } from './helpers/traffic.js'
import { runAgentCli } from './helpers/agent-cli.js'

const T0 = 1_700_000_000
const u24 = (n: number): Buffer => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff])

function captureFrames(): ReturnType<typeof mergeByTime> {
  const client = { ip: '10.40.0.10', port: 40001 }
  const resolver = { ip: '10.40.0.1', port: 53 }
  const odd = { name: Buffer.from([0x03, 0x77, 0xff, 0x77, 0x07, ...Buffer.from('example'), 0x00]), type: 1 }
  const q4 = { name: 'www.example.org', type: 1 }
  const dns4 = udpExchange({ client, server: resolver, t0: T0 + 1, exchanges: [
    { from: 'orig', bytes: 0, data: dnsMessage({ id: 7, flags: QUERY, questions: [q4] }) },
    { from: 'resp', bytes: 0, data: dnsMessage({ id: 7, flags: RESPONSE, questions: [q4], answers: [{ name: 'www.example.org', type: 1, ttl: 60, rdata: rdA('93.184.216.34') }] }) },
  ] })
  const dnsOdd = udpExchange({ client: { ip: client.ip, port: 40002 }, server: resolver, t0: T0 + 1.5, exchanges: [
    { from: 'orig', bytes: 0, data: dnsMessage({ id: 8, flags: QUERY, questions: [odd] }) },
  ] })
  const q6 = { name: 'v6.example.org', type: 28 }
  const dns6 = udpExchange({ ipv6: true, client: { ip: '2001:db8::10', port: 40003 }, server: { ip: '2001:db8::53', port: 53 }, t0: T0 + 2, exchanges: [
    { from: 'orig', bytes: 0, data: dnsMessage({ id: 9, flags: QUERY, questions: [q6] }) },
    { from: 'resp', bytes: 0, data: dnsMessage({ id: 9, flags: RESPONSE, questions: [q6] }) },
  ] })
  const get = Buffer.from('GET /index.html?q=%ff HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: telltale-test/1.0\r\n\r\n')
  const ok = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello')
  const http = tcpConversation({ client: { ip: client.ip, port: 40004 }, server: { ip: '93.184.216.34', port: 80 }, t0: T0 + 3, exchanges: [
    { from: 'orig', bytes: get.length, data: get }, { from: 'resp', bytes: ok.length, data: ok },
  ] })
  const hello = record(22, hs(1, clientHello({ ciphers: [0xc02f, 0x1301], extensions: [], sni: 'www.example.org', alpn: ['h2'], sigs: [0x0403], versions: [] })))
  const der = cert({})
  const answer = record(22, Buffer.concat([hs(2, serverHello({ cipher: 0xc02f, alpn: 'h2' })), hs(11, Buffer.concat([u24(der.length + 3), u24(der.length), der])), hs(14, Buffer.alloc(0))]))
  const tls = tcpConversation({ client: { ip: client.ip, port: 40005 }, server: { ip: '93.184.216.34', port: 443 }, t0: T0 + 4, exchanges: [
    { from: 'orig', bytes: hello.length, data: hello }, { from: 'resp', bytes: answer.length, data: answer },
  ] })
  return mergeByTime(dns4, dnsOdd, dns6, http, tls)
}

const run = runAgentCli

/** path → its lines, for the application logs `replay --json --log-dir` wrote. */
function jsonLogs(dir: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.log') || f === 'conn.log' || f === 'weird.log') continue
    out.set(f.slice(0, -4), readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''))
  }
  return out
}

/**
 * Connection and file uids are random per run: each distinct one is renamed by its order of
 * first appearance (logs in name order), so two runs compare byte for byte everywhere else
 * and rows that shared a uid still share it.
 */
function canonicalUids(logs: Map<string, string[]>): Map<string, string[]> {
  const names = new Map<string, string>()
  const out = new Map<string, string[]>()
  for (const path of [...logs.keys()].sort()) {
    out.set(path, logs.get(path)!.map((l) => l.replace(/"([CF])[0-9A-Za-z]{14,20}"/g, (m, kind: string) => {
      if (!names.has(m)) names.set(m, `"${kind}#${names.size}"`)
      return names.get(m)!
    })))
  }
  return out
}

function addressText(b: Uint8Array): string {
  return b.length === 0 ? '' : ipaddr.fromByteArray(Array.from(b)).toString()
}

t.test('replay --collector ships every application-log row as an AppRecord, as replay --json writes it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-replay-app-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pcap = join(dir, 'app.pcap')
  writeCaptureFile(pcap, captureFrames())
  const logs = join(dir, 'logs')
  const local = await run(['replay', pcap, '--json', '--log-dir', logs])
  t.equal(local.status, 0, local.stderr)
  const expected = jsonLogs(logs)
  t.same([...expected.keys()].sort(), ['dns', 'http', 'ssl', 'x509'], 'the capture yields dns, http, ssl and x509 rows')
  t.equal(expected.get('dns')?.length, 3)
  t.ok(expected.get('dns')!.some((l) => l.includes('w\\\\xffw.example')), 'a DNS name that is not UTF-8 is escaped as Zeek does')

  const fc = await startFakeCollector()
  t.teardown(() => fc.close())
  const state = join(dir, 'state')
  saveIdentity(state, { agent_id: 'agent-app', secret: 'secret-app', machine_id_hash: machineIdHash(), nonce: 'n', collector: fc.url, enrolled_at: new Date().toISOString() })
  const shipped = await run(['replay', pcap, '--collector', fc.url, '--state-dir', state])
  t.equal(shipped.status, 0, shipped.stderr)
  const total = [...expected.values()].reduce((n, l) => n + l.length, 0)
  t.match(shipped.stdout, new RegExp(`; \\d+ host observations, \\d+ acknowledged; ${total} app records, ${total} acknowledged in \\d+ batches`), shipped.stdout)

  const received = (): AppRecord[] => [...fc.batches.values()].sort((a, b) => a.seq - b.seq).flatMap((b) => b.appRecords as AppRecord[])
  const records = received()
  const byLog = new Map<string, string[]>()
  for (const r of records) byLog.set(r.log, [...byLog.get(r.log) ?? [], r.zeekJson])
  t.same([...byLog.keys()].sort(), [...expected.keys()].sort())
  t.match(canonicalUids(expected).get('http')![0], /"uid":"C#\d+".*"resp_fuids":\["F#\d+"\]/, 'uids renamed, nothing else')
  t.same(canonicalUids(byLog), canonicalUids(expected), 'the same rows, in the same order, with byte-identical JSON (uids aside: random per run)')
  for (const r of records) {
    const row = JSON.parse(r.zeekJson) as Record<string, unknown>
    t.equal(Number(r.tsUs), Math.round((row.ts as number) * 1e6), `${r.log} ts`)
    t.equal(r.uid, (row.uid as string | undefined) ?? '', `${r.log} uid`)
    t.equal(addressText(r.origH), (row['id.orig_h'] as string | undefined) ?? '', `${r.log} orig_h`)
    t.equal(addressText(r.respH), (row['id.resp_h'] as string | undefined) ?? '', `${r.log} resp_h`)
    t.equal(r.respP, (row['id.resp_p'] as number | undefined) ?? 0, `${r.log} resp_p`)
  }
  t.ok(records.some((r) => r.origH.length === 16), 'an IPv6 row carries 16-byte addresses')
  t.ok(records.some((r) => r.log === 'x509' && r.uid === '' && r.origH.length === 0), 'an x509 row carries none')

  // flows.app_logs limits what ships (environment variable, as for every key).
  fc.batches.clear()
  const dnsOnly = await run(['replay', pcap, '--collector', fc.url, '--state-dir', state], { TELLTALE_FLOWS_APP_LOGS: '[dns]' })
  t.equal(dnsOnly.status, 0, dnsOnly.stderr)
  t.match(dnsOnly.stdout, /; 3 app records, 3 acknowledged/, dnsOnly.stdout)
  t.same([...new Set(received().map((r) => r.log))], ['dns'], 'only dns rows shipped')
  fc.batches.clear()
  const none = await run(['replay', pcap, '--collector', fc.url, '--state-dir', state], { TELLTALE_FLOWS_APP_LOGS: '[]' })
  t.equal(none.status, 0, none.stderr)
  t.match(none.stdout, /; 0 app records, 0 acknowledged/, none.stdout)
  t.equal(received().length, 0)
})
