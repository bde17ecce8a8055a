/**
 * `npm run bench ingest` (or `node dist/bench/ingest-bench.js`): the collector's ingest rate.
 *
 * Flows are real: a generated mixed capture (bench/generate-capture.ts) is replayed through
 * the agent's pipeline and the ConnRecords are encoded with the agent's encoder
 * (connRecordToFlow) into telltale.v1 Batches of BATCH flows, compressed as the agent ships
 * them (protocol version 2: flow chunks DEFLATEd by the agent, stored by the collector as they come).
 * The collector runs in this process with durable writes (every level batch fsynced before
 * the ack, storage.sync = true) on a temp data dir. The ack waits for the durable write only;
 * the topology merge and detection follow the store (collector/follow). Measured:
 *   * bytes per flow on the wire, raw and gzipped (whole Batch, not only the flows);
 *   * ingest through app.inject() (HTTP parsing without sockets; isolates the collector):
 *     one batch at a time, and 4 in flight, each until every batch is acked AND merged and
 *     examined (the sustained rate of the whole collector);
 *   * the ingest path alone (store + ack, 4 agents in flight) with the topology merge and
 *     detection stopped, then their catch-up from the store when they start again (the
 *     burst an outage's spools deliver: acked at the store's pace, merged after);
 *   * ingest over real HTTP with undici (keep-alive, 4 in flight) to the listening server;
 *   * bytes on disk per stored flow (LevelDB files after a compaction-free run).
 * The client shares the process (and its one JS thread) with the collector in the HTTP case,
 * so that figure is a lower bound of the collector alone.
 *
 * Application rows (AppRecord: dns, http, ssl, … as Zeek JSON) from the same capture's
 * analyzers, shipped in their own batches of APP_BATCH rows: bytes per row on the wire, the
 * agent's conversion rate (row → AppRecord) and the collector's ingest rate (store + detection).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { Pool } from 'undici'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { connRecordToFlow } from '../agent/ship/flow-encoding.js'
import { appRowToWire } from '../agent/ship/app-record-wire.js'
import { buildApp } from '../collector/app.js'
import { loadConfig } from '../collector/config/load-config.js'
import type { CollectorConfig } from '../collector/config/config-schema.js'
import { encodeBatch, encodeShippedBatch, PROTOCOL_VERSION, type AppRecordProperties, type FlowProperties } from '../protocol/index.js'
import { generateCapture } from './generate-capture.js'

const BATCH = 1000
const APP_BATCH = 1000

export interface IngestBenchResult {
  flowsPerBatch: number
  rawBytesPerFlow: number
  gzipBytesPerFlow: number
  injectSerialFlowsPerSec: number
  inject4FlowsPerSec: number
  http4FlowsPerSec: number
  /** Flows per CPU second of the bench process in the runs (serial, 4 in flight, HTTP), acked, merged and examined. */
  cpuFlowsPerSec: number[]
  /** Store + ack alone (merge and detection stopped), 4 agents in flight: wall and per CPU second. */
  ingestAloneFlowsPerSec: number
  ingestAloneCpuFlowsPerSec: number
  /** The merge and detection catching up on that burst from the store: per CPU second. */
  catchUpCpuFlowsPerSec: number
  diskBytesPerFlow: number
  storedFlows: number
}

/**
 * The ingest path in a child process pinned to one CPU (bench/ingest-one-core.ts): every
 * collector thread on that core, so the wall-clock rate is what one core gives. A line saying
 * why when taskset is missing or the child fails.
 */
export function oneCoreLine(batchFlows: number, why: string): string {
  const child = fileURLToPath(new URL('./ingest-one-core.js', import.meta.url))
  const r = spawnSync('taskset', ['-c', '0', process.execPath, child], { encoding: 'utf8', timeout: 600_000, env: { ...process.env, TELLTALE_ONE_CORE_BATCH: String(batchFlows) } })
  if (r.error !== undefined) return `ingest alone on one core: not measured (taskset: ${r.error.message}; it is in Debian's util-linux)`
  const last = r.stdout.trim().split('\n').pop() ?? ''
  if (r.status !== 0 || !last.startsWith('{')) return `ingest alone on one core: the child failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`
  const o = JSON.parse(last) as { flows: number; batchFlows: number; wallS: number; cpuS: number; cpus: number }
  const k = (x: number): string => Math.round(x / 1e3).toLocaleString('en-US')
  return `  batches of ${o.batchFlows} flows (${why}), ${o.flows.toLocaleString('en-US')} flows:\n` +
    `                                           ${k(o.flows / o.wallS)} k flows/s wall, ${k(o.flows / o.cpuS)} k per CPU second   (target ≥ 200k on one core)`
}

/** `count` agents enrolled on a bench collector (admin token `admin`), each with seq 0. */
export async function enrollBenchAgents(app: FastifyInstance, admin: string, count: number): Promise<{ agent_id: string; secret: string; seq: number }[]> {
  const tok = (await app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: { authorization: `Bearer ${admin}` }, payload: {} })).json() as { token: string }
  const agents: { agent_id: string; secret: string; seq: number }[] = []
  for (let i = 0; i < count; i++) {
    const en = (await app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: tok.token, machine_id_hash: String(i).repeat(64), nonce: `bench-nonce-0123456789-${i}` } })).json() as { agent_id: string; secret: string }
    agents.push({ ...en, seq: 0 })
  }
  return agents
}

export async function realFlows(count: number): Promise<FlowProperties[]> {
  return (await realRecords(count, false)).flows
}

/** The flows of a generated mixed capture and, with `app`, its analyzers' rows (log, row). */
export async function realRecords(count: number, app: boolean): Promise<{ flows: FlowProperties[]; rows: Array<[string, Record<string, unknown>]> }> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-ingest-bench-'))
  try {
    const path = join(dir, 'mix.pcap')
    generateCapture(path, { profile: 'mix', flows: count, seed: 7 })
    const { replayFiles } = await import('../agent/cli/commands/replay.js')
    const recs: ConnRecord[] = []
    const rows: Array<[string, Record<string, unknown>]> = []
    await replayFiles([path], { quiet: true }, { onConn: (r) => recs.push(r), ...(app ? { onAppLog: (log: string, row: Record<string, unknown>) => { rows.push([log, row]) } } : {}) })
    return { flows: recs.map((r) => connRecordToFlow(r)), rows }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function dirBytes(dir: string): number {
  let total = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size
  }
  return total
}

async function runPool<T>(items: T[], inFlight: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (next < items.length) await fn(items[next++]!)
  }))
}

export async function benchIngest(opts: { conversations?: number; batchesPerRun?: number } = {}): Promise<string> {
  const real = await realRecords(opts.conversations ?? 20_000, true)
  const flows = real.flows
  const perRun = opts.batchesPerRun ?? 100
  const dataDir = mkdtempSync(join(tmpdir(), 'telltale-ingest-bench-store-'))
  const cfg = loadConfig({ env: {}, flags: { data_dir: dataDir, listen: '127.0.0.1:0', 'storage.sync': true } })
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems))
  const admin = 'tt_admin_bench-0123456789abcdef'
  const { app, store, api, detection } = buildApp({ config: cfg.config as CollectorConfig, log: pino({ level: 'silent' }), adminToken: admin })
  try {
    await app.ready()
    // Four agents: batches of one agent are written one after the other (exact totals), so
    // "in flight" concurrency comes from several agents, as in a real deployment.
    const agents = await enrollBenchAgents(app, admin, 4)
    const slices: FlowProperties[][] = []
    for (let i = 0; i + BATCH <= flows.length; i += BATCH) slices.push(flows.slice(i, i + BATCH))
    if (slices.length === 0) throw new Error(`ingest bench: only ${flows.length} flows replayed`)
    let k = 0
    interface Body { body: Buffer; secret: string }
    const makeBodies = (n: number, agentCount: number): Body[] => Array.from({ length: n }, () => {
      const a = agents[k++ % agentCount]!
      const seq = ++a.seq
      // Each pass over the replayed flows is shifted by an hour: every batch holds new flows,
      // as on a real network (the same flows again would be merged as updates of themselves).
      const shiftUs = Math.floor(k / slices.length) * 3_600_000_000
      const flows = shiftUs === 0 ? slices[k % slices.length]! : slices[k % slices.length]!.map((f) => ({ ...f, tsUs: Number(f.tsUs ?? 0) + shiftUs }))
      return { body: encodeShippedBatch({ agentId: a.agent_id, epoch: 1, seq, sentAtUs: Date.now() * 1000, flows, stats: { version: '0.1.0', uptimeS: seq } }), secret: a.secret }
    })
    // Wire size: raw (version 1, flows uncompressed), and as an agent ships it (flow chunks
    // DEFLATEd at level 6, the body gzipped at level 1).
    let raw = 0; let gz = 0
    for (const s of slices) {
      const props = { agentId: agents[0]!.agent_id, epoch: 1, seq: 1, sentAtUs: Date.now() * 1000, flows: s, stats: { version: '0.1.0' } }
      raw += encodeBatch({ ...props, protocolVersion: 1 }).length
      gz += encodeShippedBatch(props).length
    }
    const headers = (b: Body) => ({ authorization: `Bearer ${b.secret}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' })
    const injectOne = async (b: Body): Promise<void> => {
      const r = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: headers(b), payload: b.body })
      if (r.statusCode !== 200) throw new Error(`ingest ${r.statusCode}: ${r.body}`)
    }
    await runPool(makeBodies(10, 4), 1, injectOne) // warm-up
    // Wall-clock rate, and flows per CPU second of this process (collector + in-process client):
    // the machine is shared, so the CPU figure is the steadier one.
    const cpuRates: number[] = []
    const cpuSeconds = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1e6
    // Until every batch is acked, merged and examined.
    const settled = async (): Promise<void> => { await api.topology.idle(); await detection.detection.idle() }
    const timed = async (bodies: Body[], run: () => Promise<void>): Promise<number> => {
      const c0 = process.cpuUsage()
      const t0 = process.hrtime.bigint()
      await run()
      await settled()
      const c = process.cpuUsage(c0)
      cpuRates.push((bodies.length * BATCH) / cpuSeconds(c))
      return (bodies.length * BATCH) / (Number(process.hrtime.bigint() - t0) / 1e9)
    }
    const b1 = makeBodies(perRun, 1)
    const serial = await timed(b1, () => runPool(b1, 1, injectOne))
    const b4 = makeBodies(perRun, 4)
    const par = await timed(b4, () => runPool(b4, 4, injectOne))
    // The ingest path alone: merge and detection stopped (their marks kept), then started
    // again: they read the burst back from the store.
    await api.topology.stop()
    await detection.detection.stop()
    const ba = makeBodies(perRun, 4)
    const a0 = process.cpuUsage()
    const at0 = process.hrtime.bigint()
    await runPool(ba, 4, injectOne)
    const aloneCpu = cpuSeconds(process.cpuUsage(a0))
    const aloneWall = Number(process.hrtime.bigint() - at0) / 1e9
    const k0 = process.cpuUsage()
    await api.topology.start()
    detection.detection.start(true)
    await settled()
    const catchUpCpu = cpuSeconds(process.cpuUsage(k0))
    const address = await app.listen({ host: '127.0.0.1', port: 0 })
    const pool = new Pool(address, { connections: 4, pipelining: 1 })
    const bh = makeBodies(perRun, 4)
    const http = await timed(bh, () => runPool(bh, 4, async (b) => {
      const r = await pool.request({ path: '/api/v1/ingest', method: 'POST', headers: headers(b), body: b.body })
      await r.body.arrayBuffer()
      if (r.statusCode !== 200) throw new Error(`ingest ${r.statusCode}`)
    }))
    await pool.close()
    let stored = 0
    for await (const s of store.batches.flowSegments()) stored += s.meta.count
    await app.close()
    const disk = dirBytes(dataDir)
    const res: IngestBenchResult = {
      flowsPerBatch: BATCH, rawBytesPerFlow: raw / (slices.length * BATCH), gzipBytesPerFlow: gz / (slices.length * BATCH),
      injectSerialFlowsPerSec: serial, inject4FlowsPerSec: par, http4FlowsPerSec: http, cpuFlowsPerSec: cpuRates, diskBytesPerFlow: disk / stored, storedFlows: stored,
      ingestAloneFlowsPerSec: (ba.length * BATCH) / aloneWall, ingestAloneCpuFlowsPerSec: (ba.length * BATCH) / aloneCpu, catchUpCpuFlowsPerSec: (ba.length * BATCH) / catchUpCpu,
    }
    const f = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    return [
      `\n== ingest: collector, durable writes (fsync per batch), batches of ${BATCH} real flows (${flows.length} replayed from a generated mixed capture)`,
      `bytes per flow on the wire, raw Batch      ${f(res.rawBytesPerFlow)}`,
      `bytes per flow on the wire, as shipped     ${f(res.gzipBytesPerFlow)}   (target ≤ 60; flow chunks DEFLATE -6 in a stored gzip member, the rest gzip -6)`,
      `acked + merged + examined, via inject:`,
      `  1 agent, 1 batch at a time               ${f(res.injectSerialFlowsPerSec / 1e3, 0)} k flows/s wall, ${f(res.cpuFlowsPerSec[0]! / 1e3, 0)} k per CPU second`,
      `  4 agents in flight                       ${f(res.inject4FlowsPerSec / 1e3, 0)} k flows/s wall, ${f(res.cpuFlowsPerSec[1]! / 1e3, 0)} k per CPU second`,
      `  undici HTTP, 4 agents                    ${f(res.http4FlowsPerSec / 1e3, 0)} k flows/s wall, ${f(res.cpuFlowsPerSec[2]! / 1e3, 0)} k per CPU second (client in the same process)`,
      `ingest alone (store + ack; merge and detection stopped), 4 agents in flight:`,
      `                                           ${f(res.ingestAloneFlowsPerSec / 1e3, 0)} k flows/s wall, ${f(res.ingestAloneCpuFlowsPerSec / 1e3, 0)} k per CPU second   (target ≥ 200k)`,
      `merge + detection catching up on that burst from the store: ${f(res.catchUpCpuFlowsPerSec / 1e3, 0)} k flows per CPU second`,
      `ingest alone on ONE core (a child process under taskset -c 0: event loop, LevelDB threads and GC share it), 4 agents in flight:`,
      oneCoreLine(1000, 'as above'),
      oneCoreLine(4400, "a busy agent's: max_batch_bytes 512 KiB"),
      `disk per stored flow (LevelDB files)       ${f(res.diskBytesPerFlow)} B   (${res.storedFlows} flows stored)`,
      await benchAppRows(real.rows),
    ].join('\n')
  } finally {
    if (app.server.listening) await app.close().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/**
 * Application rows on a collector of their own (so the flow figures above stay flows only):
 * the agent's conversion, then batches of APP_BATCH rows through ingest and detection.
 */
async function benchAppRows(rows: Array<[string, Record<string, unknown>]>): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'telltale-ingest-bench-apps-'))
  const cfg = loadConfig({ env: {}, flags: { data_dir: dataDir, listen: '127.0.0.1:0', 'storage.sync': true } })
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems))
  const admin = 'tt_admin_bench-0123456789abcdef'
  const { app, detection } = buildApp({ config: cfg.config as CollectorConfig, log: pino({ level: 'silent' }), adminToken: admin })
  try {
    await app.ready()
    const tok = (await app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: { authorization: `Bearer ${admin}` }, payload: {} })).json() as { token: string }
    const en = (await app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: tok.token, machine_id_hash: 'a'.repeat(64), nonce: 'bench-nonce-apps-0123456789' } })).json() as { agent_id: string; secret: string }
    // Warm the converter, then time it over every row.
    for (const [log, row] of rows.slice(0, 2000)) appRowToWire(log, row)
    const conv0 = process.cpuUsage()
    const recs: AppRecordProperties[] = []
    for (const [log, row] of rows) { const w = appRowToWire(log, row); if (w.ok) recs.push(w.record) }
    const convCpu = process.cpuUsage(conv0)
    let raw = 0; let gz = 0; let seq = 0
    const bodies: Buffer[] = []
    for (let i = 0; i + APP_BATCH <= recs.length; i += APP_BATCH) {
      const r = encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: en.agent_id, epoch: 1, seq: ++seq, sentAtUs: Date.now() * 1000, appRecords: recs.slice(i, i + APP_BATCH), stats: { version: '0.1.0' } })
      const body = gzipSync(r)
      raw += r.length; gz += body.length
      bodies.push(body)
    }
    const n = bodies.length * APP_BATCH
    const byLog = new Map<string, number>()
    for (const r of recs) byLog.set(r.log ?? '', (byLog.get(r.log ?? '') ?? 0) + 1)
    const c0 = process.cpuUsage()
    for (const body of bodies) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${en.secret}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, payload: body })
      if (r.statusCode !== 200) throw new Error(`ingest ${r.statusCode}: ${r.body}`)
    }
    await detection.detection.idle()
    const c = process.cpuUsage(c0)
    await app.close()
    const disk = dirBytes(dataDir)
    const f = (x: number, d = 1): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
    const perCpu = (count: number, u: NodeJS.CpuUsage): string => f(count / ((u.user + u.system) / 1e6) / 1e3, 0)
    return [
      `\n== app rows (AppRecord, Zeek JSON) from the same capture's analyzers: ${recs.length} rows (${[...byLog].map(([l, k]) => `${l} ${k}`).join(', ')}), batches of ${APP_BATCH}`,
      `bytes per row on the wire, raw Batch       ${f(n > 0 ? raw / n : 0)}`,
      `bytes per row on the wire, gzip -6         ${f(n > 0 ? gz / n : 0)}`,
      `agent: row → AppRecord                     ${perCpu(rows.length, convCpu)} k rows per CPU second`,
      `collector: ingest + detection, 1 agent     ${perCpu(n, c)} k rows per CPU second (${n} rows, durable writes)`,
      `disk per stored row (LevelDB files)        ${f(n > 0 ? disk / n : 0)} B`,
    ].join('\n')
  } finally {
    if (app.server.listening) await app.close().catch(() => undefined)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchIngest())
}
