/** What the compiled load clients (load-client-hey.ts, load-client-wrk.ts) share: finding the tool, the answer's size, a run under GNU time. */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LoadRequest } from './load-client.js'

export function commandAvailable(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

/** The size of one answer (neither tool's parsed output gives it per response). */
export async function answerBytes(req: LoadRequest): Promise<number> {
  const one = await fetch(req.url, { headers: { authorization: `Bearer ${req.token}` } })
  return (await one.arrayBuffer()).byteLength
}

/** Runs `cmd args` under /usr/bin/time: its stdout and its CPU seconds (user + sys); rejects on a non-zero exit. */
export async function runTimed(cmd: string, args: string[]): Promise<{ stdout: string; cpuS: number }> {
  const dir = mkdtempSync(join(tmpdir(), `telltale-${cmd}-`))
  const timeFile = join(dir, 'time.txt')
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', timeFile, cmd, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      const chunks: Buffer[] = []
      child.stdout.on('data', (c: Buffer) => chunks.push(c))
      child.on('error', reject)
      child.on('exit', (code) => { if (code === 0) resolve(Buffer.concat(chunks).toString('utf8')); else reject(new Error(`${cmd} exited with ${code}`)) })
    })
    const [u, s] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
    return { stdout, cpuS: u! + s! }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A directory of scratch files for one run, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-load-'))
  try {
    return await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
