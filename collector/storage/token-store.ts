/**
 * Tokens (`tk` by secret hash, `ti` id → hash). Records are cached in memory, bounded:
 * ingest looks up the agent credential on every batch.
 */
import { keys } from './keys.js'
import type { LevelDb, WriteOp } from './level-db.js'
import type { TokenRecord } from './records.js'

const CACHE_MAX = 10_000

export class TokenStore {
  /** hash (hex) → record; bounded, oldest entry evicted first. */
  private readonly cache = new Map<string, TokenRecord>()

  constructor(private readonly db: LevelDb) {}

  /** Operations that store a token (to be written alone or inside a larger atomic batch). */
  putOps(hash: Buffer, rec: TokenRecord): WriteOp[] {
    return [
      { type: 'put', key: keys.token(hash), value: Buffer.from(JSON.stringify(rec)) },
      { type: 'put', key: keys.tokenById(rec.id), value: hash },
    ]
  }

  /** Call after putOps were written. */
  remember(hash: Buffer, rec: TokenRecord): void {
    const h = hash.toString('hex')
    this.cache.delete(h)
    this.cache.set(h, rec)
    if (this.cache.size > CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string)
  }

  async put(hash: Buffer, rec: TokenRecord): Promise<void> {
    await this.db.write(this.putOps(hash, rec))
    this.remember(hash, rec)
  }

  async getByHash(hash: Buffer): Promise<TokenRecord | undefined> {
    const h = hash.toString('hex')
    const cached = this.cache.get(h)
    if (cached !== undefined) return cached
    const v = await this.db.get(keys.token(hash))
    if (v === undefined) return undefined
    const rec = JSON.parse(v.toString('utf8')) as TokenRecord
    this.remember(hash, rec)
    return rec
  }

  async hashOfId(id: string): Promise<Buffer | undefined> {
    return this.db.get(keys.tokenById(id))
  }

  async getById(id: string): Promise<{ hash: Buffer; rec: TokenRecord } | undefined> {
    const hash = await this.hashOfId(id)
    if (hash === undefined) return undefined
    const rec = await this.getByHash(hash)
    return rec === undefined ? undefined : { hash, rec }
  }

  async list(): Promise<TokenRecord[]> {
    const out: TokenRecord[] = []
    for await (const [, v] of this.db.entries({ gte: keys.token(Buffer.alloc(32, 0)), lte: keys.token(Buffer.alloc(32, 0xff)) })) {
      out.push(JSON.parse(v.toString('utf8')) as TokenRecord)
    }
    return out
  }
}
