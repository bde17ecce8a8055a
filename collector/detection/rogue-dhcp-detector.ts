/**
 * `rogue_dhcp`: a DHCP server not known before. A DHCP server is the endpoint on UDP port
 * 67 that sent packets in a DHCP flow. Known servers: `allowed_servers`, or (when that
 * list is empty) every server seen during the learning period after the first record.
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionFlow, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'

export interface RogueDhcpConfig { allowedServers: readonly string[]; learningS: number }

export class RogueDhcpDetector implements Detector {
  readonly name = 'rogue_dhcp'
  private readonly known: BoundedMap<string, number>
  private startUs = -1

  constructor(private readonly c: RogueDhcpConfig, maxKeys: number) {
    this.known = new BoundedMap(maxKeys)
    for (const s of c.allowedServers) this.known.set(s, 0)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (this.startUs < 0) this.startUs = f.tsUs
    if (f.proto !== 'udp') return
    let server = ''; let mac = ''
    if (f.origP === 67 && (f.respP === 68 || f.respP === 67) && f.origPkts > 0) { server = f.origH; mac = f.origMac } else if (f.respP === 67 && f.origP === 68 && f.respPkts > 0) { server = f.respH; mac = f.respMac }
    if (server === '' || server === '0.0.0.0' || server === '255.255.255.255') return
    if (this.known.touch(server) !== undefined) return
    const learning = this.c.allowedServers.length === 0 && f.tsUs - this.startUs < this.c.learningS * 1e6
    this.known.set(server, f.tsUs)
    if (learning) return
    emit({
      type: 'rogue_dhcp', key: server, severity: 'high', score: 85, confidence: 0.85, mitre: MITRE.rogue_dhcp,
      src: server, dst: f.origP === 67 ? f.respH : f.origH, port: 67, firstSeenUs: f.tsUs, lastSeenUs: f.tsUs, count: 1,
      summary: `new DHCP server ${server}${mac ? ` (${mac})` : ''} answered on the network`,
      evidence: { flowUids: [f.uid] }, agents: [f.agentId],
    })
  }

  /** The servers learned (not the configured ones: the config stays the source of those) and the learning start. */
  saveState(): unknown {
    return { v: 1, startUs: this.startUs, learned: [...this.known.entries()].filter(([s, ts]) => ts > 0 || !this.c.allowedServers.includes(s)) }
  }

  loadState(s: unknown): boolean {
    const st = s as { v?: unknown; startUs?: unknown; learned?: unknown } | null
    if (st === null || typeof st !== 'object' || st.v !== 1 || typeof st.startUs !== 'number' || !Array.isArray(st.learned)) return false
    if (this.startUs < 0 || (st.startUs >= 0 && st.startUs < this.startUs)) this.startUs = st.startUs
    for (const e of st.learned) {
      if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number' && this.known.get(e[0]) === undefined) this.known.set(e[0], e[1])
    }
    return true
  }

  stateSize(): number { return this.known.size }
  evictions(): number { return this.known.evicted }
}
