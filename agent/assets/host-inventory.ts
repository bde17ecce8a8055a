/**
 * Merges host observations (from analyzers, ARP, DHCP and flows) into one record per IP:
 * MACs, names with their source, first/last seen, services offered, software and OS hints.
 * Bounded: at most `maxHosts` hosts (the least recently seen is dropped and counted) and a few
 * dozen values per list.
 *
 * Cost: called for both ends of every connection and for every analyzer observation, so a
 * touch is a map lookup and a recency stamp (one store), and the lists of a host are allocated
 * on their first value. The least-recently-seen list that eviction needs is linked only once
 * the inventory reaches its cap (as the flow table's): relinking on every touch wrote into
 * three entries scattered in the heap, ~a third of the inventory's time on the bench replay.
 * Without the list, the output order (least recently seen first) comes from the stamps.
 */
import type { AppTransport, HostObservation } from '../app/app-analyzer.js'
import type { ConnRecord } from '../flow/conn-record.js'
import { byStamp } from '../flow/recency-order.js'

export interface HostRecord {
  ip: string
  macs: string[]
  vendor?: string | undefined
  names: Array<{ name: string; source: string }>
  first_seen: number
  last_seen: number
  services: Array<{ port: number; proto: AppTransport; service: string; software?: string | undefined }>
  software: Array<{ name: string; role: string }>
  os_hints: string[]
  /** Initial TTL guessed from TTLs seen from the host (64 Linux/macOS, 128 Windows, 255 network gear). */
  initial_ttl?: number | undefined
}

type Service = HostRecord['services'][number]

/** What flow() reads of a connection record (a reused object will do: nothing of it is kept but its strings). */
export type HostFlowFacts = Pick<ConnRecord, 'origH' | 'respH' | 'ts' | 'lastTs' | 'tunnelParents' | 'origL2Addr' | 'respL2Addr' |
  'localOrig' | 'localResp' | 'respPkts' | 'proto' | 'connState' | 'service' | 'respP'>

const MAX_LIST = 32
const NONE: never[] = Object.freeze([]) as unknown as never[]

/** One host while it is tracked: its record's values plus its place in the recency list. */
interface HostEntry {
  readonly ip: string
  firstSeen: number
  lastSeen: number
  /** Recency: the inventory's touch counter at the last touch. */
  stamp: number
  prev: HostEntry | undefined
  next: HostEntry | undefined
  macs: string[]
  /** Assigned at least once (the record then carries the key, as before, even when undefined). */
  vendorSet: boolean
  vendor: string | undefined
  names: Array<{ name: string; source: string }>
  services: Service[]
  software: Array<{ name: string; role: string }>
  osHints: string[]
}

/**
 * A new host entry, made by an object literal on purpose (not `new` of a class): a host
 * lives until the end of the run, and V8 pretenures objects only from allocation sites that
 * track them (literals), once it sees that most of them survive. From this one site the
 * entries (79k on the bench mix capture, 67k of them named by DNS answers) go straight
 * into old space instead of being copied by two young-generation collections each:
 * `--trace-gc-nvp` over the bench replay, promoted 81.0 → 69.9 MB, survived 89.2 → 77.7 MB.
 */
function newHostEntry(ip: string, ts: number, stamp: number): HostEntry {
  return {
    ip, firstSeen: ts, lastSeen: ts, stamp, prev: undefined, next: undefined, macs: NONE, vendorSet: false,
    vendor: undefined, names: NONE, services: NONE, software: NONE, osHints: NONE,
  }
}

function hasString(list: readonly string[], v: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === v) return true
  return false
}

/** Appends `v` unless the list is full; returns the (possibly new) list. */
function append<T>(list: T[], v: T): T[] {
  if (list.length >= MAX_LIST) return list
  if (list === NONE) return [v]
  list.push(v)
  return list
}

/** conn_state values of a TCP connection that was established. */
function establishedTcp(state: string): boolean {
  return state === 'SF' || state === 'S1' || state === 'S2' || state === 'S3' || state === 'RSTO' || state === 'RSTR'
}

function broadcastOrMulticastMac(mac: string): boolean {
  return mac.startsWith('ff:ff') || mac.startsWith('01:00:5e') || mac.startsWith('33:33')
}

export class HostInventory {
  private readonly hosts = new Map<string, HostEntry>()
  /** Least recently seen first. */
  private head: HostEntry | undefined = undefined
  private tail: HostEntry | undefined = undefined
  private touches = 0
  /** Whether the recency list is linked (the inventory reached its cap). */
  private lruOn = false
  dropped = 0
  /** The name entry made last (shared by the next hosts that get the same name and source). */
  private lastName: { readonly name: string; readonly source: string } | undefined = undefined

  constructor(private readonly maxHosts = 1_000_000, private readonly vendorOf?: (mac: string) => string | undefined) {}

  get size(): number {
    return this.hosts.size
  }

  private host(ip: string, ts: number): HostEntry {
    let h = this.hosts.get(ip)
    if (h !== undefined) {
      if (ts > h.lastSeen) h.lastSeen = ts
      if (ts < h.firstSeen) h.firstSeen = ts
      h.stamp = ++this.touches
      if (this.lruOn && h !== this.tail) { this.unlink(h); this.append(h) } // most recently seen last
      return h
    }
    if (this.hosts.size >= this.maxHosts) {
      if (!this.lruOn) this.linkLru()
      const oldest = this.head!
      this.unlink(oldest)
      this.hosts.delete(oldest.ip)
      this.dropped++
    }
    h = newHostEntry(ip, ts, ++this.touches)
    this.hosts.set(ip, h)
    if (this.lruOn) this.append(h)
    return h
  }

  /** Hosts, least recently seen first. */
  private byRecency(): HostEntry[] {
    if (this.lruOn) {
      const out: HostEntry[] = []
      for (let h = this.head; h !== undefined; h = h.next) out.push(h)
      return out
    }
    return byStamp([...this.hosts.values()], (h) => h.stamp)
  }

  private linkLru(): void {
    const order = this.byRecency()
    this.lruOn = true
    this.head = this.tail = undefined
    for (const h of order) this.append(h)
  }

  private unlink(h: HostEntry): void {
    if (h.prev !== undefined) h.prev.next = h.next
    else this.head = h.next
    if (h.next !== undefined) h.next.prev = h.prev
    else this.tail = h.prev
    h.prev = undefined
    h.next = undefined
  }

  private append(h: HostEntry): void {
    h.prev = this.tail
    if (this.tail !== undefined) this.tail.next = h
    else this.head = h
    this.tail = h
  }

  observe(o: HostObservation): void {
    if (!o.ip) return
    const h = this.host(o.ip, o.ts)
    if (o.mac) this.mac(h, o.mac)
    // A full list takes nothing more (append is a no-op then), so it is not searched either:
    // a busy server's 32 names were compared on every observation of it (hand-written loops).
    if (o.name && o.nameSource && h.names.length < MAX_LIST) {
      const name = o.name
      const source = o.nameSource
      const list = h.names
      let seen = false
      for (let i = 0; i < list.length; i++) if (list[i]!.name === name && list[i]!.source === source) { seen = true; break }
      if (!seen) {
        // DNS answers name several addresses at once (one owner, several A records): the
        // entry is shared, frozen, between their hosts (fewer long-lived objects).
        let e = this.lastName
        if (e === undefined || e.name !== name || e.source !== source) e = this.lastName = Object.freeze({ name, source })
        h.names = append(list, e)
      }
    }
    if (o.software && h.software.length < MAX_LIST) {
      const sw = o.software
      const list = h.software
      let seen = false
      for (let i = 0; i < list.length; i++) if (list[i]!.name === sw) { seen = true; break }
      if (!seen) h.software = append(list, { name: sw, role: o.softwareRole ?? 'unknown' })
    }
    if (o.service && h.services.length < MAX_LIST) {
      const sv = o.service
      const list = h.services
      let seen = false
      for (let i = 0; i < list.length; i++) {
        const s = list[i]!
        if (s.port === sv.port && s.proto === sv.proto && s.service === sv.name) { seen = true; break }
      }
      if (!seen) h.services = append(list, { port: sv.port, proto: sv.proto, service: sv.name, software: o.softwareRole === 'server' ? o.software : undefined })
    }
    if (o.osHint) this.osHint(h, o.osHint)
    if (o.dhcpVendorClass) this.osHint(h, `dhcp_vendor_class:${o.dhcpVendorClass}`)
    if (o.dhcpParamList) this.osHint(h, `dhcp_params:${o.dhcpParamList}`)
  }

  /** A finished connection: both ends were seen; the responder of an established flow offers a service. */
  flow(r: HostFlowFacts): void {
    const o = this.host(r.origH, r.ts)
    const p = this.host(r.respH, r.ts)
    const end = r.lastTs
    if (end > o.lastSeen) o.lastSeen = end
    if (end > p.lastSeen) p.lastSeen = end
    // A frame's MAC belongs to the IP only on the local segment (else it is the router's).
    const direct = r.tunnelParents.length === 0
    if (r.origL2Addr && r.localOrig && direct) this.mac(o, r.origL2Addr)
    if (r.respL2Addr && r.localResp && direct && r.respPkts > 0 && !broadcastOrMulticastMac(r.respL2Addr)) this.mac(p, r.respL2Addr)
    const established = r.proto === 'tcp' ? establishedTcp(r.connState) : r.respPkts > 0
    if (established && r.proto !== 'icmp' && r.proto !== 'unknown_transport') {
      const service = r.service || '-'
      const list = p.services
      let same: Service | undefined
      for (let i = 0; i < list.length; i++) {
        const s = list[i]!
        if (s.port === r.respP && s.proto === r.proto && (s.service === service || s.service === '-')) { same = s; break }
      }
      if (same === undefined) p.services = append(p.services, { port: r.respP, proto: r.proto, service })
      let svc: Service | undefined
      for (let i = 0; i < p.services.length; i++) {
        const s = p.services[i]!
        if (s.port === r.respP && s.proto === r.proto) { svc = s; break }
      }
      if (svc && svc.service === '-' && r.service) svc.service = r.service
    }
  }

  private mac(h: HostEntry, mac: string): void {
    // A MAC already listed was looked up when it was added (and a vendor once found stays):
    // asking again gives the same answer. This saves a vendor lookup per flow of every local
    // host whose MAC has no vendor (locally administered, unknown OUI).
    if (hasString(h.macs, mac)) return
    h.macs = append(h.macs, mac)
    if (!h.vendor && this.vendorOf) { h.vendor = this.vendorOf(mac); h.vendorSet = true }
  }

  private osHint(h: HostEntry, hint: string): void {
    if (h.osHints.length < MAX_LIST && !hasString(h.osHints, hint)) h.osHints = append(h.osHints, hint)
  }

  /** Hosts, most recently seen last. */
  records(): HostRecord[] {
    return [...this.each()]
  }

  /** Hosts one at a time, most recently seen last (writing 100k hosts needs no array of them). */
  * each(): Generator<HostRecord> {
    for (const h of this.byRecency()) {
      const r: HostRecord = {
        ip: h.ip, macs: h.macs.slice(), names: h.names.slice(), first_seen: h.firstSeen, last_seen: h.lastSeen,
        services: h.services.slice(), software: h.software.slice(), os_hints: h.osHints.slice(),
      }
      if (h.vendorSet) r.vendor = h.vendor
      yield r
    }
  }

  /**
   * The same records as each(), holding the inventory's own lists instead of copies: for
   * serialising each one at once (hosts.ndjson), never for keeping or changing. Copying five
   * lists per host was ~27 MB of garbage at the end of the bench replay (79k hosts).
   */
  * eachToWrite(): Generator<Readonly<HostRecord>> {
    for (const h of this.byRecency()) {
      const r: HostRecord = {
        ip: h.ip, macs: h.macs, names: h.names, first_seen: h.firstSeen, last_seen: h.lastSeen,
        services: h.services, software: h.software, os_hints: h.osHints,
      }
      if (h.vendorSet) r.vendor = h.vendor
      yield r
    }
  }
}
