/**
 * Labelled scenarios: benign background (scenario-network.ts) plus one attack
 * (scenario-attacks.ts), written as a pcap next to its ground truth (`<name>.truth.json`).
 * `scenarioConfig()` is the collector configuration the scenarios are judged with
 * (learning periods and the exfiltration window shortened to fit one hour; the
 * segmentation policy the benign traffic obeys) and `scenarioIntelFeeds()` the feeds
 * loaded before replay (CSV, STIX 2.1, MISP; only the CSV lists the scenario's bad address).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { CaptureFrame } from './pcap-writer.js'
import { writeCaptureFile } from './pcap-writer.js'
import { ATTACKS, INTEL_BAD_IP, type GroundTruth } from './scenario-attacks.js'
import { benignTraffic, GW } from './scenario-network.js'
import { mergeByTime } from './traffic.js'

export interface Scenario { name: string; pcap: string; truth: GroundTruth[]; frames: number }

export function scenarioFrames(attack: string | undefined, benign: { seed?: number; durationS?: number } = {}): { frames: CaptureFrame[]; truth: GroundTruth[] } {
  const bg = benignTraffic(benign)
  if (attack === undefined) return { frames: mergeByTime(bg), truth: [] }
  const a = ATTACKS.find((x) => x.name === attack)
  if (a === undefined) throw new Error(`no attack ${attack}`)
  return { frames: mergeByTime(bg, a.frames()), truth: [a.truth] }
}

/** Writes `<dir>/<name>.pcap` and `<dir>/<name>.truth.json`; name 'benign' = no attack. */
export function writeScenario(dir: string, attack: string | undefined, benign: { seed?: number; durationS?: number } = {}): Scenario {
  const name = attack ?? 'benign'
  const { frames, truth } = scenarioFrames(attack, benign)
  const pcap = join(dir, `${name}.pcap`)
  writeCaptureFile(pcap, frames)
  writeFileSync(join(dir, `${name}.truth.json`), JSON.stringify(truth, null, 2))
  return { name, pcap, truth, frames: frames.length }
}

export const SCENARIO_NAMES: string[] = ATTACKS.map((a) => a.name)

/** Collector config overrides (loadConfig flags) for judging the scenarios. */
export function scenarioConfig(): Record<string, unknown> {
  return {
    'detection.rogue_dhcp.learning_s': 600,
    'detection.new_device.learning_s': 600,
    'detection.exfiltration.window_s': 600,
    'detection.exfiltration.baseline_windows': 2,
    'detection.exfiltration.min_bytes': 8_000_000,
    'detection.arp_spoof.gateways': [GW],
    policy: {
      mode: 'enforce',
      zones: [{ name: 'servers', cidrs: ['10.0.0.0/29'] }, { name: 'clients', cidrs: ['10.0.0.0/24'] }],
      allowed: [
        { from: 'clients', to: 'servers', ports: ['udp/53', 'udp/67', 'tcp/22', 'tcp/21'] },
        { from: 'clients', to: 'external', ports: ['any'] },
        { from: 'servers', to: 'external', ports: ['any'] },
        { from: 'external', to: 'servers', ports: ['tcp/22'] },
      ],
    },
  }
}

export function scenarioIntelFeeds(): Array<{ name: string; body: string; format?: 'csv' | 'stix' | 'misp' }> {
  const csv = `indicator,type,description\n${INTEL_BAD_IP},ip,tor exit relay used by the scenario\n203.0.113.99,ip,unused\nevil.example.net,domain,phishing\n`
  const stix = JSON.stringify({
    type: 'bundle', id: 'bundle--1', objects: [
      { type: 'indicator', spec_version: '2.1', id: 'indicator--1', name: 'C2 range', pattern: "[ipv4-addr:value ISSUBSET '192.0.2.128/25']", pattern_type: 'stix', valid_from: '2020-01-01T00:00:00Z' },
      { type: 'indicator', spec_version: '2.1', id: 'indicator--2', name: 'C2 domain', pattern: "[domain-name:value = 'c2.bad.example'] OR [url:value = 'http://c2.bad.example/gate.php']", pattern_type: 'stix', valid_from: '2020-01-01T00:00:00Z' },
    ],
  })
  const misp = JSON.stringify({ Event: { info: 'scenario MISP event', Attribute: [{ type: 'ip-dst', value: '198.18.0.66', to_ids: true, category: 'Network activity' }, { type: 'ja3-fingerprint-md5', value: 'e7d705a3286e19ea42f587b344ee6865', to_ids: true }] } })
  return [{ name: 'scenario-csv', body: csv }, { name: 'scenario-stix', body: stix }, { name: 'scenario-misp', body: misp }]
}
