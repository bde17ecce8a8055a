/**
 * Alerts (`al`) and suppression rules (`su`) as JSON records, and threat-intel feeds posted
 * to the API (`if`). The record shapes belong to collector/alerts and collector/intel; this
 * table only stores and lists them (keys.ts has the layout).
 */
import { keys, prefixRange, KEY_PREFIX } from './keys.js'
import type { LevelDb, WriteOp } from './level-db.js'

export class AlertStore {
  constructor(private readonly db: LevelDb) {}

  putOp(id: string, record: unknown): WriteOp {
    return { type: 'put', key: keys.alert(id), value: Buffer.from(JSON.stringify(record)) }
  }

  delOp(id: string): WriteOp { return { type: 'del', key: keys.alert(id) } }

  async write(ops: WriteOp[]): Promise<void> { await this.db.write(ops) }

  async *all<T>(): AsyncGenerator<T> {
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.alert))) yield JSON.parse(v.toString('utf8')) as T
  }

  async putSuppression(id: string, record: unknown): Promise<void> {
    await this.db.write([{ type: 'put', key: keys.suppression(id), value: Buffer.from(JSON.stringify(record)) }])
  }

  async deleteSuppression(id: string): Promise<void> {
    await this.db.write([{ type: 'del', key: keys.suppression(id) }])
  }

  async *suppressions<T>(): AsyncGenerator<T> {
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.suppression))) yield JSON.parse(v.toString('utf8')) as T
  }
}

export class IntelFeedStore {
  constructor(private readonly db: LevelDb) {}

  /** Value: one JSON header line ({format}) then the feed body as posted. */
  async put(name: string, format: string, body: Buffer): Promise<void> {
    await this.db.write([{ type: 'put', key: keys.intelFeed(name), value: Buffer.concat([Buffer.from(JSON.stringify({ name, format }) + '\n'), body]) }])
  }

  async delete(name: string): Promise<void> {
    await this.db.write([{ type: 'del', key: keys.intelFeed(name) }])
  }

  async *all<F extends string>(): AsyncGenerator<{ name: string; format: F; body: Buffer }> {
    for await (const [, v] of this.db.entries(prefixRange(KEY_PREFIX.intelFeed))) {
      const nl = v.indexOf(10)
      if (nl === -1) continue
      const h = JSON.parse(v.subarray(0, nl).toString('utf8')) as { name: string; format: F }
      yield { name: h.name, format: h.format, body: v.subarray(nl + 1) }
    }
  }
}
