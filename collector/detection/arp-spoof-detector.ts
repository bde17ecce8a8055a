/**
 * `arp_spoof`: a second MAC claiming an IP address while the first one is still live
 * (seen within `rebind_grace_s`) — the signature of ARP cache poisoning. Bindings come
 * from host observations (ARP replies, DHCP ACKs) and, optionally, from flows' MAC
 * addresses for local addresses. A claim on a configured gateway is critical. One incident
 * per (agent, VLAN, IP); later flips between the MACs update it.
 *
 * Bindings are kept per agent: a MAC is meaningful only on the layer-2 segment one sensor
 * sees. Two sensors on different segments (other sites reusing the same private range, or
 * a router's MAC on the far side) seeing different MACs for one address is not a spoof.
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionFlow, DetectionObservation, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { isGroupMacN, macTextNumber, parseV4 } from './net-match.js'

export interface ArpSpoofConfig {
  gateways: readonly string[]
  rebindGraceS: number
  useFlowMacs: boolean
}

/** `macs`: the MACs of the incident (since the last re-assignment); undefined while that is `mac` alone (no set per binding). */
interface Binding { mac: number; last: number; macs: Set<number> | undefined; fired: boolean; first: number }

export class ArpSpoofDetector implements Detector {
  readonly name = 'arp_spoof'
  /**
   * (agent, VLAN, IPv4) → binding. The agent's number g = agentIndex·4096 + VLAN: for g = 0
   * the address | 0, else g·2^32 + address (exact below 2^53: the first 512 agents); other
   * agents and IPv6 as 'agent|vlan|ip' text.
   */
  private readonly bindings: BoundedMap<number | string, Binding>
  private readonly gateways: Set<string>
  /** Agent id → small number for the binding keys (agents are few; never evicted). */
  private readonly agentIndex = new Map<string, number>()
  /** The last agent looked up and its number (a batch is one agent's). */
  private lastAgent: string | undefined
  private lastAgentIndex = 0

  constructor(private readonly c: ArpSpoofConfig, maxKeys: number, private readonly isLocal: (f: DetectionFlow, side: 'orig' | 'resp') => boolean) {
    this.bindings = new BoundedMap(maxKeys)
    this.gateways = new Set(c.gateways)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (!this.c.useFlowMacs) return
    if (f.origMacN >= 0 && this.isLocal(f, 'orig')) this.bind(f.vlan ?? 0, f, true, flowIp, f.origV4, f.origMacN, f.tsUs, f.agentId, emit, f.uid)
    if (f.respMacN >= 0 && this.isLocal(f, 'resp')) this.bind(f.vlan ?? 0, f, false, flowIp, f.respV4, f.respMacN, f.tsUs, f.agentId, emit, f.uid)
  }

  onObservation(o: DetectionObservation, emit: Emit): void {
    if (o.ip !== '' && o.mac !== '') this.bind(0, o, true, observationIp, parseV4(o.ip), macTextNumber(o.mac), o.tsUs, o.agentId, emit, '')
  }

  /**
   * One IP↔MAC sighting. The address text is `ipOf(x, orig)`, read only when needed (a text
   * key, a conflict): a flow's bindings mostly confirm what is known, by number.
   */
  private bind<X>(vlan: number, x: X, orig: boolean, ipOf: (x: X, orig: boolean) => string, v4: number, mac: number, ts: number, agent: string, emit: Emit, uid: string): void {
    if (isGroupMacN(mac) || v4 === 0 || v4 === 0xffffffff) return
    let ai = agent === this.lastAgent ? this.lastAgentIndex : this.agentIndex.get(agent)
    if (ai === undefined) { ai = this.agentIndex.size; this.agentIndex.set(agent, ai) }
    this.lastAgent = agent
    this.lastAgentIndex = ai
    // The first agent on VLAN 0 (most bindings): the IPv4 as a signed 32-bit number, a small
    // integer; others g·2^32 + address (≥ 2^32, never equal to a g = 0 key); the rest as text.
    const g = ai * 4096 + (vlan & 4095)
    const key = v4 >= 0 && ai < 512 ? (g === 0 ? v4 | 0 : g * 0x1_0000_0000 + v4) : `${agent}|${vlan}|${ipOf(x, orig)}`
    const b = this.bindings.touch(key)
    if (b === undefined) {
      this.bindings.set(key, { mac, last: ts, macs: undefined, fired: false, first: ts })
      return
    }
    if (b.mac === mac) { if (ts > b.last) b.last = ts; return }
    const conflict = ts - b.last <= this.c.rebindGraceS * 1e6
    const previous = b.mac
    b.mac = mac
    if (ts > b.last) b.last = ts
    if (!conflict && !b.fired) { b.macs = undefined; return }
    b.macs ??= new Set([previous])
    b.macs.add(mac)
    const ip = ipOf(x, orig)
    const gw = this.gateways.has(ip)
    const count = b.fired ? 1 : 1
    if (!b.fired) b.first = ts
    b.fired = true
    emit({
      type: 'arp_spoof', key: `${agent}|${vlan}|${ip}`, severity: gw ? 'critical' : 'high', score: gw ? 95 : 80, confidence: uid === '' ? 0.9 : 0.75, mitre: MITRE.arp_spoof,
      src: ip, dst: '', port: 0, firstSeenUs: b.first, lastSeenUs: ts, count,
      summary: `${[...b.macs].map(macStr).join(' and ')} both claim ${ip}${gw ? ' (a gateway)' : ''}; now ${macStr(mac)}, before ${macStr(previous)}`,
      evidence: uid === '' ? {} : { flowUids: [uid] }, agents: [agent],
    })
  }

  stateSize(): number { return this.bindings.size }
  evictions(): number { return this.bindings.evicted }
}

const flowIp = (f: DetectionFlow, orig: boolean): string => (orig ? f.origH : f.respH)
const observationIp = (o: DetectionObservation): string => o.ip

function macStr(n: number): string {
  return n.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:')
}
