/**
 * The api bench's load generator, run as a CHILD process (`fork`) so that its own work
 * (sending, parsing responses, timing) does not share the server's event loop and inflate
 * the server's p99. Receives `{ url, seconds, rate, connections, token }` as argv[2] (JSON),
 * runs autocannon at a fixed overall rate and sends the summary back over IPC.
 */
import autocannon from 'autocannon'

export interface LoadRequest { url: string; seconds: number; rate: number; connections: number; token: string }
export interface LoadResult { rps: number; p50ms: number; p90ms: number; p99ms: number; maxms: number; non2xx: number; errors: number; timeouts: number; requests: number; bytesPerResponse: number; clientCpuPct: number }

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as LoadRequest
  const cpu0 = process.cpuUsage()
  const r = await autocannon({
    url: req.url, connections: req.connections, overallRate: req.rate, duration: req.seconds,
    headers: { authorization: `Bearer ${req.token}` },
  })
  const out: LoadResult = {
    rps: r.requests.average, p50ms: r.latency.p50, p90ms: r.latency.p90, p99ms: r.latency.p99, maxms: r.latency.max,
    non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts, requests: r.requests.total,
    bytesPerResponse: r.requests.total > 0 ? r.throughput.total / r.requests.total : 0,
    clientCpuPct: (() => { const c = process.cpuUsage(cpu0); return (c.user + c.system) / 1e4 / req.seconds })(),
  }
  process.send?.(out)
}

main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
