/**
 * Agents (`ag`), the machine-identity index (`am`), latest stats/inventory (`as`, `ai`) and
 * enrollment conflicts (`cf`). Agent records are cached in memory once read (one record per
 * enrolled agent); the store is the only writer, so the cache stays exact.
 */
import { keys, prefixRange, KEY_PREFIX } from './keys.js'
import type { LevelDb, WriteOp } from './level-db.js'
import type { AgentRecord, ConflictRecord } from './records.js'

/**
 * An agent record as stored, with totals added to the record since then filled in as 0
 * (records written before app records lack `appRecords` and `gapRecords.appRecords`).
 */
export function parseAgentRecord(v: Buffer): AgentRecord {
  const rec = JSON.parse(v.toString('utf8')) as AgentRecord
  rec.appRecords ??= 0
  rec.gapRecords.appRecords ??= 0
  return rec
}

export class AgentStore {
  private readonly cache = new Map<string, AgentRecord>()

  constructor(private readonly db: LevelDb) {}

  async get(id: string): Promise<AgentRecord | undefined> {
    const cached = this.cache.get(id)
    if (cached !== undefined) return cached
    const v = await this.db.get(keys.agent(id))
    if (v === undefined) return undefined
    const rec = parseAgentRecord(v)
    this.cache.set(id, rec)
    return rec
  }

  async idByMachine(machineIdHash: string): Promise<string | undefined> {
    const v = await this.db.get(keys.agentByMachine(machineIdHash))
    return v?.toString('utf8')
  }

  /** Operations storing the record (and, unless revoked, the machine index entry). */
  putOps(rec: AgentRecord): WriteOp[] {
    const ops: WriteOp[] = [{ type: 'put', key: keys.agent(rec.id), value: Buffer.from(JSON.stringify(rec)) }]
    if (rec.revokedAt === undefined) ops.push({ type: 'put', key: keys.agentByMachine(rec.machineIdHash), value: Buffer.from(rec.id) })
    else ops.push({ type: 'del', key: keys.agentByMachine(rec.machineIdHash) })
    return ops
  }

  /** The record alone (no machine index): what ingest rewrites on every batch. */
  recordOp(rec: AgentRecord): WriteOp {
    return { type: 'put', key: keys.agent(rec.id), value: Buffer.from(JSON.stringify(rec)) }
  }

  /** Call after the ops carrying `rec` were written. */
  remember(rec: AgentRecord): void {
    this.cache.set(rec.id, rec)
  }

  statsOp(id: string, stats: Buffer): WriteOp { return { type: 'put', key: keys.agentStats(id), value: stats } }
  inventoryOp(id: string, inv: Buffer): WriteOp { return { type: 'put', key: keys.agentInventory(id), value: inv } }

  async latestStats(id: string): Promise<Buffer | undefined> { return this.db.get(keys.agentStats(id)) }
  async latestInventory(id: string): Promise<Buffer | undefined> { return this.db.get(keys.agentInventory(id)) }

  async list(): Promise<AgentRecord[]> {
    const out: AgentRecord[] = []
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.agent))) out.push(parseAgentRecord(v))
    return out
  }

  conflictOps(rec: ConflictRecord): WriteOp[] {
    return [{ type: 'put', key: keys.conflict(Date.parse(rec.at) * 1000, rec.id), value: Buffer.from(JSON.stringify(rec)) }]
  }

  async conflicts(): Promise<ConflictRecord[]> {
    const out: ConflictRecord[] = []
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.conflict))) out.push(JSON.parse(v.toString('utf8')) as ConflictRecord)
    return out
  }
}
