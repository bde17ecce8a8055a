/**
 * The api bench's "topology under live ingest" phase: while the load client (hey or autocannon) drives
 * `/api/v1/topology` at a fixed rate, this process keeps ingesting fresh batches through the
 * real ingest route (app.inject → decode → fsync'd store write → topology merge), one every
 * `intervalMs` (a tick is skipped, and counted, while the previous batch is still in flight:
 * the ingest never queues up behind itself).
 *
 * Printed: client p50/p99 (load client), server-side p50/p99 of the /topology requests, the
 * event-loop delay (perf_hooks histogram: how long the loop was blocked), the batches
 * ingested, the process's CPU use and the load average, and the observed staleness of the
 * answers: for each /topology response, how long ago the oldest change NOT included in it
 * was merged (0 when the answer was current). The answer's generation is read from the
 * `x-topology-generation` header; without that header (the code before stale-while-
 * revalidate) every answer is current by construction.
 */
import { loadavg } from 'node:os'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { LoadResult } from './load-client.js'

export interface LivePhaseOptions {
  app: FastifyInstance
  /** Installs the per-response tap (the bench's onResponse hook calls it; hooks cannot be added once listening). */
  tapResponses: (fn: ((req: FastifyRequest, reply: FastifyReply) => void) | undefined) => void
  /** The topology's change counter (the service's `generation`). */
  generation: () => number
  /** Registers a listener called after each batch is merged. */
  onMerged: (fn: () => void) => void
  /** Encoded batches to ingest, in order (more than the phase needs). */
  bodies: Buffer[]
  agentSecret: string
  intervalMs: number
  seconds: number
  path: string
  load: (path: string, seconds: number) => Promise<LoadResult>
}

export interface LivePhaseResult extends LoadResult {
  route: string
  serverP50ms: number
  serverP99ms: number
  serverMaxMs: number
  batches: number
  batchFlows: number
  skippedTicks: number
  ingestP50ms: number
  ingestMaxMs: number
  loopDelayP99ms: number
  loopDelayMaxMs: number
  stalenessP50ms: number
  stalenessP99ms: number
  stalenessMaxMs: number
  staleAnswers: number
  answers: number
  cpuPct: number
  loadAvgBefore: number
  loadAvgAfter: number
}

const pct = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0

export async function liveIngestPhase(o: LivePhaseOptions): Promise<LivePhaseResult> {
  // generation → when it was merged (performance.now() ms); generations only grow.
  const mergedAt = new Map<number, number>()
  o.onMerged(() => { mergedAt.set(o.generation(), performance.now()) })
  const serverMs: number[] = []
  const staleness: number[] = []
  let staleAnswers = 0
  let active = false
  o.tapResponses((req, reply) => {
    if (!active || !req.url.startsWith('/api/v1/topology')) return
    serverMs.push(reply.elapsedTime)
    const h = reply.getHeader('x-topology-generation')
    const answered = h === undefined ? o.generation() : Number(h)
    let s = 0
    if (answered < o.generation()) {
      // The first change not in the answer: the smallest recorded generation above it.
      let first = Infinity
      for (const [g, at] of mergedAt) if (g > answered && at < first) first = at
      if (first !== Infinity) s = performance.now() - first
      staleAnswers++
    }
    staleness.push(s)
  })
  const ingestMs: number[] = []
  let next = 0
  let inFlight = false
  let skipped = 0
  let failure: Error | undefined
  const tick = (): void => {
    if (inFlight) { skipped++; return }
    const body = o.bodies[next++]
    if (body === undefined) { failure ??= new Error('live phase: ran out of pre-generated batches'); return }
    inFlight = true
    const t0 = performance.now()
    o.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${o.agentSecret}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, payload: body })
      .then((res) => { if (res.statusCode !== 200) failure ??= new Error(`ingest: ${res.statusCode} ${res.body}`) }, (err: unknown) => { failure ??= err as Error })
      .finally(() => { ingestMs.push(performance.now() - t0); inFlight = false })
  }
  const loop = monitorEventLoopDelay({ resolution: 5 })
  const loadAvgBefore = loadavg()[0]!
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  active = true
  loop.enable()
  const timer = setInterval(tick, o.intervalMs)
  tick()
  let r: LoadResult
  try {
    r = await o.load(o.path, o.seconds)
  } finally {
    clearInterval(timer)
    loop.disable()
    active = false
    o.tapResponses(undefined)
  }
  while (inFlight) await new Promise((res) => setTimeout(res, 10))
  const cpu = process.cpuUsage(cpu0)
  const wallS = (performance.now() - wall0) / 1000
  if (failure !== undefined) throw failure
  const sortedServer = serverMs.sort((a, b) => a - b)
  const sortedStale = staleness.sort((a, b) => a - b)
  const sortedIngest = ingestMs.sort((a, b) => a - b)
  return {
    ...r, route: o.path,
    serverP50ms: pct(sortedServer, 0.5), serverP99ms: pct(sortedServer, 0.99), serverMaxMs: sortedServer[sortedServer.length - 1] ?? 0,
    batches: ingestMs.length, batchFlows: 0, skippedTicks: skipped,
    ingestP50ms: pct(sortedIngest, 0.5), ingestMaxMs: sortedIngest[sortedIngest.length - 1] ?? 0,
    loopDelayP99ms: loop.percentile(99) / 1e6, loopDelayMaxMs: loop.max / 1e6,
    stalenessP50ms: pct(sortedStale, 0.5), stalenessP99ms: pct(sortedStale, 0.99), stalenessMaxMs: sortedStale[sortedStale.length - 1] ?? 0,
    staleAnswers, answers: staleness.length,
    cpuPct: (cpu.user + cpu.system) / 1e4 / wallS, loadAvgBefore, loadAvgAfter: loadavg()[0]!,
  }
}

export function formatLivePhase(l: LivePhaseResult, intervalMs: number): string {
  return [
    `topology under live ingest (a ${l.batchFlows}-flow batch every ${intervalMs} ms through POST /api/v1/ingest, fsync + merge; load client at 100 req/s):`,
    `  ${l.route}`,
    `      ${l.rps.toFixed(0)} req/s  p50 ${l.p50ms} ms  p90 ${l.p90ms} ms  p99 ${l.p99ms} ms  max ${l.maxms} ms  non-2xx ${l.non2xx}  errors ${l.errors}  ${(l.bytesPerResponse / 1024).toFixed(1)} KiB/response`,
    `      server side: p50 ${l.serverP50ms.toFixed(1)} ms  p99 ${l.serverP99ms.toFixed(1)} ms  max ${l.serverMaxMs.toFixed(1)} ms`,
    `      staleness of answers: p50 ${l.stalenessP50ms.toFixed(0)} ms  p99 ${l.stalenessP99ms.toFixed(0)} ms  max ${l.stalenessMaxMs.toFixed(0)} ms (${l.staleAnswers} of ${l.answers} answers missed a merged batch)`,
    `      ingest: ${l.batches} batches (${l.skippedTicks} ticks skipped while one was in flight), per batch p50 ${l.ingestP50ms.toFixed(0)} ms  max ${l.ingestMaxMs.toFixed(0)} ms`,
    `      event-loop delay: p99 ${l.loopDelayP99ms.toFixed(1)} ms  max ${l.loopDelayMaxMs.toFixed(1)} ms; server process CPU ${l.cpuPct.toFixed(0)} % of a core; load client CPU ${l.clientCpuPct.toFixed(0)} %; load average ${l.loadAvgBefore.toFixed(2)} → ${l.loadAvgAfter.toFixed(2)} (2 cores, shared)`,
  ].join('\n')
}
