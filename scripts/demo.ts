/**
 * `npm run demo`: generate a realistic capture (deterministic: TCP sessions with FIN/RST/
 * rejected/unanswered, DNS, one-sided UDP, ICMP, IPv6 and VLAN-tagged traffic), replay it
 * through the agent's pipeline exactly as `telltale-agent replay` does, and print what it found.
 * Then the whole system: a collector, an agent that enrolls and ships that capture, and a
 * second sensor that ships an hour of office traffic with eight attacks in it (two of them
 * visible only in the agent's application rows); the collector's detection must name each attack (ground truth from the scenario generator the detection
 * tests use). Logs are left in ./data/demo for a closer look.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { spawn, spawnSync } from 'node:child_process'
import { request } from 'undici'
import { fileURLToPath } from 'node:url'
import { generateCapture } from '../bench/generate-capture.js'
import { replayFiles } from '../agent/cli/commands/replay.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { writeCaptureFile } from '../test/helpers/pcap-writer.js'
import { ATTACKS, type GroundTruth } from '../test/helpers/scenario-attacks.js'
import { benignTraffic } from '../test/helpers/scenario-network.js'
import { mergeByTime } from '../test/helpers/traffic.js'

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..')
const dir = join(root, 'data', 'demo')
mkdirSync(dir, { recursive: true })
const pcap = join(dir, 'demo.pcap')

const gen = generateCapture(pcap, { profile: 'mix', flows: 3000, seed: 2026 })
console.log(`Generated ${pcap}: ${gen.packets} packets, ${gen.flows} conversations (${Object.entries(gen.byKind).map(([k, v]) => `${k}=${v}`).join(', ')})`)

const recs: ConnRecord[] = []
const logDir = join(dir, 'logs')
const s = await replayFiles([pcap], { logDir, communityId: true, vlanColumns: true, quiet: true }, { onConn: (r) => recs.push(r) })
// A capture this small is mostly start-up and JIT warm-up: no throughput figure here (npm run bench).
console.log(`Replayed ${s.packets.toLocaleString('en-US')} packets in ${s.seconds.toFixed(2)} s: ${s.conns} connections`)

const count = <K extends string>(xs: K[]): Array<[K, number]> => {
  const m = new Map<K, number>()
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1)
  return [...m.entries()].sort((a, b) => b[1] - a[1])
}
console.log('\nConnections by protocol:  ' + count(recs.map((r) => r.proto)).map(([k, v]) => `${k} ${v}`).join(', '))
console.log('Connections by conn_state: ' + count(recs.map((r) => r.connState)).map(([k, v]) => `${k} ${v}`).join(', '))

const talkers = new Map<string, number>()
for (const r of recs) talkers.set(r.origH, (talkers.get(r.origH) ?? 0) + r.origIpBytes + r.respIpBytes)
console.log('\nTop talkers (bytes, as originator):')
for (const [h, b] of [...talkers.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`  ${h.padEnd(28)} ${b.toLocaleString('en-US')}`)

console.log('\nTop services (responder port/proto, connections):')
for (const [k, v] of count(recs.map((r) => `${r.respP}/${r.proto}`)).slice(0, 6)) console.log(`  ${k.padEnd(12)} ${v}`)

// The generator knows what it wrote: check the replay found exactly that.
const states = new Map(count(recs.map((r) => r.connState)))
const k = gen.byKind
const expected: Array<[string, number, number]> = [
  ['SF (TCP closed with FIN + DNS answered)', k.tcp_fin + k.udp_dns, states.get('SF') ?? 0],
  ['S0 (unanswered SYN + one-sided UDP)', k.tcp_syn_only + k.udp_one_sided, states.get('S0') ?? 0],
  ['REJ (rejected)', k.tcp_rejected, states.get('REJ') ?? 0],
  ['RSTO+RSTR (reset)', k.tcp_rst, (states.get('RSTO') ?? 0) + (states.get('RSTR') ?? 0)],
  ['OTH (ICMP echo)', k.icmp_echo, states.get('OTH') ?? 0],
]
const ok = expected.every(([, want, got]) => want === got)
console.log(`\nGround truth check (${ok ? 'all match' : 'MISMATCH'}):`)
for (const [label, want, got] of expected) console.log(`  ${want === got ? 'ok ' : 'BAD'} ${label}: generated ${want}, found ${got}`)
if (!ok) process.exitCode = 1

const rejected = recs.filter((r) => r.connState === 'REJ' || r.connState === 'S0')
console.log(`\nUnanswered or rejected connection attempts: ${rejected.length}`)
const anomalies = Object.entries(s.anomalies).filter(([, v]) => v > 0)
console.log(`Anomalies: ${anomalies.length ? anomalies.map(([k, v]) => `${k}=${v}`).join(', ') : 'none'}`)
console.log(`\nZeek-format logs in ${logDir}: conn.log, dns.log, http.log, ssl.log, ssh.log, x509.log, weird.log, hosts.ndjson`)

await runCollectorDemo()

/**
 * Part two: the whole system. Start a collector, replay the same capture through an agent
 * that enrolls and ships it, then ask the collector's API what it merged. The collector keeps
 * running until Ctrl-C when the demo runs in a terminal; in scripts and CI it stops at the end.
 */
async function runCollectorDemo(): Promise<void> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const admin = `demo-admin-${process.pid}`
  const cdir = join(dir, 'collector')
  const adir = join(dir, 'agent')
  rmSync(cdir, { recursive: true, force: true })
  rmSync(adir, { recursive: true, force: true })
  rmSync(join(dir, 'agent-b'), { recursive: true, force: true })
  const collectorBin = join(root, 'dist', 'collector', 'cli', 'main.js')
  // Retention goes by the records' own time and the demo capture is dated 2023: with the
  // defaults, a demo collector left running would expire everything at minute 17.
  const keepDemoRecords = Object.fromEntries(['FLOWS', 'EVENTS', 'APP_RECORDS', 'TOPOLOGY', 'ALERTS', 'ROLLUP_MINUTE', 'ROLLUP_HOUR'].map((k) => [`TELLTALE_RETENTION_${k}_DAYS`, '36500']))
  const agentBin = join(root, 'dist', 'agent', 'cli', 'main.js')
  const collector = spawn(process.execPath, [collectorBin, 'serve', '--data-dir', cdir, '--listen', `127.0.0.1:${port}`],
    { env: { ...process.env, ...keepDemoRecords, TELLTALE_ADMIN_TOKEN: admin }, stdio: ['ignore', 'ignore', 'inherit'] })
  const stop = (): void => { if (collector.exitCode === null) collector.kill('SIGTERM') }
  process.on('exit', stop)
  try {
    await waitReady(base)
    console.log(`\n== Collector listening on ${base} (data in ${cdir})`)
    const auth = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }
    const tok = await api<{ token: string }>(`${base}/api/v1/enrollment-tokens`, 'POST', auth, { uses: 1 })
    console.log('Agent enrolls and ships the capture …')
    const r = spawnSync(process.execPath, [agentBin, 'replay', pcap, '--collector', base, '--enroll-token', tok.token, '--state-dir', adir],
      { encoding: 'utf8' })
    process.stdout.write(`${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '').map((l) => `  ${l}\n`).join(''))
    if (r.status !== 0) throw new Error(`agent replay exited ${r.status}: ${r.stderr.slice(-500)}`)
    const stats = await api<Record<string, unknown>>(`${base}/api/v1/stats`, 'GET', auth)
    console.log(`Collector holds: ${['flows', 'app_records', 'hosts', 'edges', 'events', 'alerts', 'agents'].map((k) => `${k} ${JSON.stringify(stats[k])}`).join(', ')}`)
    await appRecordsDemo(base, auth)
    const topo = await api<{ edges: Array<{ source: string; target: string; proto: string; port: number; services: string[]; flows: number; bytes: number }>; nodes: Array<{ id: string; ips?: string[]; ip?: string }> }>(
      `${base}/api/v1/topology?limit=5`, 'GET', auth)
    const name = (id: string): string => { const n = topo.nodes.find((x) => x.id === id); return n?.ips?.[0] ?? n?.ip ?? id }
    console.log('Busiest edges (client → server service):')
    for (const e of topo.edges) console.log(`  ${name(e.source).padEnd(26)} → ${name(e.target).padEnd(26)} ${e.port}/${e.proto} ${(e.services ?? []).join(',') || '-'}  ${e.flows} flows, ${e.bytes.toLocaleString('en-US')} B`)
    if (!(await detectionDemo(base, auth, agentBin))) process.exitCode = 1
    console.log('\nQuery it yourself:')
    console.log(`  curl -H 'Authorization: Bearer ${admin}' ${base}/api/v1/hosts?limit=5`)
    console.log(`  curl -H 'Authorization: Bearer ${admin}' '${base}/api/v1/topology?format=graphml' > topology.graphml`)
    console.log(`  curl -H 'Authorization: Bearer ${admin}' ${base}/api/v1/alerts`)
    console.log(`  curl -H 'Authorization: Bearer ${admin}' '${base}/api/v1/app-records?log=dns&limit=5'`)
    console.log(`  API docs: ${base}/docs`)
    if (process.stdin.isTTY) {
      console.log('\nThe collector keeps running; press Ctrl-C to stop it.')
      await new Promise<void>((res) => { process.on('SIGINT', () => res()); collector.on('exit', () => res()) })
    }
  } finally {
    stop()
  }
}

/**
 * The agent's application rows as the collector serves them (GET /api/v1/app-records): a few
 * TLS handshakes with their fingerprints and a few DNS answers, the same rows as ssl.log and
 * dns.log in the replay's log directory.
 */
async function appRecordsDemo(base: string, auth: Record<string, string>): Promise<void> {
  type Row = Record<string, unknown>
  const rows = async (qs: string): Promise<Row[]> => (await api<{ app_records: Row[] }>(`${base}/api/v1/app-records?${qs}`, 'GET', auth)).app_records
  const text = (v: unknown): string => (Array.isArray(v) ? v.join(',') : v === undefined || v === null ? '-' : String(v))
  console.log('Application rows at the collector (GET /api/v1/app-records), e.g.:')
  for (const r of await rows('log=ssl&limit=3')) {
    console.log(`  ssl  ${text(r['id.orig_h'])} → ${text(r['id.resp_h'])}:${text(r['id.resp_p'])} ${text(r.version)} sni=${text(r.server_name)} ja3=${text(r.ja3)} ja4=${text(r.ja4)}`)
  }
  for (const r of await rows('log=dns&limit=3')) {
    console.log(`  dns  ${text(r['id.orig_h'])} asked ${text(r.query)} ${text(r.qtype_name)} → ${text(r.rcode_name)} ${text(r.answers)}`)
  }
}

/**
 * Part three: a second sensor (its own identity: another machine id) ships an hour of office
 * traffic with eight attacks in it; the collector's detection must raise an alert for each,
 * naming the attacker (and the target where there is one).
 */
async function detectionDemo(base: string, auth: Record<string, string>, agentBin: string): Promise<boolean> {
  // Attacks that need no site configuration (policy, gateways, intel feeds, learning periods);
  // the last two show only in the agent's application rows (a TXT-record tunnel, HTTP Basic).
  const names = ['port_scan', 'address_scan', 'bruteforce', 'dns_tunnel', 'beaconing', 'cleartext_credentials', 'dns_txt_tunnel', 'http_basic_auth']
  const attacks = ATTACKS.filter((a) => names.includes(a.name))
  const truth: GroundTruth[] = attacks.map((a) => a.truth)
  const frames = mergeByTime(benignTraffic({ seed: 7 }), ...attacks.map((a) => a.frames()))
  const pcapB = join(dir, 'office-attacks.pcap')
  writeCaptureFile(pcapB, frames)
  const machineId = join(dir, 'sensor-b.machine-id')
  writeFileSync(machineId, 'de0de0de0de0de0de0de0de0de0de0de\n')
  console.log(`\n== A second sensor ships ${pcapB}: an hour of office traffic (${frames.length.toLocaleString('en-US')} packets) with ${attacks.length} attacks in it`)
  const tok = await api<{ token: string }>(`${base}/api/v1/enrollment-tokens`, 'POST', auth, { uses: 1 })
  const r = spawnSync(process.execPath, [agentBin, 'replay', pcapB, '--collector', base, '--enroll-token', tok.token, '--state-dir', join(dir, 'agent-b')],
    { encoding: 'utf8', env: { ...process.env, TELLTALE_MACHINE_ID_FILE: machineId } })
  process.stdout.write(`${r.stdout}${r.stderr}`.split('\n').filter((l) => l.trim() !== '').map((l) => `  ${l}\n`).join(''))
  if (r.status !== 0) throw new Error(`sensor B replay exited ${r.status}: ${r.stderr.slice(-500)}`)
  // Detection runs after the ack, from its own queue: wait until /metrics says it is empty.
  const deadline = Date.now() + 60_000
  for (;;) {
    const res = await request(`${base}/metrics`, { headers: auth })
    const m = /^telltale_detection\{what="queue_batches"\} (\d+)$/m.exec(await res.body.text())
    if (m?.[1] === '0') break
    if (Date.now() > deadline) throw new Error('detection did not finish within 60 s')
    await new Promise((r) => setTimeout(r, 200))
  }
  type AlertRow = { type: string; severity: string; src: string; dst?: string | null; summary?: string }
  const alerts = (await api<{ alerts: AlertRow[] }>(`${base}/api/v1/alerts?limit=1000`, 'GET', auth)).alerts
  console.log(`Alerts raised by the collector: ${alerts.length}`)
  for (const a of alerts) console.log(`  ${a.severity.padEnd(8)} ${a.type.padEnd(22)} ${a.src}${a.dst ? ` → ${a.dst}` : ''}${a.summary ? `  ${a.summary}` : ''}`)
  let ok = true
  console.log('Ground truth check:')
  for (const t of truth) {
    const hit = alerts.some((a) => a.type === t.type && a.src === t.src && (t.dst === undefined || a.dst === t.dst))
    if (!hit) ok = false
    console.log(`  ${hit ? 'ok ' : 'BAD'} ${t.type}: ${t.src}${t.dst ? ` → ${t.dst}` : ''}`)
  }
  return ok
}

async function api<T>(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body?: unknown): Promise<T> {
  const res = await request(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.body.text()
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${text.slice(0, 300)}`)
  return JSON.parse(text) as T
}

async function waitReady(base: string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    try {
      const r = await request(`${base}/readyz`)
      await r.body.dump()
      if (r.statusCode === 200) return
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`collector at ${base} did not become ready within 30 s`)
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer()
    srv.once('error', rej)
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address()
      const p = typeof a === 'object' && a ? a.port : 0
      srv.close(() => res(p))
    })
  })
}
