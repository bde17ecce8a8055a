/**
 * `npm run demo`: generate a realistic capture (deterministic: TCP sessions with FIN/RST/
 * rejected/unanswered, DNS, one-sided UDP, ICMP, IPv6 and VLAN-tagged traffic), replay it
 * through the agent's pipeline exactly as `telltale-agent replay` does, and print what it found.
 * Logs are left in ./data/demo for a closer look.
 */
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateCapture } from '../bench/generate-capture.js'
import { replayFiles } from '../agent/cli/commands/replay.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..')
const dir = join(root, 'data', 'demo')
mkdirSync(dir, { recursive: true })
const pcap = join(dir, 'demo.pcap')

const gen = generateCapture(pcap, { profile: 'mix', flows: 3000, seed: 2026 })
console.log(`Generated ${pcap}: ${gen.packets} packets, ${gen.flows} conversations (${Object.entries(gen.byKind).map(([k, v]) => `${k}=${v}`).join(', ')})`)

const recs: ConnRecord[] = []
const logDir = join(dir, 'logs')
const s = await replayFiles([pcap], { logDir, communityId: true, vlanColumns: true, quiet: true }, { onConn: (r) => recs.push(r) })
console.log(`Replayed in ${s.seconds.toFixed(2)} s (${Math.round(s.packets / s.seconds).toLocaleString('en-US')} packets/s): ${s.conns} connections`)

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
console.log(`\nZeek-format logs: ${join(logDir, 'conn.log')} and weird.log`)
console.log('Try: npx telltale-agent replay data/demo/demo.pcap --json --log-dir /tmp/out && head -3 /tmp/out/conn.log')
