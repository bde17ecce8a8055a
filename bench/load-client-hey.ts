/**
 * The api bench's load with `hey` (Debian package `hey`, Go): a compiled HTTP client whose
 * own parsing of a 600 KiB answer costs well under a millisecond, where autocannon (JS) adds
 * tens of ms at the tail on this 2-core machine. Fixed rate: `connections` workers at
 * `rate / connections` requests per second each (hey -q is per worker). Per-request times come
 * from `hey -o csv`; percentiles are computed here (nearest rank) the same way for every route.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LoadRequest, LoadResult } from './load-client.js'

export function heyAvailable(): boolean {
  return spawnSync('sh', ['-c', 'command -v hey'], { stdio: 'ignore' }).status === 0
}

export async function heyLoad(req: LoadRequest): Promise<LoadResult> {
  // One request first for the answer's size (hey -o csv prints no summary).
  const one = await fetch(req.url, { headers: { authorization: `Bearer ${req.token}` } })
  const size = (await one.arrayBuffer()).byteLength
  const dir = mkdtempSync(join(tmpdir(), 'telltale-hey-'))
  const timeFile = join(dir, 'time.txt')
  try {
    return await run(req, size, timeFile)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function run(req: LoadRequest, size: number, timeFile: string): Promise<LoadResult> {
  const perWorker = req.rate / req.connections
  const args = ['-z', `${req.seconds}s`, '-c', String(req.connections), '-q', String(perWorker), '-disable-compression',
    '-H', `Authorization: Bearer ${req.token}`, '-o', 'csv', req.url]
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, 'hey', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    const chunks: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => chunks.push(c))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code !== 0) { reject(new Error(`hey exited with ${code}`)); return }
      const ms: number[] = []
      let non2xx = 0
      // response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,status-code,offset
      for (const line of Buffer.concat(chunks).toString('utf8').split('\n').slice(1)) {
        const f = line.split(',')
        if (f.length < 8) continue
        ms.push(Number(f[0]) * 1000)
        const status = Number(f[6])
        if (status < 200 || status > 299) non2xx++
      }
      ms.sort((a, b) => a - b)
      const q = (x: number): number => ms.length === 0 ? NaN : Math.round(ms[Math.min(ms.length - 1, Math.ceil(x * ms.length) - 1)]!)
      const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
      resolve({
        rps: ms.length / req.seconds, p50ms: q(0.5), p90ms: q(0.9), p99ms: q(0.99), maxms: Math.round(ms[ms.length - 1] ?? NaN),
        non2xx, errors: 0, timeouts: 0, requests: ms.length, bytesPerResponse: size, clientCpuPct: (100 * (u! + s!)) / req.seconds,
      })
    })
  })
}
