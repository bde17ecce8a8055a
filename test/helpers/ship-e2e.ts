/**
 * Test helper for the end-to-end shipping tests: a real collector process (start, wait
 * until ready, kill -9, stop), an enrollment token from its admin API, the agent CLI as a
 * process, and a read of what the collector stored (its store opened after it stopped).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'undici'
import { Batch, type Flow } from '../../protocol/index.js'
import { CollectorStore } from '../../collector/storage/index.js'
import { flowToConnRecord } from '../../agent/ship/flow-encoding.js'
import type { ConnRecord } from '../../agent/flow/conn-record.js'
import { AGENT_MAIN, COLLECTOR_MAIN } from './ship-paths.js'
import { KEEP_OLD_RECORDS_ENV } from './keep-old-records.js'

export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef'

export class CollectorProcess {
  child: ChildProcess | undefined
  starts = 0
  constructor(readonly dataDir: string, readonly port: number) {}

  get url(): string { return `http://127.0.0.1:${this.port}` }

  /** Starts and waits (bounded) until /healthz answers. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [COLLECTOR_MAIN, 'serve', '--data-dir', this.dataDir, '--listen', `127.0.0.1:${this.port}`], {
      env: { ...process.env, ...KEEP_OLD_RECORDS_ENV, TELLTALE_ADMIN_TOKEN: ADMIN_TOKEN, TELLTALE_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
    this.child = child
    this.starts++
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`collector exited with ${child.exitCode}: ${stderr}`)
      try {
        const r = await request(`${this.url}/healthz`)
        await r.body.dump()
        if (r.statusCode === 200) return
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`collector not ready after 30 s: ${stderr}`)
  }

  async kill9(): Promise<void> {
    const c = this.child
    if (!c || c.exitCode !== null) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGKILL')
    await gone
    this.child = undefined
  }

  async stop(): Promise<void> {
    const c = this.child
    if (!c || c.exitCode !== null) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM')
    const t = setTimeout(() => c.kill('SIGKILL'), 10_000)
    await gone
    clearTimeout(t)
    this.child = undefined
  }

  async enrollToken(): Promise<string> {
    const r = await request(`${this.url}/api/v1/enrollment-tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: '{}' })
    const body = await r.body.json() as { token?: string }
    if (r.statusCode !== 201 || !body.token) throw new Error(`token create: HTTP ${r.statusCode} ${JSON.stringify(body)}`)
    return body.token
  }
}

export interface Stored { flows: ConnRecord[]; gapFlows: number; gaps: number }

/** What the (stopped) collector holds: every flow, and the flow gaps the agent reported. */
export async function readStored(dataDir: string, agentId: string): Promise<Stored> {
  const store = new CollectorStore({ dataDir, sync: false })
  await store.open()
  const flows: ConnRecord[] = []
  let gapFlows = 0
  let gaps = 0
  try {
    for await (const seg of store.batches.flowSegments()) for (const f of Batch.decode(seg.bytes).flows) flows.push(flowToConnRecord(f as Flow))
    for await (const g of store.batches.gapsOf(agentId)) {
      for (const gap of Batch.decode(g).gaps) {
        gaps++
        if (gap.kind === 1) gapFlows += Number(gap.count)
      }
    }
  } finally {
    await store.close()
  }
  return { flows, gapFlows, gaps }
}

/** A flow's identity independent of its (random) uid: start time and 5-tuple. */
export function flowKey(r: ConnRecord): string {
  return `${Math.round(r.ts * 1e6)}|${r.proto}|${r.origH}|${r.origP}|${r.respH}|${r.respP}|${r.interim ? 'i' : ''}`
}

export interface AgentRun { code: number | null; stdout: string; stderr: string; child: ChildProcess; done: Promise<void> }

export function runAgent(args: string[], env: Record<string, string>): AgentRun {
  const child = spawn(process.execPath, [AGENT_MAIN, ...args], { env: { ...process.env, TELLTALE_LOG_LEVEL: 'error', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const run: AgentRun = { code: null, stdout: '', stderr: '', child, done: Promise.resolve() }
  child.stdout!.on('data', (d: Buffer) => { run.stdout += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { run.stderr = (run.stderr + d.toString()).slice(-8000) })
  run.done = new Promise((resolve) => child.once('exit', (code) => { run.code = code; resolve() }))
  return run
}

/** mulberry32 */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
