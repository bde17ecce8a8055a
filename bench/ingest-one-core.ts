/**
 * The collector's ingest path on ONE core: `npm run bench ingest` runs this file in a child
 * process pinned to one CPU with `taskset` (util-linux), so the collector's every thread
 * (the event loop, libuv's pool where LevelDB writes and fsyncs, LevelDB's compaction
 * thread, V8's GC helpers) shares that core, and the wall-clock rate is the rate one core
 * gives. Store + ack with durable writes (fsync per level batch): the topology merge and
 * detection are stopped (they follow the store and catch up later; ingest-bench.ts measures
 * them). Four agents in flight, ~300k real flows (the ingest bench's generated mixed
 * capture) in batches of TELLTALE_ONE_CORE_BATCH flows (1000 by default) compressed as agents
 * ship them (flow chunks, protocol version 2), through app.inject(). The bodies are built before the clock starts; 40k flows
 * of warm-up run first.
 *
 * Prints one JSON line: { flows, batchFlows, wallS, cpuS, cpus } (cpus: the CPUs the process may run on).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { buildApp } from '../collector/app.js'
import { loadConfig } from '../collector/config/load-config.js'
import type { CollectorConfig } from '../collector/config/config-schema.js'
import { encodeShippedBatch, type FlowProperties } from '../protocol/index.js'
import { enrollBenchAgents, realFlows } from './ingest-bench.js'

const WARM_UP_FLOWS = 40_000

export interface OneCoreResult { flows: number; batchFlows: number; wallS: number; cpuS: number; cpus: number }

/** `batches` batches of `batchFlows` flows each (after WARM_UP_FLOWS flows of warm-up). */
export async function ingestOneCore(flows: FlowProperties[], batches: number, batchFlows: number): Promise<OneCoreResult> {
  const WARM_UP = Math.ceil(WARM_UP_FLOWS / batchFlows)
  const dataDir = mkdtempSync(join(tmpdir(), 'telltale-ingest-one-core-'))
  const cfg = loadConfig({ env: {}, flags: { data_dir: dataDir, listen: '127.0.0.1:0', 'storage.sync': true } })
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems))
  const admin = 'tt_admin_bench-0123456789abcdef'
  const { app, api, detection } = buildApp({ config: cfg.config as CollectorConfig, log: pino({ level: 'silent' }), adminToken: admin })
  try {
    await app.ready()
    await api.topology.stop()
    await detection.detection.stop()
    const agents = await enrollBenchAgents(app, admin, 4)
    const slices = Math.floor(flows.length / batchFlows)
    if (slices === 0) throw new Error(`only ${flows.length} flows`)
    const bodies: { body: Buffer; secret: string }[] = []
    for (let k = 0; k < WARM_UP + batches; k++) {
      const a = agents[k % 4]!
      // Each pass over the flows is an hour later: every batch holds new flows.
      const shiftUs = Math.floor(k / slices) * 3_600_000_000
      const fl = flows.slice((k % slices) * batchFlows, (k % slices + 1) * batchFlows).map((f) => ({ ...f, tsUs: Number(f.tsUs ?? 0) + shiftUs }))
      bodies.push({ body: encodeShippedBatch({ agentId: a.agent_id, epoch: 1, seq: ++a.seq, sentAtUs: Date.now() * 1000, flows: fl, stats: { version: '0.1.0' } }), secret: a.secret })
    }
    let next = 0
    const run = async (until: number): Promise<void> => {
      await Promise.all([0, 1, 2, 3].map(async () => {
        while (next < until) {
          const b = bodies[next++]!
          const r = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${b.secret}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, payload: b.body })
          if (r.statusCode !== 200) throw new Error(`ingest ${r.statusCode}: ${r.body}`)
        }
      }))
    }
    await run(WARM_UP)
    const c0 = process.cpuUsage()
    const t0 = process.hrtime.bigint()
    await run(bodies.length)
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9
    const c = process.cpuUsage(c0)
    return { flows: batches * batchFlows, batchFlows: batchFlows, wallS, cpuS: (c.user + c.system) / 1e6, cpus: availableParallelism() }
  } finally {
    await app.close().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // TELLTALE_ONE_CORE_BATCH: flows per batch (1000 by default; a busy agent's 512 KiB batches hold ~4400).
  const batchFlows = Number(process.env.TELLTALE_ONE_CORE_BATCH ?? 1000)
  if (!Number.isSafeInteger(batchFlows) || batchFlows < 1 || batchFlows > 20_000) {
    console.error(`TELLTALE_ONE_CORE_BATCH=${process.env.TELLTALE_ONE_CORE_BATCH}: give a whole number of flows per batch, 1 to 20000`)
    process.exit(2)
  }
  console.log(JSON.stringify(await ingestOneCore(await realFlows(20_000), Math.ceil(300_000 / batchFlows), batchFlows)))
}
