/**
 * `npm run bench merge` (or `node dist/bench/merge-bench.js [cycles]`): the collector's
 * topology merge alone, in process, per CPU second — the part of ingest that turns stored
 * flows into hosts, edges, roll-ups and /flows/top roll-ups (TopologyService.merge).
 *
 * Flows are real: the ingest bench's generated mixed capture replayed through the agent
 * pipeline, encoded and decoded as at ingest (Batch of 1000 flows; the flow segment decoded
 * with decodeFlowSegment, outside the timed part). Two workloads:
 *   * new flows: each cycle over the replayed flows is shifted by one hour, so every flow is
 *     new to the de-duplication window (as on a real network);
 *   * the same flows from a second agent: every flow a cross-agent duplicate (host agent +
 *     SPAN agent seeing the same connections).
 */
import { encodeBatch, PROTOCOL_VERSION, type FlowProperties } from '../protocol/index.js'
import { joinEntries, scanBatch } from '../collector/ingest/batch-scan.js'
import { decodeFlowSegment, type FlowRecord } from '../collector/ingest/flow-decode.js'
import { TopologyModel, DEFAULT_TOPOLOGY_OPTIONS } from '../collector/topology/topology-model.js'
import { TopRollups } from '../collector/topology/top-rollups.js'
import { mergeFlows } from '../collector/topology/merge-flows.js'
import type { CollectorStore } from '../collector/storage/index.js'
import { realFlows } from './ingest-bench.js'

const HOUR_US = 3_600_000_000

/** Batches of 1000 flows decoded as ingest decodes them (the stored flow segment, decodeFlowSegment). */
function decodeBatches(flows: FlowProperties[], shiftUs: number): FlowRecord[][] {
  const out: FlowRecord[][] = []
  for (let i = 0; i < flows.length; i += 1000) {
    const slice = flows.slice(i, i + 1000).map((f) => ({ ...f, tsUs: Number(f.tsUs ?? 0) + shiftUs }))
    const body = Buffer.from(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a', epoch: 1, seq: 1, sentAtUs: 0, flows: slice }))
    const scan = scanBatch(body, { maxFlows: 100_000, maxEntries: 100_000 })
    if (!scan.ok) throw new Error(scan.reason)
    out.push(decodeFlowSegment(joinEntries(body, scan.flowEntries)))
  }
  return out
}

function cpuUs(): number { const u = process.cpuUsage(); return u.user + u.system }

export async function benchMerge(cycles = 10): Promise<string> {
  const flows = await realFlows(20_000)
  const model = new TopologyModel({ ...DEFAULT_TOPOLOGY_OPTIONS, dedupEntries: Number(process.env.DEDUP ?? DEFAULT_TOPOLOGY_OPTIONS.dedupEntries) })
  const tops = new TopRollups(undefined as unknown as CollectorStore)
  const lines = [`\n== merge: topology merge alone (TopologyModel + /flows/top roll-ups), ${flows.length} replayed flows × ${cycles} cycles`]
  let total = 0
  let cpu = 0
  for (let c = 0; c < cycles; c++) {
    const batches = decodeBatches(flows, c * HOUR_US)
    const t0 = cpuUs()
    for (const b of batches) { mergeFlows(model, tops, 'agent-1', b); total += b.length }
    cpu += cpuUs() - t0
    // What a flush takes away between merges (the deltas), without the store.
    model.dirtyHosts.clear(); model.dirtyEdges.clear(); model.takeRollupDeltas(); tops.takeDeltas()
  }
  lines.push(`new flows:                 ${Math.round(total / (cpu / 1e6)).toLocaleString('en-US')} flows per CPU second (${(cpu / total).toFixed(2)} µs/flow; ${model.hosts.size} hosts, ${model.edges.size} edges)`)
  let dup = 0
  // Decoded before the clock starts, as for the new flows (the encode and decode of 20k flows
  // once cost about as much as their merge and were timed with it).
  const dupBatches = decodeBatches(flows, (cycles - 1) * HOUR_US)
  const dupCpu0 = cpuUs()
  for (const b of dupBatches) { mergeFlows(model, tops, 'agent-2', b); dup += b.length }
  const dupCpu = cpuUs() - dupCpu0
  lines.push(`cross-agent duplicates:    ${Math.round(dup / (dupCpu / 1e6)).toLocaleString('en-US')} flows per CPU second (${(dupCpu / dup).toFixed(2)} µs/flow; ${model.counters.duplicate_flows} counted as duplicates)`)
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchMerge(Number(process.argv[2] ?? 10)))
}
