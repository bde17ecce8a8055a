/**
 * `policy_violation` and policy learning. Enforce mode: a flow whose (source zone →
 * destination zone, port/service) no allow rule permits is a violation; one incident per
 * edge, so a new disallowed edge alerts once and repeats update it. Learn
 * mode: every answered flow's edge is recorded (bounded) for the proposal. One incident per
 * (source zone → destination zone, source host): a host probing many disallowed ports of
 * another zone is one alert whose count grows, not one alert per port.
 */
import { BoundedMap } from '../detection/bounded-map.js'
import type { DetectionFlow, Detector, Emit } from '../detection/detection-types.js'
import { MITRE } from '../detection/detection-types.js'
import { isEstablished } from '../detection/failed-attempt.js'
import type { PolicyConfig } from './policy-config.js'
import { AllowRules, portSpec } from './policy-rules.js'
import { ZoneMap } from './zone-map.js'

export interface LearnedEdge { from: string; to: string; port: string; service: string; flows: number; firstUs: number; lastUs: number; sample: string }

export class PolicyDetector implements Detector {
  readonly name = 'policy_violation'
  readonly zones: ZoneMap
  private readonly learned: BoundedMap<string, LearnedEdge>
  private readonly allowed: AllowRules

  constructor(readonly cfg: PolicyConfig) {
    this.zones = new ZoneMap(cfg)
    this.allowed = new AllowRules(cfg.allowed, cfg.allow_intra_zone)
    this.learned = new BoundedMap(cfg.max_learned_edges)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (this.cfg.mode === 'off') return
    // IPv4 by number: no address text unless the flow is reported.
    const from = this.zones.zoneOf(f.origV4 >= 0 ? '' : f.origH, f.origV4, f.vlan)
    const to = this.zones.zoneOf(f.respV4 >= 0 ? '' : f.respH, f.respV4, f.vlan)
    if (this.cfg.mode === 'learn') {
      const answered = isEstablished(f) || (f.proto !== 'tcp' && f.respPkts > 0)
      if (!answered || (this.cfg.allow_intra_zone && from === to)) return
      const port = portSpec(f.proto, f.respP)
      const key = `${from}>${to}|${port}`
      const e = this.learned.touch(key)
      if (e === undefined) this.learned.set(key, { from, to, port, service: f.service, flows: 1, firstUs: f.tsUs, lastUs: f.tsUs, sample: `${f.origH} → ${f.respH}` })
      else { e.flows++; if (f.tsUs > e.lastUs) e.lastUs = f.tsUs }
      return
    }
    if (this.allowed.allows(from, to, f.proto, f.respP, f.service)) return
    const port = portSpec(f.proto, f.respP)
    emit({
      type: 'policy_violation', key: `${from}>${to}|${f.origH}`, severity: 'medium', score: 65, confidence: 0.9, mitre: MITRE.policy_violation,
      src: f.origH, dst: f.respH, port: f.respP, firstSeenUs: f.tsUs, lastSeenUs: f.tsUs, count: 1,
      summary: `${f.origH} (${from}) → ${f.respH} (${to}) on ${port}${f.service ? ` (${f.service})` : ''}: no allow rule for ${from} → ${to}`,
      evidence: { flowUids: [f.uid] }, agents: [f.agentId],
    })
  }

  learnedEdges(): LearnedEdge[] { return [...this.learned.entries()].map(([, e]) => e) }

  stateSize(): number { return this.learned.size }
  evictions(): number { return this.learned.evicted }
}
