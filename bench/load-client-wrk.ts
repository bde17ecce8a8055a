/**
 * The api bench's load with `wrk` (Debian package `wrk`, C; one of the two tools the
 * collector issue names). wrk 4 has no fixed-rate mode, so a Lua `delay()` paces each
 * connection: after every response it waits 1000 × connections / rate ms, which gives
 * `rate` requests per second overall minus the response time (≈ 94 req/s at 6 ms). Latency
 * percentiles are wrk's own (`--latency`).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { answerBytes, commandAvailable, runTimed, withTempDir } from './load-client-exec.js'
import type { LoadRequest, LoadResult } from './load-client.js'

export const wrkAvailable = (): boolean => commandAvailable('wrk')

/** "12.34ms" / "1.20s" / "850.00us" → ms. */
function ms(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim())
  if (m === null) return NaN
  const v = Number(m[1])
  return m[2] === 'us' ? v / 1000 : m[2] === 'ms' ? v : m[2] === 's' ? v * 1000 : v * 60_000
}

export async function wrkLoad(req: LoadRequest): Promise<LoadResult> {
  const size = await answerBytes(req)
  const { stdout: out, cpuS } = await withTempDir(async (dir) => {
    const script = join(dir, 'pace.lua')
    writeFileSync(script, `function delay() return ${Math.round((1000 * req.connections) / req.rate)} end\n`)
    return runTimed('wrk', ['-t', '2', '-c', String(req.connections), '-d', `${req.seconds}s`, '--latency', '-s', script, '-H', `Authorization: Bearer ${req.token}`, req.url])
  })
  const pct = (p: string): number => { const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, 'm').exec(out); return m === null ? NaN : Math.round(ms(m[1]!)) }
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN)
  const max = /Latency\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1]
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  return {
    rps: requests / req.seconds, p50ms: pct('50'), p90ms: pct('90'), p99ms: pct('99'), maxms: max === undefined ? NaN : Math.round(ms(max)),
    non2xx, errors: errors === null ? 0 : Number(errors[1]) + Number(errors[2]) + Number(errors[3]), timeouts: errors === null ? 0 : Number(errors[4]),
    requests, bytesPerResponse: size, clientCpuPct: (100 * cpuS) / req.seconds,
  }
}
