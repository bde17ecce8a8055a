// Shared by the test/collector-*.test.ts files: a collector app on a temp data dir, an
// enrolled agent, and batches built with the real protocol encoder.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { pino } from 'pino'
import { buildApp, type CollectorApp } from '../collector/app.js'
import { loadConfig } from '../collector/config/load-config.js'
import type { CollectorConfig } from '../collector/config/config-schema.js'
import { encodeBatch, PROTOCOL_VERSION, type BatchProperties, type FlowProperties } from '../protocol/index.js'
import { KEEP_OLD_RECORDS_FLAGS } from './helpers/keep-old-records.js'

export const ADMIN = 'tt_admin_test-admin-secret-0123456789'

export interface TestCollector extends CollectorApp { dir: string; close(): Promise<void> }

/** A collector app; the fixtures are dated 2023, so retention keeps everything unless `overrides` say otherwise. */
export async function startCollector(overrides: Record<string, unknown> = {}, dir?: string): Promise<TestCollector> {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'telltale-collector-test-'))
  const res = loadConfig({ env: {}, flags: { data_dir: dataDir, 'storage.sync': false, ...KEEP_OLD_RECORDS_FLAGS, ...overrides } })
  if (!res.ok) throw new Error(JSON.stringify(res.problems))
  const c = buildApp({ config: res.config as CollectorConfig, log: pino({ level: 'silent' }), adminToken: ADMIN })
  await c.app.ready()
  return {
    ...c,
    dir: dataDir,
    close: async () => {
      await c.app.close()
      if (dir === undefined) rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export async function enrollmentToken(c: CollectorApp, body: Record<string, unknown> = {}): Promise<string> {
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: { authorization: `Bearer ${ADMIN}` }, payload: body })
  if (r.statusCode !== 201) throw new Error(`enrollment token: ${r.statusCode} ${r.body}`)
  return (r.json() as { token: string }).token
}

export const machineHash = (n: number): string => n.toString(16).padStart(64, '0')

export async function enrollAgent(c: CollectorApp, machine = 1, nonce = 'nonce-0123456789abcdef'): Promise<{ agentId: string; secret: string }> {
  const token = await enrollmentToken(c)
  const r = await c.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: token, machine_id_hash: machineHash(machine), nonce, hostname: `host${machine}` } })
  if (r.statusCode !== 200) throw new Error(`enroll: ${r.statusCode} ${r.body}`)
  const j = r.json() as { agent_id: string; secret: string }
  return { agentId: j.agent_id, secret: j.secret }
}

/** A realistic flow i (TCP to a handful of servers, addresses varying with i). */
export function flow(i: number, t0 = 1_700_000_000_000_000): FlowProperties {
  return {
    tsUs: t0 + i * 1000, origH: Buffer.from([10, 0, (i >> 8) & 255, i & 255]), respH: Buffer.from([192, 0, 2, i % 7]),
    origP: 30000 + (i % 30000), respP: [443, 80, 53, 22][i % 4]!, proto: i % 4 === 2 ? 2 : 1, connState: 3, history: 'ShADadFf',
    durationUs: 1000 + i, origBytes: 100 + i, respBytes: 2000, origPkts: 5, origIpBytes: 400, respPkts: 6, respIpBytes: 2400,
    uid: `C${i.toString(36)}abcdefghij`, ipProto: i % 4 === 2 ? 17 : 6, service: ['ssl', 'http', 'dns', 'ssh'][i % 4]!, localOrig: true, localResp: false,
    iface: 'eth0', reason: 1, communityIdDerived: true,
  }
}

export function batch(agentId: string, seq: number, flows: number, extra: Partial<BatchProperties> = {}, epoch = 1): BatchProperties {
  const fl: FlowProperties[] = []
  for (let i = 0; i < flows; i++) fl.push(flow(seq * 100_000 + i))
  return { protocolVersion: PROTOCOL_VERSION, agentId, epoch, seq, sentAtUs: Date.now() * 1000, flows: fl, ...extra }
}

export function post(c: CollectorApp, secret: string | undefined, body: Uint8Array, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { 'content-type': 'application/x-protobuf', ...headers }
  if (secret !== undefined) h.authorization = `Bearer ${secret}`
  return c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: h, payload: Buffer.from(body) })
}

export const gz = (b: BatchProperties): Buffer => gzipSync(encodeBatch(b))

/** Hosts, edges and unique flows (/stats) and the bytes of every edge (/topology), once every acked batch is merged and flushed. */
export async function topologyTotals(c: TestCollector): Promise<{ hosts: number; edges: number; unique: number; bytes: number }> {
  const auth = { authorization: `Bearer ${ADMIN}` }
  await c.api.topology.settle()
  const s = (await c.app.inject({ method: 'GET', url: '/api/v1/stats', headers: auth })).json() as { hosts: number; edges: number; unique_flows: number }
  const topo = (await c.app.inject({ method: 'GET', url: '/api/v1/topology?limit=100000', headers: auth })).json() as { edges: { bytes: number }[] }
  return { hosts: s.hosts, edges: s.edges, unique: s.unique_flows, bytes: topo.edges.reduce((a, e) => a + e.bytes, 0) }
}
