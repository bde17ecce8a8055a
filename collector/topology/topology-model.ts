/**
 * The merged topology of every agent, in memory (pure: no I/O, no fastify). The service
 * (topology-service.ts) feeds it batches after they are durable and persists what changed.
 *
 * Host identity: an address within its scope names one host. The scope is "" (global) for
 * public addresses; a private address is scoped by its VLAN when VLAN scoping is on
 * ("vlan<N>") and by the reporting agent's site when it has one ("berlin", "berlin/vlan7"),
 * so branch offices that use the same private ranges are not merged into one another. Observations that pair an address with a MAC
 * (DHCP, ARP) bind the address to the host of that MAC: a host whose DHCP lease changes
 * keeps its identity, and an address-only host that turns out to be a known MAC is merged
 * into it. MACs of flow frames are not used (off-segment they are the router's).
 *
 * Edges: client (orig) host → server (resp) host, transport and responder port; flows,
 * bytes (IP bytes both ways), packets, first/last seen, the agents that saw them.
 * Cross-agent duplicates are counted once (flow-dedup.ts).
 */
import { compareViews, FlowDedup, type Contribution } from './flow-dedup.js'
import { LossTracker } from './loss-tracker.js'
import { edgeId, type EdgeRecord, type FlowView, type HostRecord, type HostService, type L4, type LossPeriod, type ObservationView } from './types.js'
import { isPrivateIp } from './addresses.js'
import { macVendor } from '../../protocol/oui-registry.js'

export interface TopologyOptions {
  /** Key private addresses by VLAN too (the same 10.0.0.5 on two VLANs = two hosts). */
  scopeByVlan: boolean
  /** Community ID match window (µs). */
  dedupWindowUs: number
  /** Bound of the de-duplication table (flows remembered). */
  dedupEntries: number
  /** Bound on hosts and edges kept (new ones beyond it are dropped and counted). */
  maxHosts: number
  maxEdges: number
}

export const DEFAULT_TOPOLOGY_OPTIONS: TopologyOptions = { scopeByVlan: false, dedupWindowUs: 60_000_000, dedupEntries: 500_000, maxHosts: 1_000_000, maxEdges: 5_000_000 }

export type TopologyChange = { kind: 'host'; host: HostRecord } | { kind: 'edge'; edge: EdgeRecord }

/** Roll-up deltas keyed "res|bucket|dim". */
export interface RollupDelta { resolution: number; bucketUs: number; dim: string; flows: number; bytes: number; packets: number }

const MINUTE_US = 60_000_000
const HOUR_US = 3_600_000_000
const LIMITS = { ips: 16, macs: 8, names: 16, services: 64, osHints: 16, software: 16, agents: 32, edgeServices: 8 }

/** Name sources that are hearsay about an address (a DNS answer), not a sighting of it. */
const HEARSAY_SOURCES = new Set(['dns_a', 'dns_ptr'])
/** Addresses whose DNS-answer names are held until a host appears. */
const HEARSAY_MAX = 100_000
const PRIVATE_CACHE_MAX = 65_536

function pushBounded<T>(list: T[], v: T, max: number, same: (a: T) => boolean): boolean {
  if (list.some(same)) return false
  if (list.length >= max) return false
  list.push(v)
  return true
}

/** pushBounded for texts (no closure per call: this runs for every flow). */
function addBounded(list: string[], v: string, max: number): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === v) return false
  if (list.length >= max) return false
  list.push(v)
  return true
}

/** Key of an address in its scope: the address itself in the global scope (most lookups). */
const ipKey = (scope: string, ip: string): string => scope === '' ? ip : `${scope}|${ip}`

/** Edges between one pair of hosts (a cache over `edges`, see edgeOf). */
type PairEdges = EdgeRecord[]

export class TopologyModel {
  readonly hosts = new Map<string, HostRecord>()
  readonly edges = new Map<string, EdgeRecord>()
  readonly loss = new LossTracker()
  readonly dedup: FlowDedup
  readonly dirtyHosts = new Set<string>()
  readonly dirtyEdges = new Set<string>()
  readonly deletedHosts = new Set<string>()
  readonly deletedEdges = new Set<string>()
  readonly newLossPeriods: LossPeriod[] = []
  /** Roll-up deltas since the last flush: "res|bucket" → dim → delta (takeRollupDeltas). */
  private readonly rollupIndex = new Map<string, Map<string, RollupDelta>>()
  /** ipKey(scope, ip) → host; mac → host id; merged id → surviving id. */
  private readonly byIp = new Map<string, HostRecord>()
  private readonly byMac = new Map<string, string>()
  private readonly alias = new Map<string, string>()
  counters = { flows: 0, duplicate_flows: 0, updated_flows: 0, degraded_flows: 0, observations: 0, hosts_dropped: 0, edges_dropped: 0, hosts_merged: 0, hearsay_names_evicted: 0 }

  /**
   * Names from DNS answers (A/AAAA and PTR) for addresses no host has yet, by address key. A
   * DNS answer says that a name maps to an address, not that the address is on the wire: it
   * neither creates a host nor touches one's last seen. The name is held (bounded; oldest
   * first out, counted) and given to the host when a flow or a first-hand observation brings
   * it — typically the connection that follows the lookup. Not persisted (a restart loses
   * the names of addresses not yet seen).
   */
  private readonly hearsay = new Map<string, Array<{ name: string; source: string }>>()
  onChange: ((c: TopologyChange) => void) | undefined

  /**
   * One string object per agent id (bounded): the merge compares a flow's agent with the
   * agents listed on its hosts and edge (addBounded) for every flow, and equal texts that are
   * the same object compare by identity; an agent id arrives as a new string with each batch.
   */
  private readonly agentTexts = new Map<string, string>()

  /** The model's own string for an agent id (see agentTexts). */
  agentText(agentId: string): string {
    const known = this.agentTexts.get(agentId)
    if (known !== undefined) return known
    if (this.agentTexts.size < 10_000) this.agentTexts.set(agentId, agentId)
    return agentId
  }

  constructor(readonly opts: TopologyOptions = DEFAULT_TOPOLOGY_OPTIONS) {
    this.dedup = new FlowDedup(opts.dedupWindowUs, opts.dedupEntries)
  }

  // ── identity ────────────────────────────────────────────────────────────────────────

  /** Private or not, by address text (bounded: emptied when full): ipaddr's parse is ~1 µs, and a scope is asked twice per flow. */
  private readonly privateIps = new Map<string, boolean>()

  private isPrivate(ip: string): boolean {
    let p = this.privateIps.get(ip)
    if (p === undefined) {
      p = isPrivateIp(ip)
      if (this.privateIps.size >= PRIVATE_CACHE_MAX) this.privateIps.clear()
      this.privateIps.set(ip, p)
    }
    return p
  }

  scopeOf(ip: string, vlan: number | undefined, site = ''): string {
    const byVlan = this.opts.scopeByVlan && vlan !== undefined
    if ((!byVlan && site === '') || !this.isPrivate(ip)) return ''
    if (!byVlan) return site
    return site === '' ? `vlan${vlan}` : `${site}/vlan${vlan}`
  }

  /** A host by id, merged id, address (global scope) or MAC. */
  lookup(idOrAddr: string): HostRecord | undefined {
    const direct = this.hosts.get(this.alias.get(idOrAddr) ?? idOrAddr)
    if (direct !== undefined) return direct
    const byIp = this.byIp.get(idOrAddr)
    if (byIp !== undefined) return byIp
    const byMac = this.byMac.get(idOrAddr.toLowerCase())
    return byMac === undefined ? undefined : this.hosts.get(byMac)
  }

  private newHost(id: string, scope: string, tsUs: number): HostRecord | undefined {
    if (this.hosts.size >= this.opts.maxHosts) { this.counters.hosts_dropped++; return undefined }
    let uid = id
    for (let i = 2; this.hosts.has(uid) || this.alias.has(uid); i++) uid = `${id}#${i}`
    const h: HostRecord = {
      id: uid, scope, ips: [], macs: [], names: [], services: [], os_hints: [], software: [],
      first_seen_us: tsUs, last_seen_us: tsUs, agents: [], flows_out: 0, flows_in: 0, bytes_out: 0, bytes_in: 0,
    }
    this.hosts.set(uid, h)
    this.deletedHosts.delete(uid)
    return h
  }

  private bindIp(h: HostRecord, key: string, ip: string): void {
    const old = this.byIp.get(key)
    if (old !== undefined && old !== h) {
      old.ips = old.ips.filter((x) => x !== ip)
      this.dirtyHosts.add(old.id)
    }
    this.byIp.set(key, h)
    const i = h.ips.indexOf(ip)
    if (i >= 0) h.ips.splice(i, 1)
    h.ips.push(ip)
    if (h.ips.length > LIMITS.ips) h.ips.shift()
    if (this.hearsay.size > 0) {
      const held = this.hearsay.get(key)
      if (held !== undefined) {
        this.hearsay.delete(key)
        for (const n of held) pushBounded(h.names, n, LIMITS.names, (x) => x.name === n.name && x.source === n.source)
      }
    }
  }

  /** Holds a DNS-answer name for an address without a host (see `hearsay`). */
  private holdName(key: string, name: string, source: string): void {
    let held = this.hearsay.get(key)
    if (held === undefined) {
      if (this.hearsay.size >= HEARSAY_MAX) {
        this.hearsay.delete(this.hearsay.keys().next().value as string)
        this.counters.hearsay_names_evicted++
      }
      held = []
      this.hearsay.set(key, held)
    }
    pushBounded(held, { name, source }, LIMITS.names, (x) => x.name === name && x.source === source)
  }

  private touch(h: HostRecord, agentId: string, fromUs: number, toUs: number): void {
    if (fromUs > 0 && fromUs < h.first_seen_us) h.first_seen_us = fromUs
    if (toUs > h.last_seen_us) h.last_seen_us = toUs
    addBounded(h.agents, agentId, LIMITS.agents)
    this.dirtyHosts.add(h.id)
  }

  /** The host of an address (created when unknown). */
  private hostOfIp(ip: string, vlan: number | undefined, site: string, tsUs: number): HostRecord | undefined {
    const scope = this.scopeOf(ip, vlan, site)
    const key = ipKey(scope, ip)
    const known = this.byIp.get(key)
    if (known !== undefined) return known
    const h = this.newHost(scope === '' ? ip : `${ip}%${scope}`, scope, tsUs)
    if (h === undefined) return undefined
    this.bindIp(h, key, ip)
    this.onChange?.({ kind: 'host', host: h })
    return h
  }

  /** Merges host `from` into `into`: identities, attributes, counters and edges. */
  private mergeHosts(from: HostRecord, into: HostRecord): void {
    this.counters.hosts_merged++
    this.pairs.clear()
    for (const ip of from.ips) this.bindIp(into, ipKey(from.scope, ip), ip)
    for (const m of from.macs) { addBounded(into.macs, m, LIMITS.macs); this.byMac.set(m, into.id) }
    for (const n of from.names) pushBounded(into.names, n, LIMITS.names, (x) => x.name === n.name && x.source === n.source)
    for (const s of from.services) pushBounded(into.services, s, LIMITS.services, (x) => x.port === s.port && x.proto === s.proto)
    for (const o of from.os_hints) addBounded(into.os_hints, o, LIMITS.osHints)
    for (const o of from.software) addBounded(into.software, o, LIMITS.software)
    for (const a of from.agents) addBounded(into.agents, a, LIMITS.agents)
    into.first_seen_us = Math.min(into.first_seen_us, from.first_seen_us)
    into.last_seen_us = Math.max(into.last_seen_us, from.last_seen_us)
    into.flows_out += from.flows_out; into.flows_in += from.flows_in
    into.bytes_out += from.bytes_out; into.bytes_in += from.bytes_in
    into.merged = [...(into.merged ?? []), from.id, ...(from.merged ?? [])].slice(-LIMITS.ips)
    this.alias.set(from.id, into.id)
    for (const [a, t] of this.alias) if (t === from.id) this.alias.set(a, into.id)
    this.hosts.delete(from.id)
    this.dirtyHosts.delete(from.id)
    this.deletedHosts.add(from.id)
    this.dirtyHosts.add(into.id)
    for (const e of [...this.edges.values()]) {
      if (e.src !== from.id && e.dst !== from.id) continue
      const src = e.src === from.id ? into.id : e.src
      const dst = e.dst === from.id ? into.id : e.dst
      this.edges.delete(e.id)
      this.dirtyEdges.delete(e.id)
      this.deletedEdges.add(e.id)
      const id = edgeId(src, dst, e.proto, e.port)
      const cur = this.edges.get(id)
      if (cur === undefined) {
        const moved = { ...e, id, src, dst }
        this.edges.set(id, moved)
      } else {
        cur.flows += e.flows; cur.bytes += e.bytes; cur.packets += e.packets
        cur.duplicate_flows += e.duplicate_flows; cur.degraded_flows += e.degraded_flows
        cur.first_seen_us = Math.min(cur.first_seen_us, e.first_seen_us)
        cur.last_seen_us = Math.max(cur.last_seen_us, e.last_seen_us)
        for (const a of e.agents) addBounded(cur.agents, a, LIMITS.agents)
        for (const s of e.services) addBounded(cur.services, s, LIMITS.edgeServices)
      }
      this.deletedEdges.delete(id)
      this.dirtyEdges.add(id)
    }
  }

  /** An observation from DHCP, ARP, DNS, TLS, HTTP…: names, services, software, and IP ↔ MAC. */
  observe(o: ObservationView): void {
    this.counters.observations++
    if (o.ip === '') return
    if (o.mac === '' && HEARSAY_SOURCES.has(o.nameSource) && o.service === undefined && o.software === '' && o.osHint === '' && o.dhcpVendorClass === '') {
      const key = ipKey(this.scopeOf(o.ip, o.vlan, o.site), o.ip)
      const known = this.byIp.get(key)
      if (known === undefined) { if (o.name !== '') this.holdName(key, o.name, o.nameSource); return }
      if (o.name !== '' && pushBounded(known.names, { name: o.name, source: o.nameSource }, LIMITS.names, (x) => x.name === o.name && x.source === o.nameSource)) this.dirtyHosts.add(known.id)
      return
    }
    let h: HostRecord | undefined
    if (o.mac !== '') {
      const scope = this.scopeOf(o.ip, o.vlan, o.site)
      const key = ipKey(scope, o.ip)
      const mac = o.mac.toLowerCase()
      const hm = this.hosts.get(this.byMac.get(mac) ?? '')
      const hi = this.byIp.get(key)
      if (hm !== undefined && hi !== undefined && hm !== hi) {
        // The address belongs to a host already known by its MAC: an address-only host is
        // the same machine seen before its MAC was known; a host with another MAC lost
        // the address (DHCP gave it to someone else).
        if (hi.macs.length === 0) this.mergeHosts(hi, hm)
        else this.bindIp(hm, key, o.ip)
        h = hm
      } else if (hm !== undefined) {
        this.bindIp(hm, key, o.ip)
        h = hm
      } else if (hi !== undefined && hi.macs.length === 0) {
        h = hi
      } else {
        const created = this.newHost(`mac:${mac}`, scope, o.tsUs)
        if (created === undefined) return
        this.bindIp(created, key, o.ip)
        this.onChange?.({ kind: 'host', host: created })
        h = created
      }
      if (addBounded(h.macs, mac, LIMITS.macs)) {
        this.byMac.set(mac, h.id)
        if (h.vendor === undefined) { const v = macVendor(mac); if (v !== undefined) h.vendor = v }
      }
    } else {
      h = this.hostOfIp(o.ip, o.vlan, o.site, o.tsUs)
      if (h === undefined) return
    }
    this.touch(h, o.agentId, o.tsUs, o.tsUs)
    if (o.name !== '') pushBounded(h.names, { name: o.name, source: o.nameSource }, LIMITS.names, (x) => x.name === o.name && x.source === o.nameSource)
    if (o.service !== undefined) {
      const s = o.service
      const cur = h.services.find((x) => x.port === s.port && x.proto === s.proto)
      if (cur === undefined) pushBounded(h.services, s, LIMITS.services, () => false)
      else if (cur.name === '' && s.name !== '') cur.name = s.name
    }
    if (o.software !== '') addBounded(h.software, o.software, LIMITS.software)
    if (o.osHint !== '') addBounded(h.os_hints, o.osHint, LIMITS.osHints)
    if (o.dhcpVendorClass !== '') addBounded(h.os_hints, `dhcp_vendor_class:${o.dhcpVendorClass}`, LIMITS.osHints)
  }

  // ── flows ───────────────────────────────────────────────────────────────────────────

  /** Per resolution (minute, hour): the bucket of the last flow and its deltas by dim (flows of a batch are mostly in one bucket). */
  private readonly rollupBucket = [-1, -1]
  private readonly rollupCur: Map<string, RollupDelta>[] = [new Map(), new Map()]

  get rollupPending(): boolean { return this.rollupIndex.size > 0 }

  /** The roll-up deltas merged since the last call (the flush's snapshot). */
  takeRollupDeltas(): RollupDelta[] {
    const out: RollupDelta[] = []
    for (const byDim of this.rollupIndex.values()) for (const d of byDim.values()) out.push(d)
    this.rollupIndex.clear()
    this.rollupBucket[0] = -1; this.rollupBucket[1] = -1
    return out
  }
  /** proto → service → roll-up dims (shared, never mutated); one map per proto, so no key text is built per flow. */
  private readonly dimsCache: Record<L4, Map<string, string[]>> = { tcp: new Map(), udp: new Map(), icmp: new Map(), other: new Map() }
  private dimsCached = 0

  private dimsOf(proto: L4, service: string): string[] {
    const byService = this.dimsCache[proto]
    let dims = byService.get(service)
    if (dims === undefined) {
      dims = ['', `p:${proto}`]
      if (service !== '') for (const s of service.split(',')) dims.push(`s:${s}`)
      if (this.dimsCached < 1024) { byService.set(service, dims); this.dimsCached++ }
    }
    return dims
  }

  private rollup(tsUs: number, dims: string[], flows: number, bytes: number, packets: number): void {
    for (let r = 0; r < 2; r++) {
      const span = r === 0 ? MINUTE_US : HOUR_US
      const bucketUs = Math.floor(tsUs / span) * span
      let cur = this.rollupCur[r]!
      if (bucketUs !== this.rollupBucket[r]) {
        const k = `${r + 1}|${bucketUs}`
        let byDim = this.rollupIndex.get(k)
        if (byDim === undefined) { byDim = new Map(); this.rollupIndex.set(k, byDim) }
        this.rollupBucket[r] = bucketUs
        this.rollupCur[r] = cur = byDim
      }
      for (let i = 0; i < dims.length; i++) {
        const dim = dims[i]!
        const d = cur.get(dim)
        if (d === undefined) cur.set(dim, { resolution: r + 1, bucketUs, dim, flows, bytes, packets })
        else { d.flows += flows; d.bytes += bytes; d.packets += packets }
      }
    }
  }

  /**
   * src host → dst host → the edges between them: a cache over `edges` that finds a flow's
   * edge by object identity instead of building and hashing its id text for every flow.
   * Emptied whenever edges are moved or deleted (host merges, expiry, clear); refilled on
   * demand from `edges`, the source of truth.
   */
  private readonly pairs = new Map<HostRecord, Map<HostRecord, PairEdges>>()

  private edgeOf(src: HostRecord, dst: HostRecord, proto: L4, port: number, tsUs: number): EdgeRecord | undefined {
    let byDst = this.pairs.get(src)
    if (byDst === undefined) { byDst = new Map(); this.pairs.set(src, byDst) }
    let list = byDst.get(dst)
    if (list !== undefined) {
      for (let i = 0; i < list.length; i++) { const c = list[i]!; if (c.port === port && c.proto === proto) return c }
    } else {
      list = []
      byDst.set(dst, list)
    }
    const id = edgeId(src.id, dst.id, proto, port)
    let e = this.edges.get(id)
    if (e !== undefined) { list.push(e); return e }
    if (this.edges.size >= this.opts.maxEdges) { this.counters.edges_dropped++; return undefined }
    e = { id, src: src.id, dst: dst.id, proto, port, services: [], flows: 0, bytes: 0, packets: 0, first_seen_us: tsUs, last_seen_us: tsUs, agents: [], duplicate_flows: 0, degraded_flows: 0 }
    this.edges.set(id, e)
    list.push(e)
    this.deletedEdges.delete(id)
    this.onChange?.({ kind: 'edge', edge: e })
    return e
  }

  /** Adds (sign 1) or removes (sign −1) a contribution's volumes. */
  private apply(c: Contribution, sign: 1 | -1, countFlow: boolean): void {
    const e = this.edges.get(c.edgeId)
    const s = this.hosts.get(c.src)
    const d = this.hosts.get(c.dst)
    const bytes = c.bytesOut + c.bytesIn
    if (e !== undefined) {
      e.bytes += sign * bytes; e.packets += sign * c.packets
      if (countFlow) e.flows += sign
      if (c.degraded) e.degraded_flows += sign
      this.dirtyEdges.add(e.id)
    }
    if (s !== undefined) { s.bytes_out += sign * c.bytesOut; s.bytes_in += sign * c.bytesIn; if (countFlow) s.flows_out += sign; this.dirtyHosts.add(s.id) }
    if (d !== undefined) { d.bytes_in += sign * c.bytesOut; d.bytes_out += sign * c.bytesIn; if (countFlow) d.flows_in += sign; this.dirtyHosts.add(d.id) }
    this.rollup(c.tsUs, c.dims, countFlow ? sign : 0, sign * bytes, sign * c.packets)
  }

  /**
   * apply(c, 1, true) for a new flow whose edge `e` edgeOf just gave (hand-written: once per
   * flow). The same effect with less hashing: edgeOf's edge is the one `edges` holds under its
   * id (the pair cache is emptied whenever an edge is moved or deleted), and the hosts' ids
   * are in dirtyHosts already (touch() added them for this flow; c.src / c.dst are those ids).
   * The hosts are still looked up by id: a stale address binding may hand the merge a host
   * object that is no longer the one `hosts` holds under its id.
   */
  private applyNew(c: Contribution, e: EdgeRecord): void {
    const bytes = c.bytesOut + c.bytesIn
    e.bytes += bytes; e.packets += c.packets
    e.flows += 1
    if (c.degraded) e.degraded_flows += 1
    this.dirtyEdges.add(e.id)
    const s = this.hosts.get(c.src)
    const d = this.hosts.get(c.dst)
    if (s !== undefined) { s.bytes_out += c.bytesOut; s.bytes_in += c.bytesIn; s.flows_out += 1 }
    if (d !== undefined) { d.bytes_in += c.bytesOut; d.bytes_out += c.bytesIn; d.flows_in += 1 }
    this.rollup(c.tsUs, c.dims, 1, bytes, c.packets)
  }

  /** One flow record of one agent. */
  flow(f: FlowView, established: boolean, origBytes: number, respBytes: number): void {
    const src = this.hostOfIp(f.orig, f.vlan, f.site, f.tsUs)
    const dst = this.hostOfIp(f.resp, f.vlan, f.site, f.tsUs)
    if (src === undefined || dst === undefined) return
    this.touch(src, f.agentId, f.tsUs, f.endUs)
    this.touch(dst, f.agentId, f.tsUs, f.endUs)
    const e = this.edgeOf(src, dst, f.proto, f.respPort, f.tsUs)
    if (e === undefined) return
    if (f.tsUs < e.first_seen_us) e.first_seen_us = f.tsUs
    if (f.endUs > e.last_seen_us) e.last_seen_us = f.endUs
    addBounded(e.agents, f.agentId, LIMITS.agents)
    if (f.service !== '') addBounded(e.services, f.service, LIMITS.edgeServices)
    if (established && f.proto !== 'icmp' && f.proto !== 'other') {
      // A loop, not find() with a closure: once per established flow.
      let cur: HostService | undefined
      const list = dst.services
      for (let i = 0; i < list.length; i++) { const x = list[i]!; if (x.port === f.respPort && x.proto === f.proto) { cur = x; break } }
      if (cur === undefined) pushBounded(dst.services, { port: f.respPort, proto: f.proto, name: f.service }, LIMITS.services, () => false)
      else if (cur.name === '' && f.service !== '') cur.name = f.service
    }
    const degraded = this.loss.overlaps(f.agentId, f.tsUs, f.endUs)
    const dims = this.dimsOf(f.proto, f.service)
    const c: Contribution = {
      agentId: f.agentId, tsUs: f.tsUs, edgeId: e.id, src: src.id, dst: dst.id, bytesOut: origBytes, bytesIn: respBytes,
      packets: f.packets, missedBytes: f.missedBytes, degraded, observers: undefined, dims,
    }
    // Two sites' flows are never one flow: the same five-tuple there joins other hosts.
    const dedupKey = f.site === '' || f.dedupKey === '' ? f.dedupKey : `${f.site}\u0000${f.dedupKey}`
    const slot = dedupKey === '' ? -1 : this.dedup.find(dedupKey, f.tsUs)
    // A copy of the entry (the window keeps columns, flow-dedup.ts): written back below.
    const prev = slot < 0 ? undefined : this.dedup.get(slot)
    if (prev !== undefined && (prev.agentId !== f.agentId || prev.tsUs === f.tsUs)) {
      const sameAgentUpdate = prev.agentId === f.agentId
      if (sameAgentUpdate) this.counters.updated_flows++
      else {
        this.counters.duplicate_flows++
        if (prev.observers === undefined) this.dedup.setObservers(slot, prev.observers = [prev.agentId, f.agentId])
        else if (!prev.observers.includes(f.agentId)) prev.observers.push(f.agentId)
        const pe = this.edges.get(prev.edgeId)
        if (pe !== undefined) { pe.duplicate_flows++; addBounded(pe.agents, f.agentId, LIMITS.agents); this.dirtyEdges.add(pe.id) }
      }
      // Replace the kept view when this one is an update or a better view.
      if (sameAgentUpdate ? c.packets >= prev.packets : compareViews(c, prev) < 0) {
        const moved = prev.edgeId !== c.edgeId
        this.apply(prev, -1, moved)
        this.apply({ ...c, tsUs: prev.tsUs, dims: prev.dims }, 1, moved)
        this.dedup.set(slot, { ...c, tsUs: prev.tsUs, dims: prev.dims, observers: prev.observers })
      }
      return
    }
    this.counters.flows++
    if (degraded) this.counters.degraded_flows++
    if (dedupKey !== '') this.dedup.add(dedupKey, c)
    this.applyNew(c, e)
  }

  /** A loss period reported by (or derived from) an agent. */
  addLoss(p: LossPeriod): void {
    this.loss.add(p)
    this.newLossPeriods.push(p)
  }

  /** AgentStats: total capture drops at a time; a growth is a loss period. */
  captureDrops(agentId: string, atUs: number, droppedTotal: number): void {
    const p = this.loss.captureDrops(agentId, atUs, droppedTotal)
    if (p !== undefined) this.newLossPeriods.push(p)
  }

  // ── persistence and retention ──────────────────────────────────────────────────────

  /** Loads a stored host (at start). */
  loadHost(h: HostRecord): void {
    this.hosts.set(h.id, h)
    for (const ip of h.ips) this.byIp.set(ipKey(h.scope, ip), h)
    for (const m of h.macs) this.byMac.set(m, h.id)
    for (const m of h.merged ?? []) this.alias.set(m, h.id)
  }

  loadEdge(e: EdgeRecord): void { this.edges.set(e.id, e) }

  // (edge cache: see edgeOf)

  /** Drops hosts and edges not seen since cutoffUs. */
  expire(cutoffUs: number): { hosts: number; edges: number } {
    let hosts = 0
    let edges = 0
    for (const e of [...this.edges.values()]) {
      if (e.last_seen_us >= cutoffUs) continue
      this.edges.delete(e.id); this.dirtyEdges.delete(e.id); this.deletedEdges.add(e.id); edges++
    }
    for (const h of [...this.hosts.values()]) {
      if (h.last_seen_us >= cutoffUs) continue
      this.hosts.delete(h.id); this.dirtyHosts.delete(h.id); this.deletedHosts.add(h.id); hosts++
      for (const ip of h.ips) { const k = ipKey(h.scope, ip); if (this.byIp.get(k) === h) this.byIp.delete(k) }
      for (const m of h.macs) if (this.byMac.get(m) === h.id) this.byMac.delete(m)
    }
    this.loss.expire(cutoffUs)
    if (hosts > 0 || edges > 0) this.pairs.clear()
    return { hosts, edges }
  }

  clear(): void {
    this.hosts.clear(); this.edges.clear(); this.byIp.clear(); this.byMac.clear(); this.alias.clear(); this.pairs.clear()
    this.dedup.clear(); this.loss.clear(); this.hearsay.clear()
    this.dirtyHosts.clear(); this.dirtyEdges.clear(); this.deletedHosts.clear(); this.deletedEdges.clear()
    this.rollupIndex.clear(); this.rollupBucket[0] = -1; this.rollupBucket[1] = -1; this.newLossPeriods.length = 0
    for (const k of Object.keys(this.counters) as (keyof typeof this.counters)[]) this.counters[k] = 0
  }
}
