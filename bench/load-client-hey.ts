/**
 * The api bench's load with `hey` (Debian package `hey`, Go): a compiled HTTP client whose
 * own parsing of a 600 KiB answer costs well under a millisecond, where autocannon (JS) adds
 * tens of ms at the tail on this 2-core machine. Fixed rate: `connections` workers at
 * `rate / connections` requests per second each (hey -q is per worker). Per-request times come
 * from `hey -o csv`; percentiles are computed here (nearest rank) the same way for every route.
 */
import { answerBytes, commandAvailable, runTimed } from './load-client-exec.js'
import type { LoadRequest, LoadResult } from './load-client.js'

export const heyAvailable = (): boolean => commandAvailable('hey')

export async function heyLoad(req: LoadRequest): Promise<LoadResult> {
  const size = await answerBytes(req)
  const { stdout, cpuS } = await runTimed('hey', ['-z', `${req.seconds}s`, '-c', String(req.connections), '-q', String(req.rate / req.connections),
    '-disable-compression', '-H', `Authorization: Bearer ${req.token}`, '-o', 'csv', req.url])
  const ms: number[] = []
  let non2xx = 0
  // response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset
  for (const line of stdout.split('\n').slice(1)) {
    const f = line.split(',')
    if (f.length < 8) continue
    ms.push(Number(f[0]) * 1000)
    const status = Number(f[6])
    if (status < 200 || status > 299) non2xx++
  }
  ms.sort((a, b) => a - b)
  const q = (x: number): number => ms.length === 0 ? NaN : Math.round(ms[Math.min(ms.length - 1, Math.ceil(x * ms.length) - 1)]!)
  return {
    rps: ms.length / req.seconds, p50ms: q(0.5), p90ms: q(0.9), p99ms: q(0.99), maxms: Math.round(ms[ms.length - 1] ?? NaN),
    non2xx, errors: 0, timeouts: 0, requests: ms.length, bytesPerResponse: size, clientCpuPct: (100 * cpuS) / req.seconds,
  }
}
