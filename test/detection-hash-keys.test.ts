/**
 * Beaconing, DNS-tunnel volume and scan state keyed by a hash of IPv4 numbers (hash-keys.ts: no
 * "src|dst|port" text per flow), with the text when another key holds the hash: with hashes
 * that collide all the time the findings and state are the same as with the real one, also
 * when the key bound evicts.
 */
import t from 'tap'
import { BeaconingDetector, type BeaconConfig } from '../collector/detection/beaconing-detector.js'
import { DnsTunnelDetector } from '../collector/detection/dns-tunnel-detector.js'
import { AddressScanDetector, PortScanDetector } from '../collector/detection/scan-detector.js'
import type { DetectionFlow, Finding } from '../collector/detection/detection-types.js'
import { parseV4 } from '../collector/detection/net-match.js'

const T0 = 1_700_000_000_000_000
const S = 1_000_000
const cfg: BeaconConfig = { minConnections: 6, minSpanS: 300, maxJitter: 0.1, minIntervalS: 1, minScore: 50, history: 12, ignorePorts: [123], externalOnly: false }

function flows(seed: number, n: number): DetectionFlow[] {
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 }
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.0.2.9', '2001:db8::1', '2001:db8::2', '198.51.100.7']
  const out: DetectionFlow[] = []
  // Periodic pairs (60 s ± 2 %) and noise, merged by time.
  for (let k = 0; k < 12; k++) {
    const o = hosts[Math.floor(rnd() * hosts.length)]!
    const r = hosts[Math.floor(rnd() * hosts.length)]!
    const p = [443, 8443, 53, 123][Math.floor(rnd() * 4)]!
    for (let i = 0, ts = T0 + Math.floor(rnd() * 100 * S); i < n; i++, ts += Math.round((60 + (rnd() - 0.5) * 2.4) * S)) out.push(mk(o, r, p, ts, `P${k}-${i}`))
  }
  for (let i = 0; i < n * 6; i++) out.push(mk(hosts[Math.floor(rnd() * hosts.length)]!, hosts[Math.floor(rnd() * hosts.length)]!, 1000 + Math.floor(rnd() * 4), T0 + Math.floor(rnd() * n * 60 * S), `N${i}`))
  return out.sort((a, b) => a.tsUs - b.tsUs)
}

function mk(origH: string, respH: string, respP: number, tsUs: number, uid: string): DetectionFlow {
  return {
    agentId: 'a1', tsUs, endUs: tsUs + 1000, origP: 40000, respP, origV4: parseV4(origH), respV4: parseV4(respH), proto: 'tcp', connState: 'SF', history: 'ShADadFf',
    durationUs: 1000, origBytes: 500, respBytes: 5000, origPkts: 5, respPkts: 6, service: '', uid, communityId: () => '1:x', origMac: '', respMac: '', origMacN: -1, respMacN: -1,
    localOrig: undefined, localResp: undefined, vlan: undefined, missedBytes: 0, interim: false, origH, respH,
  }
}

function run(input: DetectionFlow[], maxKeys: number, hashOf?: (o: number, r: number, p: number) => number): { found: Finding[]; size: number; evicted: number } {
  const d = new BeaconingDetector(cfg, maxKeys, () => false, hashOf)
  const found: Finding[] = []
  for (const f of input) d.onFlow(f, (x) => found.push(x))
  d.tick(input[input.length - 1]!.tsUs)
  return { found, size: d.stateSize(), evicted: d.evictions() }
}

t.test('beaconing: the same findings with colliding hashes', (t) => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    for (const maxKeys of [4, 10, 1000]) {
      const input = flows(seed, 40)
      const real = run(input, maxKeys)
      for (const [name, h] of [['one hash for all', () => 7], ['by source', (o: number) => o & 3], ['by port', (_o: number, _r: number, p: number) => p % 3]] as const) {
        t.same(run(input, maxKeys, h), real, `seed ${seed}, ${maxKeys} keys: ${name}`)
      }
      if (maxKeys === 1000 && seed === 1) t.ok(real.found.length > 0, 'some beaconing found')
    }
  }
  t.end()
})

t.test('dns_tunnel volume: the same findings with colliding hashes', (t) => {
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '192.0.2.9', '2001:db8::1', '198.51.100.7']
  const dc = { windowS: 600, minQueries: 5, minQueryBytes: 60, minVolumeBytes: 500, uniqueSubdomains: 200, longLabel: 40, entropy: 3.5, encodedLabels: 30, txtQueries: 50 }
  for (const seed of [1, 2, 3, 4]) {
    let s = seed
    const rnd = (): number => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 }
    const input: DetectionFlow[] = []
    for (let i = 0; i < 3000; i++) {
      const f = mk(hosts[Math.floor(rnd() * hosts.length)]!, hosts[Math.floor(rnd() * hosts.length)]!, [53, 53, 443][Math.floor(rnd() * 3)]!, T0 + Math.floor(rnd() * 3600 * S), `D${i}`)
      input.push({ ...f, proto: 'udp', origBytes: Math.floor(rnd() * 200), origPkts: 1 })
    }
    input.sort((a, b) => a.tsUs - b.tsUs)
    for (const maxKeys of [4, 1000]) {
      const run = (h?: (o: number, r: number, p: number) => number): unknown => {
        const d = new DnsTunnelDetector(dc, maxKeys, h)
        const found: Finding[] = []
        let n = 0
        for (const f of input) { d.onFlow(f, (x) => found.push(x)); if (++n % 500 === 0) d.tick(f.tsUs) }
        return { found, size: d.stateSize(), evicted: d.evictions() }
      }
      const real = run()
      t.same(run(() => 7), real, `seed ${seed}, ${maxKeys} keys: one hash for all`)
      t.same(run((o) => o & 1), real, `seed ${seed}, ${maxKeys} keys: by source`)
      if (seed === 1 && maxKeys === 1000) t.ok((real as { found: Finding[] }).found.length > 0, 'some volume findings')
    }
  }
  t.end()
})

t.test('port_scan and address_scan: the same findings with colliding hashes', (t) => {
  const hosts = ['10.0.0.1', '10.0.0.2', '10.0.1.3', '192.0.2.9', '2001:db8::1', '198.51.100.7', '10.0.2.8']
  const th = { count: 4, windowS: 300, slowCount: 6, slowWindowS: 3600 }
  for (const seed of [1, 2, 3]) {
    let s = seed
    const rnd = (): number => { s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 }
    const input: DetectionFlow[] = []
    for (let i = 0; i < 3000; i++) {
      const f = mk(hosts[Math.floor(rnd() * hosts.length)]!, hosts[Math.floor(rnd() * hosts.length)]!, Math.floor(rnd() * 20), T0 + Math.floor(rnd() * 7200 * S), `S${i}`)
      input.push({ ...f, proto: ['tcp', 'udp', 'tcp'][Math.floor(rnd() * 3)]!, connState: ['S0', 'REJ', 'SF'][Math.floor(rnd() * 3)]!, respPkts: 0, origPkts: 1 })
    }
    input.sort((a, b) => a.tsUs - b.tsUs)
    for (const [name, Cls] of [['port_scan', PortScanDetector], ['address_scan', AddressScanDetector]] as const) {
      for (const maxKeys of [3, 1000]) {
        const run = (h?: (o: number, r: number, p: number) => number): { found: Finding[]; size: number; evicted: number } => {
          const d = new Cls(th, maxKeys, h)
          const found: Finding[] = []
          let n = 0
          for (const f of input) { d.onFlow(f, (x) => found.push(x)); if (++n % 500 === 0) d.tick(f.tsUs) }
          return { found, size: d.stateSize(), evicted: d.evictions() }
        }
        const real = run()
        t.same(run(() => 7), real, `${name}, seed ${seed}, ${maxKeys} keys: one hash for all`)
        t.same(run((o) => o & 1), real, `${name}, seed ${seed}, ${maxKeys} keys: by source`)
        if (seed === 1 && maxKeys === 1000) t.ok(real.found.length > 0, `some ${name} findings`)
      }
    }
  }
  t.end()
})
