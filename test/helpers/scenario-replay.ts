/**
 * Replays scenario captures through the real agent CLI (`replay FILE --collector URL`) into
 * an in-process collector configured with scenarioConfig() and the scenario intel feeds,
 * then reads the alerts back from the API and scores them against the ground truth.
 * Used by test/detection-scenarios.test.ts and bench/detection-bench.ts.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Alert } from '../../collector/alerts/alert-types.js'
import { ALERT_TYPES } from '../../collector/detection/detection-types.js'
import { ADMIN, enrollmentToken, startCollector, type TestCollector } from '../collector-fixtures.js'
import type { GroundTruth } from './scenario-attacks.js'
import { scenarioConfig, scenarioIntelFeeds } from './scenario-generator.js'
import { AGENT_MAIN } from './ship-paths.js'

export interface ScenarioCollector { c: TestCollector; url: string; close(): Promise<void> }

export async function startScenarioCollector(extra: Record<string, unknown> = {}): Promise<ScenarioCollector> {
  const c = await startCollector({ ...scenarioConfig(), ...extra })
  await c.app.listen({ host: '127.0.0.1', port: 0 })
  const addr = c.app.server.address()
  if (addr === null || typeof addr === 'string') throw new Error('no listening address')
  for (const f of scenarioIntelFeeds()) {
    const r = await c.app.inject({ method: 'POST', url: `/api/v1/intel/feeds?name=${f.name}`, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/plain' }, payload: f.body })
    if (r.statusCode !== 201) throw new Error(`intel feed ${f.name}: ${r.statusCode} ${r.body}`)
  }
  return { c, url: `http://127.0.0.1:${addr.port}`, close: () => c.close() }
}

/** Runs the agent CLI replay into the collector; resolves when every batch is acked. */
export async function agentReplay(sc: ScenarioCollector, pcap: string, timeoutMs = 120_000): Promise<void> {
  const token = await enrollmentToken(sc.c)
  const stateDir = mkdtempSync(join(tmpdir(), 'telltale-scenario-agent-'))
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, [AGENT_MAIN, 'replay', pcap, '-C', '--collector', sc.url, '--enroll-token', token, '--state-dir', stateDir], {
        env: { ...process.env, TELLTALE_LOG_LEVEL: 'error' }, stdio: ['ignore', 'ignore', 'pipe'],
      })
      let err = ''
      child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000) })
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`agent replay timed out: ${err}`)) }, timeoutMs)
      child.once('exit', (code) => { clearTimeout(timer); if (code === 0) resolve(); else reject(new Error(`agent replay exited ${code}: ${err}`)) })
    })
  } finally {
    rmSync(stateDir, { recursive: true, force: true })
  }
}

export async function fetchAlerts(sc: ScenarioCollector): Promise<Alert[]> {
  await sc.c.detection.detection.idle()
  const r = await sc.c.app.inject({ method: 'GET', url: '/api/v1/alerts?limit=10000', headers: { authorization: `Bearer ${ADMIN}` } })
  if (r.statusCode !== 200) throw new Error(`GET /api/v1/alerts: ${r.statusCode} ${r.body}`)
  return (r.json() as { alerts: Alert[] }).alerts
}

export function matchesTruth(a: Pick<Alert, 'type' | 'src' | 'dst'>, t: GroundTruth): boolean {
  return a.type === t.type && a.src === t.src && (t.dst === undefined || a.dst === t.dst)
}

export interface TypeScore { tp: number; fp: number; fn: number }

/** Adds one run's outcome: each truth matched by exactly one alert is a TP (extra matches are FPs). */
export function score(into: Record<string, TypeScore>, alerts: readonly Alert[], truth: readonly GroundTruth[]): void {
  for (const t of ALERT_TYPES) into[t] ??= { tp: 0, fp: 0, fn: 0 }
  const used = new Set<string>()
  for (const t of truth) {
    const m = alerts.filter((a) => matchesTruth(a, t))
    if (m.length === 0) into[t.type]!.fn++
    else { into[t.type]!.tp++; used.add(m[0]!.id) }
  }
  for (const a of alerts) if (!used.has(a.id)) into[a.type]!.fp++
}

export function precisionRecall(s: TypeScore): { precision: number; recall: number } {
  return { precision: s.tp + s.fp === 0 ? 1 : s.tp / (s.tp + s.fp), recall: s.tp + s.fn === 0 ? 1 : s.tp / (s.tp + s.fn) }
}
