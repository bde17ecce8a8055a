/**
 * `node dist/bench/api-bench.js [flows] [hosts] [seconds]` (or `npm run bench api`): the collector's
 * query API under load.
 *
 * Generated traffic: `hosts` client addresses (10.0.0.0/8) talking to 500 servers
 * (192.168.0.0/16) on a handful of services, flows spread over the last hour, encoded
 * with the protocol encoder as agents send them (Community ID derived, no MACs; protocol
 * version 2: flow chunks compressed as the agent does, gzip body) in
 * batches of 5000, ingested through app.inject() with durable writes (fsync per batch).
 * Printed: ingest flows/s (including the topology merge; wall time and per CPU second of
 * this process), disk bytes per stored flow (every LevelDB file, after a full compaction,
 * with a per-table breakdown), and p50/p99 latency with autocannon at a fixed 100 req/s
 * (10 connections, 10 s each) against the listening server for /api/v1/topology,
 * /api/v1/flows with filters and /api/v1/flows/top over a one-minute window. The load
 * generator runs in a child process (bench/load-client.ts), not in the server's event loop.
 */
import { fork } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { pino } from 'pino'
import { buildApp } from '../collector/app.js'
import type { CollectorConfig } from '../collector/config/config-schema.js'
import { loadConfig } from '../collector/config/load-config.js'
import { KEY_PREFIX, prefixRange } from '../collector/storage/keys.js'
import { buildTopologyAnswer, Slicer } from '../collector/topology/topology-build.js'
import { encodeShippedBatch, type FlowProperties } from '../protocol/index.js'
import type { LoadRequest, LoadResult } from './load-client.js'
import { heyAvailable, heyLoad } from './load-client-hey.js'
import { wrkAvailable, wrkLoad } from './load-client-wrk.js'
import { formatLivePhase, liveIngestPhase, type LivePhaseResult } from './api-live-ingest.js'

const ADMIN = 'tt_admin_api-bench-secret-0123456789abcdef'

/** What held the server's event loop while a route was under load (explains client p99 − server p99). */
export interface LoopDuringLoad { loopP99ms: number; loopMaxMs: number; gcCount: number; gcTotalMs: number; gcMaxMs: number }

/** Starts watching event-loop delay and GC pauses; the returned function stops and reports. */
function watchLoop(): () => LoopDuringLoad {
  const loop = monitorEventLoopDelay({ resolution: 1 })
  const gc: number[] = []
  const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) gc.push(e.duration) })
  obs.observe({ entryTypes: ['gc'] })
  loop.enable()
  return () => {
    loop.disable()
    obs.disconnect()
    return {
      loopP99ms: loop.percentile(99) / 1e6, loopMaxMs: loop.max / 1e6,
      gcCount: gc.length, gcTotalMs: gc.reduce((a, b) => a + b, 0), gcMaxMs: gc.reduce((a, b) => Math.max(a, b), 0),
    }
  }
}
const BATCH = 5000
const SERVICES: Array<[number, number, string]> = [[443, 1, 'ssl'], [80, 1, 'http'], [53, 2, 'dns'], [22, 1, 'ssh'], [445, 1, ''], [3389, 1, ''], [123, 2, '']]

export interface ApiBenchResult {
  flows: number
  hosts: number
  edges: number
  ingestFlowsPerSec: number
  /** Flows per CPU second (user + sys) of this process during ingest (less sensitive to a shared machine). */
  ingestFlowsPerCpuSec: number
  /** Every file of the store before compaction (as left by ingest). */
  /** Flows in the store at the end (bulk load plus the live phase's), the divisor of the disk figures. */
  storedFlows: number
  diskBytesPerFlowBeforeCompaction: number
  /** Every file of the store after compactRange over all keys, then close. */
  diskBytesPerFlow: number
  /** LevelDB's size estimate per table after compaction, bytes per flow. */
  tables: Array<{ prefix: string; bytesPerFlow: number }>
  latency: Array<{ route: string; serverP50ms: number; serverP99ms: number } & LoopDuringLoad & LoadResult>
  /** In-process time (median of 5, after one warm-up) of building a /api/v1/topology answer in one piece (select + serialize). */
  topologyColdMs: number
  /** The same build in 5 ms slices: slices and the longest one (median run by longest slice). */
  topologySlices: { slices: number; maxSliceMs: number } | undefined
  /** /api/v1/topology at 100 req/s while batches keep arriving (api-live-ingest.ts). */
  live: { result: LivePhaseResult; intervalMs: number } | undefined
}

function dirBytes(dir: string): number {
  let n = 0
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, f))
    if (s.isFile()) n += s.size
  }
  return n
}

/** A small deterministic PRNG (benches must be reproducible). */
function rng(seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 0x1_0000_0000 }
}

function makeFlow(r: () => number, hosts: number, tsUs: number, i: number): FlowProperties {
  // Each client mostly talks to three servers of its own; each server offers one service.
  const h = Math.floor(r() * hosts)
  const srv = r() < 0.9 ? (h * 7 + Math.floor(r() * 3)) % 500 : Math.floor(r() * 500)
  const [port, proto, service] = SERVICES[srv % SERVICES.length]!
  const ob = 60 + Math.floor(r() * 2000)
  const rb = 60 + Math.floor(r() * 20000)
  const op = 2 + Math.floor(ob / 600)
  const rp = 2 + Math.floor(rb / 1200)
  return {
    tsUs, origH: Buffer.from([10, (h >> 16) & 255, (h >> 8) & 255, h & 255]), respH: Buffer.from([192, 168, srv >> 8, srv & 255]),
    origP: 1024 + Math.floor(r() * 60000), respP: port, proto, connState: proto === 1 ? 3 : 0, history: proto === 1 ? 'ShADadFf' : 'Dd',
    durationUs: Math.floor(r() * 2_000_000), origBytes: ob - 40 * op, respBytes: rb - 40 * rp, origPkts: op, origIpBytes: ob, respPkts: rp, respIpBytes: rb,
    uid: `C${i.toString(36)}`, ipProto: proto === 1 ? 6 : 17, service, localOrig: true, localResp: true, iface: 'eth0', reason: 1, communityIdDerived: true,
  }
}

/**
 * The load client: `hey` (compiled; Debian package) when installed, else autocannon in a child
 * process (its event loop is not the server's). TELLTALE_LOAD_CLIENT=autocannon forces the latter,
 * TELLTALE_LOAD_CLIENT=wrk uses wrk (paced per connection; load-client-wrk.ts).
 */
export const LOAD_CLIENT = process.env.TELLTALE_LOAD_CLIENT === 'wrk' && wrkAvailable() ? 'wrk'
  : process.env.TELLTALE_LOAD_CLIENT !== 'autocannon' && heyAvailable() ? 'hey' : 'autocannon'

function load(url: string, path: string, seconds: number): Promise<LoadResult> {
  const req: LoadRequest = { url: url + path, seconds, rate: 100, connections: 10, token: ADMIN }
  if (LOAD_CLIENT === 'hey') return heyLoad(req)
  if (LOAD_CLIENT === 'wrk') return wrkLoad(req)
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./load-client.js', import.meta.url), [JSON.stringify(req)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let result: LoadResult | undefined
    child.on('message', (m) => { result = m as LoadResult })
    child.on('error', reject)
    child.on('exit', (code) => { if (result !== undefined) resolve(result); else reject(new Error(`load client exited with ${code}`)) })
  })
}

export interface ApiBenchOptions {
  flows?: number
  hosts?: number
  /** Seconds of load per route (0 = ingest and disk only). */
  seconds?: number
  /** Only the live-ingest phase after the bulk ingest (no per-route loads, no cold figure). */
  onlyLive?: boolean
  /** Live-ingest phase: flows per batch and ms between batches (defaults 5000 / 200). */
  liveBatch?: number
  liveIntervalMs?: number
}

export async function benchApi(opts: ApiBenchOptions = {}): Promise<ApiBenchResult> {
  const total = opts.flows ?? 1_000_000
  const hosts = opts.hosts ?? 10_000
  const seconds = opts.seconds ?? 10
  const liveBatch = opts.liveBatch ?? BATCH
  const liveIntervalMs = opts.liveIntervalMs ?? 200
  const dir = mkdtempSync(join(tmpdir(), 'telltale-api-bench-'))
  let open: { close(): Promise<void> } | undefined
  try {
    // TELLTALE_BENCH_FLAGS='{"topology.flush_interval_ms":5000}' tries a collector setting without editing the bench.
    const extra = JSON.parse(process.env.TELLTALE_BENCH_FLAGS ?? '{}') as Record<string, unknown>
    const cfg = loadConfig({ env: {}, flags: { data_dir: dir, 'storage.sync': true, 'api.rate_limit_per_minute': 1_000_000, 'topology.dedup_entries': 200_000, ...extra } })
    if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems))
    const c = buildApp({ config: cfg.config as CollectorConfig, log: pino({ level: 'silent' }), adminToken: ADMIN })
    open = c.app
    // Server-side time per request (fastify: request received → response sent), to tell the
    // server's own cost from the wait for a CPU on a shared machine.
    let serverMs: number[] = []
    let tap: ((req: FastifyRequest, reply: FastifyReply) => void) | undefined
    c.app.addHook('onResponse', async (req, reply) => { serverMs.push(reply.elapsedTime); tap?.(req, reply) })
    await c.app.ready()
    const H = { authorization: `Bearer ${ADMIN}` }
    const et = (await c.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: H, payload: {} })).json() as { token: string }
    const en = (await c.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: et.token, machine_id_hash: 'a'.repeat(64), nonce: 'bench-nonce-0123456789' } })).json() as { agent_id: string; secret: string }
    const r = rng(42)
    const nowUs = Date.now() * 1000
    const t0 = nowUs - 3600 * 1_000_000
    const bodies: Buffer[] = []
    for (let s = 0; s * BATCH < total; s++) {
      const flows: FlowProperties[] = []
      for (let i = 0; i < BATCH && s * BATCH + i < total; i++) {
        const k = s * BATCH + i
        flows.push(makeFlow(r, hosts, t0 + Math.floor((k / total) * 3600 * 1_000_000), k))
      }
      bodies.push(encodeShippedBatch({ agentId: en.agent_id, epoch: 1, seq: s + 1, sentAtUs: nowUs, flows }))
    }
    const start = process.hrtime.bigint()
    const cpu0 = process.cpuUsage()
    for (const body of bodies) {
      const res = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${en.secret}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, payload: body })
      if (res.statusCode !== 200) throw new Error(`ingest: ${res.statusCode} ${res.body}`)
    }
    // The ack waits for the durable write only: the merge follows the store, so "merge
    // included" means until the merge has caught up and flushed.
    await c.api.topology.settle()
    const ingestS = Number(process.hrtime.bigint() - start) / 1e9
    const cpu = process.cpuUsage(cpu0)
    const ingestCpuS = (cpu.user + cpu.system) / 1e6
    const edges = c.api.topology.model.edges.size
    const hostCount = c.api.topology.model.hosts.size
    // Building an answer after a change (what a background refresh costs): select + serialize,
    // once in one piece (its CPU cost) and once in 5 ms slices (the longest slice is how long
    // it holds the event loop).
    const coldMs: number[] = []
    const sliced: Array<{ slices: number; maxSliceMs: number }> = []
    const allTime = { fromUs: 0, toUs: Number.MAX_SAFE_INTEGER, minBytes: 0, limit: 1000 }
    const meta = (): { generation: number; asOfMs: number } => ({ generation: c.api.topology.generation, asOfMs: Date.now() })
    for (let i = 0; i < (opts.onlyLive === true ? 0 : 6); i++) {
      const cold0 = process.hrtime.bigint()
      await buildTopologyAnswer(c.api.topology.model, () => allTime, 'json', meta, () => 0, new Slicer(Infinity))
      if (i > 0) coldMs.push(Number(process.hrtime.bigint() - cold0) / 1e6) // the first one includes JIT warm-up
      const slicer = new Slicer(5)
      await buildTopologyAnswer(c.api.topology.model, () => allTime, 'json', meta, () => 0, slicer)
      if (i > 0) sliced.push({ slices: slicer.slices, maxSliceMs: slicer.maxSliceMs })
    }
    const topologyColdMs = coldMs.sort((a, b) => a - b)[Math.floor(coldMs.length / 2)] ?? NaN
    const topologySlices = sliced.sort((a, b) => a.maxSliceMs - b.maxSliceMs)[Math.floor(sliced.length / 2)]
    const url = await c.app.listen({ host: '127.0.0.1', port: 0 })
    const mid = new Date((t0 + 1800 * 1_000_000) / 1000)
    const win = `from=${mid.toISOString()}&to=${new Date(mid.getTime() + 60_000).toISOString()}`
    const routes = [
      '/api/v1/topology',
      '/api/v1/topology?cidr=10.0.0.0/16&min_bytes=10000&limit=1000',
      '/api/v1/flows?host=10.0.1.1&limit=100',
      '/api/v1/flows?port=22&proto=tcp&limit=100',
      `/api/v1/flows?service=dns&${win}&limit=100`,
      `/api/v1/flows/top?${win}&group=talkers&by=bytes`,
      `/api/v1/flows/top?${win}&group=services&by=flows`,
    ]
    const latency = []
    for (const p of seconds > 0 && opts.onlyLive !== true ? routes : []) {
      await load(url, p, 1) // warm-up
      serverMs = []
      const stopWatch = watchLoop()
      const r = await load(url, p, seconds)
      const held = stopWatch()
      const sorted = serverMs.sort((a, b) => a - b)
      const q = (x: number): number => sorted[Math.min(sorted.length - 1, Math.floor(x * sorted.length))] ?? 0
      latency.push({ route: p, ...r, ...held, serverP50ms: q(0.5), serverP99ms: q(0.99) })
    }
    let live: ApiBenchResult['live']
    if (seconds > 0) {
      // Fresh flows (timestamps now) of the same hosts: existing edges grow, a few are new.
      const lr = rng(7)
      const liveBodies: Buffer[] = []
      const liveNowUs = Date.now() * 1000
      for (let s = 0; s < Math.ceil((seconds * 1000) / liveIntervalMs) + 10; s++) {
        const flows: FlowProperties[] = []
        for (let i = 0; i < liveBatch; i++) flows.push(makeFlow(lr, hosts, liveNowUs + s * liveIntervalMs * 1000 + i, total + s * liveBatch + i))
        liveBodies.push(encodeShippedBatch({ agentId: en.agent_id, epoch: 1, seq: bodies.length + s + 1, sentAtUs: liveNowUs, flows }))
      }
      await load(url, '/api/v1/topology', 1) // warm-up
      const result = await liveIngestPhase({
        app: c.app, tapResponses: (fn) => { tap = fn }, generation: () => c.api.topology.generation, onMerged: (fn) => c.ingest.onStored(fn), bodies: liveBodies, agentSecret: en.secret,
        intervalMs: liveIntervalMs, seconds, path: '/api/v1/topology', load: (p, sec) => load(url, p, sec),
      })
      result.batchFlows = liveBatch
      live = { result, intervalMs: liveIntervalMs }
    }
    await c.api.topology.flush()
    // Every flow on disk, the live phase's included (dividing by the bulk load alone would
    // overstate bytes per flow by the live phase's share).
    const storedFlows = ((await c.app.inject({ method: 'GET', url: '/api/v1/stats', headers: H })).json() as { flows: number }).flows
    const diskBefore = dirBytes(join(dir, 'store'))
    const db = c.store.db
    await db.compactAll()
    const tables = []
    for (const prefix of Object.values(KEY_PREFIX)) {
      const r = prefixRange(prefix)
      const size = await db.approximateSize(r.gte, r.lt)
      if (size > 0) tables.push({ prefix, bytesPerFlow: size / storedFlows })
    }
    tables.sort((a, b) => b.bytesPerFlow - a.bytesPerFlow)
    open = undefined
    await c.app.close()
    const disk = dirBytes(join(dir, 'store'))
    return {
      flows: total, hosts: hostCount, edges, ingestFlowsPerSec: total / ingestS, ingestFlowsPerCpuSec: total / ingestCpuS,
      storedFlows, diskBytesPerFlowBeforeCompaction: diskBefore / storedFlows, diskBytesPerFlow: disk / storedFlows, tables, latency, topologyColdMs, topologySlices, live,
    }
  } finally {
    // A failure after listen() would otherwise leave the server (and the process) running.
    await open?.close().catch(() => undefined)
    rmSync(dir, { recursive: true, force: true })
  }
}

export function formatApiBench(r: ApiBenchResult): string {
  const lines = [
    `== api: ${r.flows.toLocaleString('en-US')} flows, ${r.hosts.toLocaleString('en-US')} hosts, ${r.edges.toLocaleString('en-US')} edges`,
    `ingest (inject, fsync per 5000-flow batch, merge included): ${Math.round(r.ingestFlowsPerSec).toLocaleString('en-US')} flows/s wall, ${Math.round(r.ingestFlowsPerCpuSec).toLocaleString('en-US')} flows per CPU second`,
    `disk per stored flow (all tables, LevelDB files, ${r.storedFlows.toLocaleString('en-US')} flows stored): ${r.diskBytesPerFlow.toFixed(1)} B after compaction (target ≤ 80 B); ${r.diskBytesPerFlowBeforeCompaction.toFixed(1)} B as left by ingest`,
    `  per table (LevelDB estimate, B/flow): ${r.tables.map((t) => `${t.prefix} ${t.bytesPerFlow.toFixed(1)}`).join(', ')}`,
    `topology answer build after a change (1000 busiest edges, in process, median of 5): ${r.topologyColdMs.toFixed(1)} ms in one piece; in 5 ms slices: ${r.topologySlices === undefined ? '-' : `${r.topologySlices.slices} slices, longest ${r.topologySlices.maxSliceMs.toFixed(1)} ms`}`,
    `latency at a fixed 100 req/s, 10 connections, load client ${LOAD_CLIENT === 'hey' ? 'hey (Go)' : LOAD_CLIENT === 'wrk' ? 'wrk (paced per connection)' : 'autocannon in a child process'} (target for topology: p99 ≤ 50 ms):`,
  ]
  for (const l of r.latency) lines.push(`  ${l.route}\n      ${l.rps.toFixed(0)} req/s  p50 ${l.p50ms} ms  p90 ${l.p90ms} ms  p99 ${l.p99ms} ms  max ${l.maxms} ms  non-2xx ${l.non2xx}  errors ${l.errors}  ${(l.bytesPerResponse / 1024).toFixed(1)} KiB/response\n      server side: p50 ${l.serverP50ms.toFixed(1)} ms  p99 ${l.serverP99ms.toFixed(1)} ms; event-loop delay p99 ${l.loopP99ms.toFixed(1)} ms max ${l.loopMaxMs.toFixed(1)} ms; GC ${l.gcCount} pauses, ${l.gcTotalMs.toFixed(0)} ms in all, longest ${l.gcMaxMs.toFixed(1)} ms; load client CPU ${l.clientCpuPct.toFixed(0)} % of a core`)
  // Runs after the per-route loads.
  if (r.live !== undefined) lines.push(formatLivePhase(r.live.result, r.live.intervalMs))
  return lines.join('\n')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // [flows] [hosts] [seconds per route; 0 = ingest and disk only] [live: only the live-ingest phase] [live batch flows] [live interval ms]
  const [flows, hosts, seconds] = process.argv.slice(2, 5).map(Number)
  const [liveBatch, liveIntervalMs] = process.argv.slice(6, 8).map(Number)
  benchApi({
    flows: flows || undefined, hosts: hosts || undefined, seconds: Number.isFinite(seconds) ? seconds : undefined,
    onlyLive: process.argv[5] === 'live', liveBatch: liveBatch || undefined, liveIntervalMs: liveIntervalMs || undefined,
  }).then((r) => console.log(formatApiBench(r)), (err: unknown) => { console.error(err); process.exitCode = 1 })
}
