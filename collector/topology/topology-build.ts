/**
 * Building a `/api/v1/topology` answer without holding the event loop: the same selection as
 * topology-view.ts (filters, busiest edges, nodes, confidence, loss periods) and its JSON or
 * GraphML encoding, done in slices of at most `sliceMs` of work, each followed by a
 * setImmediate so requests and ingest batches waiting on the loop run in between.
 *
 * Merges may run between slices: the answer then holds every change merged before the build
 * started and possibly some merged during it (edges already scanned keep their values as
 * of the scan). A reset of the model during a build (`resets()` changes: rebuild, restart)
 * restarts the scan, so an answer never mixes two models.
 */
import { performance } from 'node:perf_hooks'
import { parseCidr16 } from './addresses.js'
import { toGraphml } from './graphml.js'
import type { TopologyModel } from './topology-model.js'
import { busiest, edgeFilter, edgeJson, nodeJson, type NodeJson, type TopologyQuery } from './topology-view.js'
import type { EdgeRecord } from './types.js'

/** Yields to the event loop once a slice has used its time budget. */
export class Slicer {
  private start = performance.now()
  slices = 1
  /** Longest slice so far (ms). */
  maxSliceMs = 0

  constructor(private readonly sliceMs: number) {}

  /** Call often (every few hundred items): true after it yielded. */
  async maybeYield(): Promise<boolean> {
    const used = performance.now() - this.start
    if (used < this.sliceMs) return false
    if (used > this.maxSliceMs) this.maxSliceMs = used
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.slices++
    this.start = performance.now()
    return true
  }

  finish(): void {
    const used = performance.now() - this.start
    if (used > this.maxSliceMs) this.maxSliceMs = used
  }
}

export interface BuildMeta {
  /** The topology's generation when the build started. */
  generation: number
  /** When the build started (ms since the epoch): every change merged before it is in the answer. */
  asOfMs: number
}

export interface BuiltAnswer { body: Buffer; type: string }

const CHECK_EVERY = 512
const CHUNK = 100

/** The edges passing the filters, scanned in slices; undefined when the model was reset meanwhile. */
async function scan(m: TopologyModel, q: TopologyQuery, slicer: Slicer, resets: () => number): Promise<EdgeRecord[] | undefined> {
  const keep = edgeFilter(m, q, q.cidr === undefined ? undefined : parseCidr16(q.cidr))
  const reset0 = resets()
  const picked: EdgeRecord[] = []
  let i = 0
  for (const e of m.edges.values()) {
    if (++i % CHECK_EVERY === 0 && await slicer.maybeYield() && resets() !== reset0) return undefined
    if (keep(e)) picked.push(e)
  }
  return picked
}

/** `[a,b,c]` of JSON.stringify(items) in chunks, yielding between them. */
async function jsonArray<T>(items: readonly T[], slicer: Slicer): Promise<string> {
  const parts: string[] = []
  for (let i = 0; i < items.length; i += CHUNK) {
    const s = JSON.stringify(items.slice(i, i + CHUNK))
    parts.push(s.slice(1, -1))
    await slicer.maybeYield()
  }
  return `[${parts.join(',')}]`
}

/**
 * Builds one answer in slices. The caller validated `q.cidr` (parseCidr16 succeeds).
 * `resets` counts model resets (TopologyService.resets).
 */
export async function buildTopologyAnswer(m: TopologyModel, q: () => TopologyQuery, format: 'json' | 'graphml', meta: () => BuildMeta, resets: () => number, slicer: Slicer): Promise<BuiltAnswer & BuildMeta> {
  let picked: EdgeRecord[] | undefined
  let query: TopologyQuery
  let at: BuildMeta
  for (let attempt = 0; ; attempt++) {
    at = meta()
    query = q()
    // After 3 resets in a row (a rebuild replaying batches), build without yielding.
    picked = await scan(m, query, attempt < 3 ? slicer : new Slicer(Infinity), resets)
    if (picked !== undefined) break
  }
  const edges = busiest(picked, query.limit)
  await slicer.maybeYield()
  const lossOf = (agents: string[], from: number, to: number): boolean => agents.some((a) => m.loss.overlaps(a, from, to))
  const nodeIds = new Set<string>()
  for (const e of edges) { nodeIds.add(e.src); nodeIds.add(e.dst) }
  const nodes: NodeJson[] = []
  // A host merged into another during the build (DHCP/ARP) is found under its new id.
  for (const id of nodeIds) { const h = m.hosts.get(id) ?? m.lookup(id); if (h !== undefined) nodes.push(nodeJson(h)) }
  const edgesJson = edges.map((e) => edgeJson(e, lossOf))
  const loss = m.loss.within(query.fromUs, query.toUs, query.agent === undefined ? undefined : [query.agent])
  const coverage = { complete: loss.length === 0, loss_periods: loss.map((p) => ({ agent_id: p.agentId, from_us: p.fromUs, to_us: p.toUs, reason: p.reason, records: p.records })) }
  await slicer.maybeYield()
  const total = picked.length
  const truncated = total > edges.length
  if (format === 'graphml') {
    const body = Buffer.from(toGraphml({ nodes, edges: edgesJson, total_edges: total, truncated, coverage }), 'utf8')
    slicer.finish()
    return { body, type: 'application/graphml+xml; charset=utf-8', ...at }
  }
  const nodesText = await jsonArray(nodes, slicer)
  const edgesText = await jsonArray(edgesJson, slicer)
  const tail = JSON.stringify({ total_edges: total, truncated, coverage, generation: at.generation, as_of_us: at.asOfMs * 1000 }).slice(1)
  const body = Buffer.from(`{"nodes":${nodesText},"edges":${edgesText},${tail}`, 'utf8')
  slicer.finish()
  return { body, type: 'application/json; charset=utf-8', ...at }
}
