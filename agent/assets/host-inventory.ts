/**
 * Merges host observations (from analyzers, ARP, DHCP and flows) into one record per IP:
 * MACs, names with their source, first/last seen, services offered, software and OS hints.
 * Bounded: at most `maxHosts` hosts (the least recently seen is dropped and counted) and a few
 * dozen values per list.
 */
import type { AppTransport, HostObservation } from '../app/app-analyzer.js'
import type { ConnRecord } from '../flow/conn-record.js'

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

const MAX_LIST = 32

function pushUnique<T>(list: T[], v: T, same: (a: T) => boolean): void {
  if (list.length >= MAX_LIST || list.some(same)) return
  list.push(v)
}

/** A host in the recency list (least recently seen first). */
interface HostEntry {
  rec: HostRecord
  prev: HostEntry | undefined
  next: HostEntry | undefined
}

const ESTABLISHED_TCP = new Set(['SF', 'S1', 'S2', 'S3', 'RSTO', 'RSTR'])

export class HostInventory {
  /**
   * ip → entry; recency is an intrusive doubly linked list (re-inserting into the Map on
   * every sighting, as before, cost ~8% of a flows-only replay in Map churn).
   */
  private readonly hosts = new Map<string, HostEntry>()
  private head: HostEntry | undefined = undefined
  private tail: HostEntry | undefined = undefined
  dropped = 0

  constructor(private readonly maxHosts = 1_000_000, private readonly vendorOf?: (mac: string) => string | undefined) {}

  get size(): number {
    return this.hosts.size
  }

  private host(ip: string, ts: number): HostRecord {
    let e = this.hosts.get(ip)
    if (e) {
      const h = e.rec
      if (ts > h.last_seen) h.last_seen = ts
      if (ts < h.first_seen) h.first_seen = ts
      if (e !== this.tail) { this.unlink(e); this.append(e) } // most recently seen last
      return h
    }
    if (this.hosts.size >= this.maxHosts && this.head) {
      const oldest = this.head
      this.unlink(oldest)
      this.hosts.delete(oldest.rec.ip)
      this.dropped++
    }
    const h: HostRecord = { ip, macs: [], names: [], first_seen: ts, last_seen: ts, services: [], software: [], os_hints: [] }
    e = { rec: h, prev: undefined, next: undefined }
    this.hosts.set(ip, e)
    this.append(e)
    return h
  }

  private append(e: HostEntry): void {
    e.prev = this.tail
    e.next = undefined
    if (this.tail) this.tail.next = e
    else this.head = e
    this.tail = e
  }

  private unlink(e: HostEntry): void {
    if (e.prev) e.prev.next = e.next
    else this.head = e.next
    if (e.next) e.next.prev = e.prev
    else this.tail = e.prev
    e.prev = e.next = undefined
  }

  observe(o: HostObservation): void {
    if (!o.ip) return
    const h = this.host(o.ip, o.ts)
    if (o.mac) this.mac(h, o.mac)
    if (o.name && o.nameSource) pushUnique(h.names, { name: o.name, source: o.nameSource }, (n) => n.name === o.name && n.source === o.nameSource)
    if (o.software) pushUnique(h.software, { name: o.software, role: o.softwareRole ?? 'unknown' }, (s) => s.name === o.software)
    if (o.service) {
      const sv = o.service
      pushUnique(h.services, { port: sv.port, proto: sv.proto, service: sv.name, software: o.softwareRole === 'server' ? o.software : undefined },
        (s) => s.port === sv.port && s.proto === sv.proto && s.service === sv.name)
    }
    if (o.osHint) pushUnique(h.os_hints, o.osHint, (x) => x === o.osHint)
    if (o.dhcpVendorClass) pushUnique(h.os_hints, `dhcp_vendor_class:${o.dhcpVendorClass}`, (x) => x === `dhcp_vendor_class:${o.dhcpVendorClass}`)
    if (o.dhcpParamList) pushUnique(h.os_hints, `dhcp_params:${o.dhcpParamList}`, (x) => x === `dhcp_params:${o.dhcpParamList}`)
  }

  /** A finished connection: both ends were seen; the responder of an established flow offers a service. */
  flow(r: ConnRecord): void {
    const o = this.host(r.origH, r.ts)
    const p = this.host(r.respH, r.ts)
    const end = r.lastTs
    if (end > o.last_seen) o.last_seen = end
    if (end > p.last_seen) p.last_seen = end
    // A frame's MAC belongs to the IP only on the local segment (else it is the router's).
    if (r.origL2Addr && r.localOrig && !r.tunnelParents.length) this.mac(o, r.origL2Addr)
    if (r.respL2Addr && r.localResp && !r.tunnelParents.length && r.respPkts > 0 && !/^(ff:ff|01:00:5e|33:33)/.test(r.respL2Addr)) this.mac(p, r.respL2Addr)
    const established = r.proto === 'tcp' ? ESTABLISHED_TCP.has(r.connState) : r.respPkts > 0
    if (established && r.proto !== 'icmp' && r.proto !== 'unknown_transport') {
      pushUnique(p.services, { port: r.respP, proto: r.proto, service: r.service || '-' },
        (s) => s.port === r.respP && s.proto === r.proto && (s.service === (r.service || '-') || s.service === '-'))
      const svc = p.services.find((s) => s.port === r.respP && s.proto === r.proto)
      if (svc && svc.service === '-' && r.service) svc.service = r.service
    }
  }

  private mac(h: HostRecord, mac: string): void {
    // A MAC already listed was looked up when it was added (the lookup is a pure function).
    if (h.macs.includes(mac)) return
    pushUnique(h.macs, mac, (m) => m === mac)
    if (!h.vendor && this.vendorOf) h.vendor = this.vendorOf(mac)
  }

  /** Hosts, most recently seen last. */
  records(): HostRecord[] {
    const out: HostRecord[] = []
    for (let e = this.head; e !== undefined; e = e.next) out.push(e.rec)
    return out
  }
}
