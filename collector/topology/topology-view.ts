/**
 * Selecting and shaping the topology for the API (pure): filters (CIDR, service, window,
 * minimum bytes, agent, site), the busiest edges first up to a limit, nodes of those edges, each
 * edge's confidence, and the loss periods that make "no traffic" conclusions uncertain.
 */
import { topK } from '../query/top-k.js'
import { parseCidr16 } from './addresses.js'
import type { TopologyModel } from './topology-model.js'
import type { EdgeRecord, HostRecord, LossPeriod } from './types.js'

export interface TopologyQuery {
  cidr?: string
  service?: string
  fromUs: number
  toUs: number
  minBytes: number
  agent?: string
  /** Edges with either end scoped to this site (a private host of the site). */
  site?: string
  limit: number
}

export interface NodeJson {
  id: string
  label: string
  ips: string[]
  macs: string[]
  names: string[]
  vendor: string | null
  services: number
  first_seen_us: number
  last_seen_us: number
  agents: string[]
}

export interface EdgeJson {
  id: string
  source: string
  target: string
  proto: string
  port: number
  services: string[]
  flows: number
  bytes: number
  packets: number
  first_seen_us: number
  last_seen_us: number
  agents: string[]
  duplicate_flows: number
  degraded_flows: number
  /** "high", or "reduced" when flows were seen around capture loss/shipping gaps of their agents. */
  confidence: 'high' | 'reduced'
}

export interface TopologyJson {
  nodes: NodeJson[]
  edges: EdgeJson[]
  total_edges: number
  truncated: boolean
  coverage: { complete: boolean; loss_periods: Array<{ agent_id: string; from_us: number; to_us: number; reason: string; records: number }> }
}

export function nodeJson(h: HostRecord): NodeJson {
  return {
    id: h.id, label: h.names[0]?.name ?? h.ips[h.ips.length - 1] ?? h.id, ips: h.ips, macs: h.macs, names: h.names.map((n) => n.name),
    vendor: h.vendor ?? null, services: h.services.length, first_seen_us: h.first_seen_us, last_seen_us: h.last_seen_us, agents: h.agents,
  }
}

export function edgeJson(e: EdgeRecord, loss: (agents: string[], from: number, to: number) => boolean): EdgeJson {
  const reduced = e.degraded_flows > 0 || loss(e.agents, e.first_seen_us, e.last_seen_us)
  return {
    id: e.id.split('\u001f').join('|'), source: e.src, target: e.dst, proto: e.proto, port: e.port, services: e.services, flows: e.flows, bytes: e.bytes, packets: e.packets,
    first_seen_us: e.first_seen_us, last_seen_us: e.last_seen_us, agents: e.agents, duplicate_flows: e.duplicate_flows, degraded_flows: e.degraded_flows,
    confidence: reduced ? 'reduced' : 'high',
  }
}

const busier = (a: EdgeRecord, b: EdgeRecord): boolean => a.bytes > b.bytes || (a.bytes === b.bytes && a.id < b.id)

/** The k-th largest value of `v` (1-based; k ≤ v.length), by quickselect (reorders `v`). */
function kthLargest(v: Float64Array, k: number): number {
  let lo = 0
  let hi = v.length - 1
  const want = k - 1
  while (lo < hi) {
    const pivot = v[(lo + hi) >> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (v[i]! > pivot) i++
      while (v[j]! < pivot) j--
      if (i <= j) { const t = v[i]!; v[i] = v[j]!; v[j] = t; i++; j-- }
    }
    if (want <= j) hi = j
    else if (want >= i) lo = i
    else return v[want]!
  }
  return v[want]!
}

/**
 * The `limit` busiest edges, busiest first (bytes descending, then id), without sorting every
 * edge: the limit-th largest byte count by quickselect over a typed array (O(n)), then only
 * the edges at or above it are ordered (ties at the threshold by id).
 */
export function busiest(edges: readonly EdgeRecord[], limit: number): EdgeRecord[] {
  if (edges.length <= limit) return topK(edges, limit, busier)
  const bytes = new Float64Array(edges.length)
  for (let i = 0; i < edges.length; i++) bytes[i] = edges[i]!.bytes
  const threshold = kthLargest(bytes, limit)
  const above: EdgeRecord[] = []
  for (const e of edges) if (e.bytes >= threshold) above.push(e)
  return topK(above, limit, busier)
}

/**
 * A topology query's edge filter (min bytes, time window, service, agent, CIDR or site on
 * either end), shared by the sliced build and the reference; each host's CIDR membership is
 * looked up once per query.
 */
export function edgeFilter(m: TopologyModel, q: TopologyQuery, cidr: ReturnType<typeof parseCidr16>): (e: EdgeRecord) => boolean {
  const inCidr = new Map<string, boolean>()
  const hostIn = (id: string): boolean => {
    let v = inCidr.get(id)
    if (v === undefined) { v = (m.hosts.get(id)?.ips ?? []).some((ip) => cidr!.contains(ip)); inCidr.set(id, v) }
    return v
  }
  const site = q.site
  const atSite = (id: string): boolean => {
    const scope = m.hosts.get(id)?.scope ?? ''
    return scope === site || scope.startsWith(`${site}/`)
  }
  return (e) => {
    if (e.bytes < q.minBytes) return false
    if (e.last_seen_us < q.fromUs || e.first_seen_us > q.toUs) return false
    if (q.service !== undefined && !e.services.includes(q.service)) return false
    if (q.agent !== undefined && !e.agents.includes(q.agent)) return false
    if (q.site !== undefined && !atSite(e.src) && !atSite(e.dst)) return false
    return cidr === undefined || hostIn(e.src) || hostIn(e.dst)
  }
}

/**
 * The selection in one synchronous piece: the reference that the sliced build serving the
 * API (topology-build.ts) is tested against. Returns undefined when the CIDR does not parse.
 */
export function selectTopology(m: TopologyModel, q: TopologyQuery): TopologyJson | undefined {
  const cidr = q.cidr === undefined ? undefined : parseCidr16(q.cidr)
  if (q.cidr !== undefined && cidr === undefined) return undefined
  const keep = edgeFilter(m, q, cidr)
  const picked: EdgeRecord[] = []
  for (const e of m.edges.values()) if (keep(e)) picked.push(e)
  const edges = busiest(picked, q.limit)
  const lossOf = (agents: string[], from: number, to: number): boolean => agents.some((a) => m.loss.overlaps(a, from, to))
  const nodeIds = new Set<string>()
  for (const e of edges) { nodeIds.add(e.src); nodeIds.add(e.dst) }
  const nodes: NodeJson[] = []
  for (const id of nodeIds) { const h = m.hosts.get(id); if (h !== undefined) nodes.push(nodeJson(h)) }
  const loss: LossPeriod[] = m.loss.within(q.fromUs, q.toUs, q.agent === undefined ? undefined : [q.agent])
  return {
    nodes, edges: edges.map((e) => edgeJson(e, lossOf)), total_edges: picked.length, truncated: picked.length > edges.length,
    coverage: { complete: loss.length === 0, loss_periods: loss.map((p) => ({ agent_id: p.agentId, from_us: p.fromUs, to_us: p.toUs, reason: p.reason, records: p.records })) },
  }
}
