/**
 * `new_device`: a device (MAC address; the IP address when the capture has no MACs) on a
 * watched network that was never seen before, once the learning period (data time after
 * the first record) is over. Known devices: a bounded set (`max_devices`).
 *
 * Host observations without a MAC (a user agent, an SNI, a server banner) come from packets
 * of flows the same agent reports: when that agent's flows carry MACs, the device is the
 * flow's MAC and the observation is no sighting of its own (it would otherwise read as a
 * new "device" keyed by address for every host whose first banner comes after learning).
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionFlow, DetectionObservation, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { type CidrSet, hasAddr, isGroupMacN, macTextNumber, parseV4 } from './net-match.js'

export interface NewDeviceConfig { learningS: number; maxDevices: number }

export class NewDeviceDetector implements Detector {
  readonly name = 'new_device'
  /** MAC as a 48-bit number, or the address (IPv4 number + 2^48, IPv6 text) when there is no MAC. */
  private readonly known: BoundedMap<number | string, number>
  private startUs = -1
  /** Agents whose flows have carried a unicast MAC (bounded like the devices). */
  private readonly macAgents: BoundedMap<string, true>
  private lastMacAgent = ''

  constructor(private readonly c: NewDeviceConfig, private readonly watched: CidrSet) {
    this.known = new BoundedMap(c.maxDevices)
    this.macAgents = new BoundedMap(Math.min(c.maxDevices, 100_000))
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (this.startUs < 0) this.startUs = f.tsUs
    this.device(f, true, emit)
    this.device(f, false, emit)
  }

  onObservation(o: DetectionObservation, emit: Emit): void {
    if (this.startUs < 0) this.startUs = o.tsUs
    // A DNS answer naming an address is not a sighting of a device (the topology treats it alike).
    if (o.mac === '' && (o.nameSource === 'dns_a' || o.nameSource === 'dns_ptr')) return
    if (o.mac === '' && this.macAgents.get(o.agentId) !== undefined) return
    if (o.ip !== '') this.sighting(o.ip, parseV4(o.ip), macTextNumber(o.mac), () => o.mac, o.tsUs, o.agentId, emit, '')
  }

  /** One side of a flow. Its texts (address, MAC) are read only when needed: most flows are known devices. */
  private device(f: DetectionFlow, orig: boolean, emit: Emit): void {
    const v4 = orig ? f.origV4 : f.respV4
    const ip = v4 >= 0 ? '' : orig ? f.origH : f.respH
    if (v4 >= 0 ? (v4 === 0 || v4 === 0xffffffff) : ip === '') return
    const macN = orig ? f.origMacN : f.respMacN
    if (f.agentId !== this.lastMacAgent && !isGroupMacN(macN)) {
      this.lastMacAgent = f.agentId
      this.macAgents.set(f.agentId, true)
    }
    if (!(v4 >= 0 ? this.watched.hasV4(v4) : this.watchedV6(f, orig, ip))) return
    const id: number | string = !isGroupMacN(macN) ? macN : v4 >= 0 ? 0x1_0000_0000_0000 + v4 : ip
    if (this.known.touch(id) !== undefined) return
    // Watched: checked just above (passed on, so that an IPv6 address is not parsed again).
    this.sighting(orig ? f.origH : f.respH, v4, macN, () => (orig ? f.origMac : f.respMac), f.tsUs, f.agentId, emit, f.uid, true)
  }

  /** watched.has(ip) of a flow side that is not IPv4, from the wire bytes when the view has them. */
  private watchedV6(f: DetectionFlow, orig: boolean, ip: string): boolean {
    const b = orig ? f.origAddr : f.respAddr
    return b !== undefined ? hasAddr(this.watched, b) : this.watched.has(ip)
  }

  private sighting(ip: string, v4: number, macN: number, macOf: () => string, ts: number, agent: string, emit: Emit, uid: string, watchedIp?: boolean): void {
    if (ip === '' || v4 === 0 || v4 === 0xffffffff) return
    if (!(v4 >= 0 ? this.watched.hasV4(v4) : watchedIp ?? this.watched.has(ip))) return
    const hasMac = !isGroupMacN(macN)
    const id: number | string = hasMac ? macN : v4 >= 0 ? 0x1_0000_0000_0000 + v4 : ip
    if (this.known.touch(id) !== undefined) return
    this.known.set(id, ts)
    if (ts - this.startUs < this.c.learningS * 1e6) return
    const mac = hasMac ? macOf() : ''
    emit({
      type: 'new_device', key: hasMac ? mac : ip, severity: 'low', score: 40, confidence: 0.9, mitre: MITRE.new_device,
      src: ip, dst: '', port: 0, firstSeenUs: ts, lastSeenUs: ts, count: 1,
      summary: `new device ${hasMac ? `${mac} at ${ip}` : ip} on a watched network`,
      evidence: uid === '' ? {} : { flowUids: [uid] }, agents: [agent],
    })
  }

  /** Known devices (oldest first, with the time each was first seen), the learning start, the agents whose flows carry MACs. */
  /**
   * Known devices with numeric ids (MACs, IPv4 addresses: nearly all) go as one base64 run
   * of float64 pairs (id, first seen): 1M devices stringify in ~0.1 s where an array per
   * device took 1.3 s, and the save runs on the event loop. IPv6 ids as [text, first seen].
   * Each group keeps its insertion (eviction) order; text ids come after on restore.
   */
  saveState(): unknown {
    const nums = new Float64Array(this.known.size * 2)
    const texts: [string, number][] = []
    let k = 0
    for (const [id, ts] of this.known.entries()) {
      if (typeof id === 'number') { nums[k++] = id; nums[k++] = ts } else texts.push([id, ts])
    }
    const numeric = Buffer.from(nums.buffer, 0, k * 8).toString('base64')
    return { v: 1, startUs: this.startUs, numeric, texts, macAgents: [...this.macAgents.entries()].map(([a]) => a) }
  }

  loadState(s: unknown): boolean {
    const st = s as { v?: unknown; startUs?: unknown; numeric?: unknown; texts?: unknown; macAgents?: unknown } | null
    if (st === null || typeof st !== 'object' || st.v !== 1 || typeof st.startUs !== 'number' || typeof st.numeric !== 'string' || !Array.isArray(st.texts) || !Array.isArray(st.macAgents)) return false
    const raw = Buffer.from(st.numeric, 'base64')
    if (raw.length % 16 !== 0) return false
    // Restored before the first batch; a record seen meanwhile keeps the earlier start.
    if (this.startUs < 0 || (st.startUs >= 0 && st.startUs < this.startUs)) this.startUs = st.startUs
    for (let o = 0; o < raw.length; o += 16) {
      const id = raw.readDoubleLE(o)
      const ts = raw.readDoubleLE(o + 8)
      if (Number.isSafeInteger(id) && Number.isFinite(ts) && this.known.get(id) === undefined) this.known.set(id, ts)
    }
    for (const e of st.texts) {
      if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number' && this.known.get(e[0]) === undefined) this.known.set(e[0], e[1])
    }
    for (const a of st.macAgents) if (typeof a === 'string') this.macAgents.set(a, true)
    return true
  }

  stateSize(): number { return this.known.size + this.macAgents.size }
  evictions(): number { return this.known.evicted + this.macAgents.evicted }
}
