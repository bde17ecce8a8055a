// Learning survives a restart: new_device's known devices, rogue_dhcp's learned servers and
// exfiltration's baselines are saved (gzipped JSON per detector) and handed back to a new
// engine, which then behaves as the old one would have; a restart without them begins every
// learning period again. Then the same through a real collector stopped and started on its
// data directory.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import t from 'tap'
import { Value } from '@sinclair/typebox/value'
import { DetectionConfigSchema, type DetectionConfig } from '../collector/detection/detection-config.js'
import { DetectionEngine } from '../collector/detection/detection-engine.js'
import type { DetectionFlow, Finding } from '../collector/detection/detection-types.js'
import { restoreDetectors, snapshotDetectors } from '../collector/detection/detector-state.js'
import { detectionFlow } from './helpers/detection-flows.js'
import { encodeBatch, PROTOCOL_VERSION, type FlowProperties } from '../protocol/index.js'
import { ADMIN, enrollAgent, post, startCollector } from './collector-fixtures.js'

const T0 = 1_700_000_000_000_000
const S = 1_000_000

function cfg(): DetectionConfig {
  const c = Value.Default(DetectionConfigSchema, {}) as DetectionConfig
  c.new_device.learning_s = 60
  c.rogue_dhcp.learning_s = 60
  c.exfiltration.window_s = 600
  c.exfiltration.min_bytes = 1_000_000
  c.exfiltration.baseline_windows = 2
  return c
}

const flow = detectionFlow

const feed = (e: DetectionEngine, flows: DetectionFlow[]): Finding[] => {
  const out: Finding[] = []
  for (const f of flows) e.flow(f, (x) => out.push(x))
  return out
}

const dns = (ip: string, mac: string, s: number) => flow({ origH: ip, respH: '10.0.0.1', respP: 53, proto: 'udp', origMac: mac, respMac: '02:00:00:00:01:01', tsUs: T0 + s * S })
const dhcpOffer = (server: string, mac: string, s: number) => flow({ origH: server, respH: '255.255.255.255', origP: 67, respP: 68, proto: 'udp', origMac: mac, respMac: 'ff:ff:ff:ff:ff:ff', tsUs: T0 + s * S })
const upload = (bytes: number, s: number, to = '93.184.216.34') => flow({ origH: '10.0.0.4', respH: to, origBytes: bytes, tsUs: T0 + s * S })

/** The first hour: two devices, the DHCP server, three windows of 20 kB uploads. */
function firstHour(): DetectionFlow[] {
  const flows = [dns('10.0.0.10', '02:00:00:00:00:0a', 0), dhcpOffer('10.0.0.1', '02:00:00:00:01:01', 1), dns('10.0.0.11', '02:00:00:00:00:0b', 2)]
  for (let w = 0; w < 3; w++) for (let i = 0; i < 10; i++) flows.push(upload(20_000, w * 600 + i * 50))
  return flows
}

/** After the restart: the known devices and server again, a new device, a new DHCP server, a 5 MB upload (far over a 200 kB baseline). */
function afterRestart(): DetectionFlow[] {
  return [
    dns('10.0.0.10', '02:00:00:00:00:0a', 1900), dhcpOffer('10.0.0.1', '02:00:00:00:01:01', 1901), dns('10.0.0.11', '02:00:00:00:00:0b', 1902),
    dns('10.0.0.12', '02:00:00:00:00:0c', 1903), dhcpOffer('10.0.0.66', '02:00:00:00:00:66', 1904), upload(5_000_000, 1905, '104.16.1.1'),
  ]
}

const kinds = (f: Finding[]): string[] => f.filter((x) => x.type !== 'arp_spoof').map((x) => `${x.type}:${x.src}`).sort()

t.test('a restored engine goes on where the saved one stopped; a fresh one learns again', async (t) => {
  const before = new DetectionEngine(cfg())
  feed(before, firstHour())
  const saved = await snapshotDetectors(before.detectors)
  t.same([...saved.keys()].sort(), ['exfiltration', 'new_device', 'rogue_dhcp'], 'only detectors with a baseline save one')

  const restored = new DetectionEngine(cfg())
  t.same((await restoreDetectors(restored.detectors, saved)).restored.sort(), ['exfiltration', 'new_device', 'rogue_dhcp'])
  t.same(kinds(feed(restored, afterRestart())), ['exfiltration:10.0.0.4', 'new_device:10.0.0.12', 'new_device:10.0.0.66', 'rogue_dhcp:10.0.0.66'],
    'the new device and server are reported, the known ones are not, the upload is judged against the old baseline')

  const uninterrupted = new DetectionEngine(cfg())
  feed(uninterrupted, firstHour())
  t.same(kinds(feed(uninterrupted, afterRestart())), ['exfiltration:10.0.0.4', 'new_device:10.0.0.12', 'new_device:10.0.0.66', 'rogue_dhcp:10.0.0.66'], 'as if it had never stopped')

  // Without the saved state: learning begins again, so the new device and the rogue server pass unseen.
  const fresh = new DetectionEngine(cfg())
  t.same(kinds(feed(fresh, afterRestart())).filter((k) => !k.startsWith('exfiltration')), [], 'a fresh engine is learning: nothing is new to it')
})

t.test('state a detector does not recognise is ignored and named, never thrown', async (t) => {
  const e = new DetectionEngine(cfg())
  const bad = new Map<string, Buffer>([
    ['new_device', Buffer.from('not gzip')],
    ['rogue_dhcp', gzipSync('{"v":99}')],
    ['exfiltration', gzipSync(JSON.stringify({ v: 1, windowS: 3600, hosts: [] }))],
    ['no_such_detector', gzipSync('{}')],
  ])
  const r = await restoreDetectors(e.detectors, bad)
  t.same(r.restored, [])
  t.same(r.ignored.sort(), ['exfiltration', 'new_device', 'rogue_dhcp'], 'damaged, another version, other window length')
  t.notOk(e.detectors.find((d) => d.name === 'new_device')!.loadState!({ v: 1, startUs: T0, numeric: 'AAAA', texts: [], macAgents: [] }), 'a numeric run that is not whole pairs is refused')
  // Damaged entries inside a recognised state are skipped, the rest restored.
  const pairs = Buffer.alloc(48)
  ;[0x02000000000a, T0, 0x020000000101, T0, 0.5, T0].forEach((v, i) => pairs.writeDoubleLE(v, i * 8))
  const mixed = new Map([['new_device', gzipSync(JSON.stringify({ v: 1, startUs: T0, numeric: pairs.toString('base64'), texts: [['fd00::1', T0], ['x'], [null, 1], 'junk'], macAgents: ['a1', 7] }))]])
  t.same((await restoreDetectors(e.detectors, mixed)).restored, ['new_device'])
  t.same(kinds(feed(e, [dns('10.0.0.10', '02:00:00:00:00:0a', 120), dns('10.0.0.13', '02:00:00:00:00:0d', 121)])), ['new_device:10.0.0.13'], 'the good entry was restored, learning is over')
})

t.test('through the collector: learning kept across a stop and start of the same data directory', async (t) => {
  const auth = { authorization: `Bearer ${ADMIN}` }
  const wire = (ip: number, mac: number, s: number): FlowProperties => ({
    tsUs: T0 + s * S, origH: Buffer.from([10, 0, 0, ip]), respH: Buffer.from([10, 0, 0, 1]), origP: 40000 + ip, respP: 53, proto: 2, connState: 3, history: 'Dd',
    durationUs: 1000, origPkts: 1, origIpBytes: 80, respPkts: 1, respIpBytes: 120, uid: `Cw${ip}-${s}`, ipProto: 17, service: 'dns', communityIdDerived: true,
    origL2Addr: Buffer.from([2, 0, 0, 0, 0, mac]), respL2Addr: Buffer.from([2, 0, 0, 0, 1, 1]),
  })
  const alertsOf = async (c: Awaited<ReturnType<typeof startCollector>>): Promise<string[]> => {
    await c.detection.detection.idle()
    const r = (await c.app.inject({ method: 'GET', url: '/api/v1/alerts?type=new_device&limit=100', headers: auth })).json() as { alerts: { src: string }[] }
    return r.alerts.map((a) => a.src).sort()
  }
  const flags = { 'detection.new_device.learning_s': 60 }
  for (const keep of [true, false]) {
    const dir = mkdtempSync(join(tmpdir(), 'telltale-learning-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const over = keep ? flags : { ...flags, 'detection.state_save_interval_s': 0 }
    const c1 = await startCollector(over, dir)
    const a = await enrollAgent(c1, 1)
    const ship = (c: typeof c1, seq: number, flows: FlowProperties[]) => post(c, a.secret, encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: a.agentId, epoch: 1, seq, sentAtUs: T0, flows }))
    t.equal((await ship(c1, 1, [wire(10, 10, 0), wire(11, 11, 1)])).statusCode, 200)
    t.equal((await ship(c1, 2, [wire(12, 12, 120)])).statusCode, 200)
    t.same(await alertsOf(c1), ['10.0.0.12'], 'after learning, a device not seen before is new')
    await c1.close()

    const c2 = await startCollector(over, dir)
    t.equal((await ship(c2, 3, [wire(10, 10, 200), wire(13, 13, 201)])).statusCode, 200)
    const figures = (await c2.app.inject({ method: 'GET', url: '/metrics', headers: auth })).body
    if (keep) {
      t.same(await alertsOf(c2), ['10.0.0.12', '10.0.0.13'], 'after the restart: the known device is not new, a new one is')
      t.match(figures, /telltale_detection\{what="detector_state_restored_total"\} 3/)
    } else {
      t.same(await alertsOf(c2), ['10.0.0.12'], 'state_save_interval_s 0: learning began again, the new device passed unseen')
      t.match(figures, /telltale_detection\{what="detector_state_restored_total"\} 0/)
    }
    await c2.close()
  }
})
