// Detectors as pure components: thresholds, windows, one incident per key, bounded state,
// capture-loss confidence — fed DetectionFlow/DetectionEvent records built in code.
import t from 'tap'
import { createHash } from 'node:crypto'
import { Value } from '@sinclair/typebox/value'
import { DetectionConfigSchema, type DetectionConfig } from '../collector/detection/detection-config.js'
import { DetectionEngine } from '../collector/detection/detection-engine.js'
import type { DetectionEvent, DetectionFlow, Finding } from '../collector/detection/detection-types.js'
import type { HostObservation } from '../protocol/index.js'
import { parseV4 } from '../collector/detection/net-match.js'
import { detectionFlow } from './helpers/detection-flows.js'
import { entropy, registeredDomain } from '../collector/detection/dns-names.js'
import { DnsTunnelDetector } from '../collector/detection/dns-tunnel-detector.js'
import { IntelService } from '../collector/intel/intel-service.js'
import { PolicyConfigSchema, type PolicyConfig } from '../collector/policy/policy-config.js'
import { pino } from 'pino'

const T0 = 1_700_000_000_000_000
const S = 1_000_000

function cfg(over: (c: DetectionConfig) => void = () => {}): DetectionConfig {
  const c = Value.Default(DetectionConfigSchema, {}) as DetectionConfig
  over(c)
  return c
}

const flow = detectionFlow

function run(c: DetectionConfig, flows: DetectionFlow[]): Finding[] {
  const e = new DetectionEngine(c)
  const out: Finding[] = []
  for (const f of flows) e.flow(f, (x) => out.push(x))
  e.tick((x) => out.push(x))
  return out
}

t.test('port_scan: 14 failed ports is quiet, the 15th alerts once; later ports update the same incident', async (t) => {
  const mk = (n: number) => Array.from({ length: n }, (_, i) => flow({ origH: '10.0.0.1', respH: '10.0.0.2', respP: 1000 + i, connState: i % 2 ? 'REJ' : 'S0', tsUs: T0 + i * S }))
  t.equal(run(cfg(), mk(14)).filter((f) => f.type === 'port_scan').length, 0)
  const f = run(cfg(), mk(20)).filter((f) => f.type === 'port_scan')
  t.equal(f.length, 6, 'first finding at 15 then one per new port')
  t.ok(f.every((x) => x.key === '10.0.0.1|10.0.0.2'))
  t.equal(f[0]!.count, 15)
  // completed connections do not count
  t.equal(run(cfg(), Array.from({ length: 30 }, (_, i) => flow({ origH: '10.0.0.1', respH: '10.0.0.2', respP: 1000 + i }))).length, 0)
})

t.test('port_scan: a slow scan (one port every 2 min) alerts over the slow window only', async (t) => {
  const flows = Array.from({ length: 20 }, (_, i) => flow({ origH: '10.0.0.1', respH: '10.0.0.2', respP: 2000 + i, connState: 'S0', tsUs: T0 + i * 120 * S }))
  t.equal(run(cfg((c) => { c.port_scan.slow_window_s = 60 }), flows).filter((f) => f.type === 'port_scan').length, 0, 'slow window too short')
  const f = run(cfg(), flows).filter((f) => f.type === 'port_scan')
  t.ok(f.length >= 1)
  t.match(f[0]!.summary, /slow scan/)
})

t.test('address_scan: 25 unanswered hosts on one port; UDP without reply counts', async (t) => {
  const flows = Array.from({ length: 25 }, (_, i) => flow({ origH: '10.0.0.9', respH: `10.0.1.${i}`, respP: 161, proto: 'udp', connState: 'S0', respPkts: 0, origPkts: 1 }))
  const f = run(cfg(), flows).filter((x) => x.type === 'address_scan')
  t.equal(f.length, 1)
  t.equal(f[0]!.port, 161)
  t.equal(run(cfg(), flows.slice(0, 24)).filter((x) => x.type === 'address_scan').length, 0)
})

t.test('bruteforce: flows and sshd events for the same source are one incident carrying both kinds of evidence', async (t) => {
  const e = new DetectionEngine(cfg())
  const out: Finding[] = []
  const emit = (x: Finding) => out.push(x)
  for (let i = 0; i < 29; i++) e.flow(flow({ origH: '192.0.2.7', respH: '10.0.0.5', respP: 22, durationUs: 2 * S, origBytes: 1400, respBytes: 1500, connState: 'RSTO', tsUs: T0 + i * 10 * S }), emit)
  t.equal(out.length, 0, '29 failures: below the Zeek default of 30')
  const ev = (i: number): DetectionEvent => ({ agentId: 'a2', tsUs: T0 + i * 10 * S, eventId: `ev${i}`, dataset: 'sshd', category: ['authentication'], action: 'failed_password', outcome: 'failure', sourceIp: '192.0.2.7', destinationIp: '', destinationPort: 0, userName: 'root', hostName: 'srv', urlOriginal: '', urlDomain: '' })
  const det = e.detectors.find((d) => d.name === 'bruteforce')!
  for (let i = 0; i < 31; i++) det.onEvent!(ev(i), emit)
  t.ok(out.length >= 1)
  t.ok(out.every((x) => x.key === '192.0.2.7'), 'one incident key')
  const evidence = out.flatMap((x) => [...(x.evidence.flowUids ?? []), ...(x.evidence.eventIds ?? [])])
  t.ok(evidence.some((x) => x.startsWith('C')) && evidence.some((x) => x.startsWith('ev')), 'flows and events both in the evidence')
  t.equal(out.reduce((n, x) => n + x.count, 0), 31, 'count = the larger of the two evidence counts')
  t.match(out[out.length - 1]!.summary, /short failed sessions and failed-login log events/)
  // long sessions are logins that worked
  t.equal(run(cfg(), Array.from({ length: 40 }, (_, i) => flow({ origH: '192.0.2.8', respH: '10.0.0.5', respP: 22, durationUs: 600 * S, origBytes: 50_000, tsUs: T0 + i * S }))).filter((x) => x.type === 'bruteforce').length, 0)
})

t.test('beaconing: 60 s ± 3% over an hour alerts; Poisson-timed connections do not', async (t) => {
  let seed = 5
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const periodic: DetectionFlow[] = []
  for (let i = 0, ts = T0; i < 60; i++, ts += Math.round((60 + (rnd() - 0.5) * 3.6) * S)) periodic.push(flow({ origH: '10.0.0.3', respH: '8.8.4.4', respP: 8443, tsUs: ts }))
  const f = run(cfg(), periodic).filter((x) => x.type === 'beaconing')
  t.ok(f.length >= 1)
  t.ok(f[0]!.score >= 70, `score ${f[0]!.score}`)
  t.equal(new Set(f.map((x) => x.key)).size, 1)
  const poisson: DetectionFlow[] = []
  for (let i = 0, ts = T0; i < 60; i++, ts += Math.round(-Math.log(1 - rnd()) * 60 * S) + S) poisson.push(flow({ origH: '10.0.0.3', respH: '8.8.4.4', respP: 8443, tsUs: ts }))
  t.equal(run(cfg(), poisson).filter((x) => x.type === 'beaconing').length, 0)
  t.equal(run(cfg(), periodic.map((p) => ({ ...p, respP: 123 }))).filter((x) => x.type === 'beaconing').length, 0, 'NTP port ignored')
})

t.test('dns_tunnel: names with long high-entropy labels under one domain; normal names do not', async (t) => {
  t.equal(registeredDomain('a.b.example.co.uk'), 'example.co.uk')
  t.equal(registeredDomain('x.y.example.com.'), 'example.com')
  t.ok(entropy('aGVsbG8gd29ybGQgdGhpcyBpcyBleGZpbHRyYXRlZA') > 3.5)
  const d = new DnsTunnelDetector({ windowS: 3600, minQueries: 300, minQueryBytes: 90, minVolumeBytes: 100_000, uniqueSubdomains: 200, longLabel: 40, entropy: 3.5, encodedLabels: 30, txtQueries: 50 }, 1000)
  const out: Finding[] = []
  for (let i = 0; i < 100; i++) d.onName(`www${i % 5}.example.com`, T0 + i * S, 'a', (x) => out.push(x))
  t.equal(out.length, 0)
  for (let i = 0; i < 30; i++) {
    const label = createHash('sha256').update(`chunk ${i}`).digest('hex').slice(0, 48)
    d.onName(`${label}.t.evil-tunnel.net`, T0 + i * S, 'a', (x) => out.push(x))
  }
  t.equal(out.length, 1)
  t.equal(out[0]!.key, 'name:evil-tunnel.net')
})

t.test('exfiltration: judged against the host\'s own baseline, then the absolute threshold', async (t) => {
  const c = cfg((c) => { c.exfiltration.window_s = 600; c.exfiltration.min_bytes = 1_000_000; c.exfiltration.baseline_windows = 2 })
  const flows: DetectionFlow[] = []
  for (let w = 0; w < 4; w++) for (let i = 0; i < 10; i++) flows.push(flow({ origH: '10.0.0.4', respH: '93.184.216.34', origBytes: 20_000, tsUs: T0 + (w * 600 + i * 50) * S }))
  flows.push(flow({ origH: '10.0.0.4', respH: '104.16.1.1', origBytes: 5_000_000, tsUs: T0 + 2500 * S }))
  const f = run(c, flows).filter((x) => x.type === 'exfiltration')
  t.equal(f.length, 1)
  t.equal(f[0]!.dst, '104.16.1.1')
  // a host that always sends this much is not flagged below the absolute threshold
  const busy: DetectionFlow[] = []
  for (let w = 0; w < 5; w++) busy.push(flow({ origH: '10.0.0.7', respH: '104.16.1.1', origBytes: 5_000_000, tsUs: T0 + w * 600 * S }))
  t.equal(run(c, busy).filter((x) => x.type === 'exfiltration' && x.src === '10.0.0.7').length, 0, 'its baseline is 5 MB per window: 5 MB is normal for it')
  t.equal(new Set(run(cfg((x) => { x.exfiltration.absolute_bytes = 4_000_000 }), busy).filter((x) => x.type === 'exfiltration').map((x) => x.key)).size, 1, 'the absolute threshold alerts regardless of baseline (one incident)')
})

t.test('arp_spoof and new_device from flow MACs; rogue_dhcp after learning', async (t) => {
  const c = cfg((c) => { c.new_device.learning_s = 60; c.rogue_dhcp.learning_s = 60 })
  const flows = [
    flow({ origH: '10.0.0.10', respH: '10.0.0.1', respP: 53, proto: 'udp', origMac: '02:00:00:00:00:0a', respMac: '02:00:00:00:01:01', tsUs: T0 }),
    flow({ origH: '10.0.0.1', respH: '255.255.255.255', origP: 67, respP: 68, proto: 'udp', origMac: '02:00:00:00:01:01', respMac: 'ff:ff:ff:ff:ff:ff', tsUs: T0 + S }),
    flow({ origH: '10.0.0.11', respH: '10.0.0.1', respP: 53, proto: 'udp', origMac: '02:00:00:00:00:0b', respMac: '02:00:00:00:00:66', tsUs: T0 + 120 * S }),
    flow({ origH: '10.0.0.12', respH: '255.255.255.255', origP: 67, respP: 68, proto: 'udp', origMac: '02:00:00:00:00:0c', respMac: 'ff:ff:ff:ff:ff:ff', tsUs: T0 + 130 * S }),
  ]
  const f = run(c, flows)
  const types = f.map((x) => `${x.type}:${x.src}`).sort()
  t.same(types, ['arp_spoof:10.0.0.1', 'new_device:10.0.0.1', 'new_device:10.0.0.11', 'new_device:10.0.0.12', 'rogue_dhcp:10.0.0.12'])
})

t.test('arp_spoof: bindings are per sensor (a MAC means something only on the segment one agent sees)', async (t) => {
  const c = cfg()
  const a = (agentId: string, mac: string, s: number, vlan?: number) => flow({ agentId, origH: '10.0.0.35', respH: '10.0.0.1', respP: 53, proto: 'udp', origMac: mac, respMac: '02:00:00:00:01:01', tsUs: T0 + s * S, ...(vlan !== undefined ? { vlan } : {}) })
  // Two sites reusing 10.0.0.0/24: each sensor sees its own host behind 10.0.0.35.
  const twoSites = run(c, [a('site-a', '02:10:00:00:22:01', 0), a('site-b', '02:00:00:00:00:23', 5), a('site-a', '02:10:00:00:22:01', 10), a('site-b', '02:00:00:00:00:23', 15)])
  t.same(twoSites.filter((f) => f.type === 'arp_spoof'), [], 'no spoof across sensors')
  // One sensor sees the address flip between two MACs: a spoof, keyed by that sensor.
  const flip = run(c, [a('site-a', '02:10:00:00:22:01', 0), a('site-b', '02:00:00:00:00:23', 1), a('site-a', '02:66:66:66:66:66', 5)]).filter((f) => f.type === 'arp_spoof')
  t.equal(flip.length, 1)
  t.equal(flip[0]?.key, 'site-a|0|10.0.0.35')
  t.same(flip[0]?.agents, ['site-a'])
  // Many agents (past the 512 that get numeric keys) and VLANs keep their bindings apart too.
  const many = Array.from({ length: 600 }, (_, i) => a(`agent-${i}`, `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, i * 0.01, i % 3 === 0 ? 10 : undefined))
  t.same(run(c, many).filter((f) => f.type === 'arp_spoof'), [], '600 sensors, each with its own MAC for the address: no spoof')
})

t.test('new_device: a DNS answer naming an address is not a device, a DHCP sighting is', async (t) => {
  const e = new DetectionEngine(cfg((c) => { c.new_device.learning_s = 60 }))
  const out: Finding[] = []
  const ob = (ip: number[], nameSource: number, tsUs: number) => ({ tsUs, ip: Buffer.from(ip), mac: Buffer.alloc(0), name: 'x.example', nameSource }) as unknown as HostObservation
  const batch = (observations: HostObservation[]) => e.processBatch({ agentId: 'a', flows: [], events: [], observations, gaps: [] }, (x) => out.push(x))
  batch([ob([10, 0, 0, 5], 1, T0)])
  batch([ob([10, 0, 0, 6], 3, T0 + 120 * S), ob([10, 0, 0, 7], 2, T0 + 121 * S), ob([10, 0, 0, 8], 1, T0 + 122 * S)])
  t.same(out.filter((f) => f.type === 'new_device').map((f) => f.src), ['10.0.0.8'], 'dns_a and dns_ptr answers are ignored, dhcp counts')
})

t.test('new_device: an observation without a MAC from an agent whose flows carry MACs is not a device of its own', async (t) => {
  const e = new DetectionEngine(cfg((c) => { c.new_device.learning_s = 60 }))
  const out: Finding[] = []
  const ua = (agentId: string, ip: number[], tsUs: number) => e.processBatch({ agentId, flows: [], events: [], gaps: [],
    observations: [{ tsUs, ip: Buffer.from(ip), mac: Buffer.alloc(0), name: '', nameSource: 0, software: 'curl/8.5.0', softwareRole: 2 } as unknown as HostObservation] }, (x) => out.push(x))
  // Agent "lan" sees MACs: 10.0.0.33's device is its MAC, learned from a flow during learning.
  for (const f of [flow({ agentId: 'lan', origH: '10.0.0.33', respH: '10.0.0.1', origMac: '02:00:00:00:00:21', respMac: '02:00:00:00:01:01', tsUs: T0 })]) e.flow(f, (x) => out.push(x))
  ua('lan', [10, 0, 0, 33], T0 + 120 * S)
  t.same(out.filter((f) => f.type === 'new_device'), [], 'its first banner after learning is no new device')
  // Agent "tun" sees no MACs (raw IP capture): addresses are its devices.
  e.flow(flow({ agentId: 'tun', origH: '10.0.0.40', respH: '10.0.0.1', tsUs: T0 + 1 * S }), (x) => out.push(x))
  ua('tun', [10, 0, 0, 41], T0 + 130 * S)
  t.same(out.filter((f) => f.type === 'new_device').map((f) => f.src), ['10.0.0.41'], 'without MACs an address is still a device')
})

t.test('cleartext_credentials: FTP/telnet in clear alert, FTP over TLS does not', async (t) => {
  const f = run(cfg(), [
    flow({ origH: '10.0.0.20', respH: '10.0.0.6', respP: 21, service: 'ftp', origBytes: 30, respBytes: 100 }),
    flow({ origH: '10.0.0.20', respH: '10.0.0.6', respP: 21, service: 'ftp,ssl', origBytes: 3000, respBytes: 3000 }),
    flow({ origH: '10.0.0.21', respH: '10.0.0.7', respP: 23, service: '', origBytes: 30, respBytes: 100 }),
  ]).filter((x) => x.type === 'cleartext_credentials')
  t.same(f.map((x) => x.key), ['10.0.0.20|10.0.0.6|ftp', '10.0.0.21|10.0.0.7|telnet'])
})

t.test('state is bounded: max_keys caps every detector and evictions are counted', async (t) => {
  const c = cfg((c) => { c.max_keys = 100; c.new_device.max_devices = 100 })
  const e = new DetectionEngine(c)
  for (let i = 0; i < 5000; i++) e.flow(flow({ origH: `10.1.${i >> 8}.${i & 255}`, respH: `45.1.${i >> 8}.${i & 255}`, respP: 8443, connState: 'S0', tsUs: T0 + i * 1000 }), () => {})
  for (const [name, n] of Object.entries(e.stateSizes())) t.ok(n <= 200, `${name}: ${n}`)
  t.ok(e.evictions() > 0)
})

t.test('capture loss during the evidence period lowers confidence', async (t) => {
  const e = new DetectionEngine(cfg())
  const out: Finding[] = []
  e.loss.addPeriod('a1', T0, T0 + 60 * S)
  e.processBatch({ agentId: 'a1', flows: [], events: [], observations: [], gaps: [] }, () => {})
  const flows = Array.from({ length: 15 }, (_, i) => flow({ origH: '10.0.0.1', respH: '10.0.0.2', respP: 1000 + i, connState: 'S0', tsUs: T0 + i * S }))
  for (const f of flows) e.flow(f, (x) => out.push(e.loss.adjust(x)))
  t.equal(out.length, 1)
  t.equal(out[0]!.confidence, 0.45)
  t.equal(out[0]!.lossy, true)
  const out2: Finding[] = []
  // origV4 with origH: detectors key IPv4 flows by the number (a view has both of one address).
  for (const f of flows) e.flow({ ...f, origH: '10.0.0.9', origV4: parseV4('10.0.0.9'), agentId: 'a2' }, (x) => out2.push(e.loss.adjust(x)))
  t.equal(out2[0]!.confidence, 0.9, 'another agent without loss keeps its confidence')
})

t.test('an IPv4 flow between known local hosts builds no address text; intel matches still name the address', async (t) => {
  const intel = new IntelService({ files: [], reloadIntervalS: 60, maxFeeds: 4 }, undefined, pino({ level: 'silent' }))
  t.ok(intel.install('t', '203.0.113.9\n198.51.100.0/24', 'csv', 'api').ok)
  const policy = Value.Default(PolicyConfigSchema, { mode: 'enforce', zones: [{ name: 'lan', cidrs: ['10.0.0.0/24'] }], allowed: [{ from: 'lan', to: 'external', ports: ['any'] }] }) as PolicyConfig
  const e = new DetectionEngine(cfg((c) => { c.new_device.learning_s = 60 }), { intel, policy })
  // A view whose texts count their reads (LazyFlowView builds them on first read).
  let reads = 0
  const counted = (p: Parameters<typeof flow>[0]): DetectionFlow => {
    const f = flow(p)
    const o = f.origH; const r = f.respH
    return Object.defineProperties(f, { origH: { get: () => { reads++; return o } }, respH: { get: () => { reads++; return r } } })
  }
  const lan = (s: number) => counted({ origH: '10.0.0.21', respH: '10.0.0.22', respP: 8080, origMac: '02:00:00:00:00:21', respMac: '02:00:00:00:00:22', tsUs: T0 + s * S })
  const out: Finding[] = []
  e.flow(lan(0), (x) => out.push(x)) // first sighting: new_device learns both hosts (and reads their texts)
  reads = 0
  for (let s = 1; s <= 5; s++) e.flow(lan(s), (x) => out.push(x))
  t.equal(reads, 0, 'arp_spoof, policy, intel and the rest judge it by numbers')
  t.same(out, [])
  e.flow(counted({ origH: '10.0.0.21', respH: '203.0.113.9', origMac: '02:00:00:00:00:21', respMac: '02:00:00:00:01:01', tsUs: T0 + 10 * S }), (x) => out.push(x))
  e.flow(counted({ origH: '198.51.100.77', respH: '10.0.0.21', respP: 22, origMac: '02:00:00:00:01:01', respMac: '02:00:00:00:00:21', tsUs: T0 + 11 * S }), (x) => out.push(x))
  const hits = out.filter((f) => f.type === 'intel_match')
  t.same(hits.map((f) => [f.evidence.indicator, f.src, f.dst]), [['203.0.113.9', '10.0.0.21', '203.0.113.9'], ['198.51.100.0/24', '10.0.0.21', '198.51.100.77']])
  t.same(hits.map((f) => f.key), ['203.0.113.9|10.0.0.21', '198.51.100.0/24|10.0.0.21'])
})

t.test('arp_spoof: the incident names the MACs since the last re-assignment, in the order they claimed the address', async (t) => {
  const c = cfg()
  const claim = (mac: string, s: number) => flow({ origH: '10.0.0.35', respH: '10.0.0.1', respP: 53, proto: 'udp', origMac: mac, respMac: '02:00:00:00:01:01', tsUs: T0 + s * S })
  const flips = run(c, [claim('02:00:00:00:00:01', 0), claim('02:00:00:00:00:02', 1), claim('02:00:00:00:00:03', 2), claim('02:00:00:00:00:01', 3)]).filter((f) => f.type === 'arp_spoof')
  t.same(flips.map((f) => f.summary.split(' both')[0]), [
    '02:00:00:00:00:01 and 02:00:00:00:00:02',
    '02:00:00:00:00:01 and 02:00:00:00:00:02 and 02:00:00:00:00:03',
    '02:00:00:00:00:01 and 02:00:00:00:00:02 and 02:00:00:00:00:03',
  ])
  t.match(flips[2]!.summary, /now 02:00:00:00:00:01, before 02:00:00:00:00:03$/)
  // A new MAC after rebind_grace_s (600 s) is a re-assignment: the next conflict starts from it.
  const moved = run(c, [claim('02:00:00:00:00:01', 0), claim('02:00:00:00:00:02', 700), claim('02:00:00:00:00:03', 701)]).filter((f) => f.type === 'arp_spoof')
  t.same(moved.map((f) => f.summary.split(' both')[0]), ['02:00:00:00:00:02 and 02:00:00:00:00:03'])
})

t.test('exfiltration: a destination that alerted keeps adding to its incident; others of the host still count on their own', async (t) => {
  const c = cfg((c) => { c.exfiltration.absolute_bytes = 1_000_000 })
  const up = (dst: string, bytes: number, s: number) => flow({ origH: '10.0.0.50', respH: dst, origBytes: bytes, tsUs: T0 + s * S })
  const f = run(c, [up('198.51.100.1', 600_000, 0), up('198.51.100.2', 600_000, 1), up('198.51.100.1', 600_000, 2), up('198.51.100.1', 10, 3), up('198.51.100.2', 300_000, 4), up('198.51.100.2', 200_000, 5)]).filter((x) => x.type === 'exfiltration')
  t.same(f.map((x) => [x.dst, x.count, x.summary.split(' within')[0]]), [
    ['198.51.100.1', 1, '10.0.0.50 sent 1200000 bytes to 198.51.100.1'],
    ['198.51.100.1', 1, '10.0.0.50 sent 1200010 bytes to 198.51.100.1'],
    ['198.51.100.2', 1, '10.0.0.50 sent 1100000 bytes to 198.51.100.2'],
  ])
})
