/** Audit log (`au`): append-only, time-ordered. */
import { keys, prefixRange, KEY_PREFIX } from './keys.js'
import type { LevelDb, WriteOp } from './level-db.js'
import type { AuditRecord } from './records.js'

export class AuditStore {
  private seq = 0

  constructor(private readonly db: LevelDb) {}

  /** Operations appending one record (to be written inside the action's own atomic batch). */
  appendOps(rec: AuditRecord): WriteOp[] {
    const tsUs = Date.parse(rec.at) * 1000
    this.seq = (this.seq + 1) >>> 0
    return [{ type: 'put', key: keys.audit(tsUs, this.seq), value: Buffer.from(JSON.stringify(rec)) }]
  }

  async append(rec: AuditRecord): Promise<void> {
    await this.db.write(this.appendOps(rec))
  }

  /** Newest first. */
  async list(limit = 1000): Promise<AuditRecord[]> {
    const out: AuditRecord[] = []
    for await (const [, v] of this.db.entries({ ...prefixRange(KEY_PREFIX.audit), reverse: true, limit })) {
      out.push(JSON.parse(v.toString('utf8')) as AuditRecord)
    }
    return out
  }
}
