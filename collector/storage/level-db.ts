/**
 * The one place the collector touches `level`: opening the database and the four
 * operations the stores need (get, atomic write, range iteration, close). Keys and values
 * are Buffers; every write is one atomic level batch, fsynced when `sync` is set.
 */
import { Level } from 'level'
import { CollectorError } from '../errors.js'

export type WriteOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer }

/**
 * One atomic write built operation by operation: each put goes into the native batch at
 * once, so a large write (the topology flush) holds no key or value in the JS heap while it
 * is built. Nothing is written before write(); close() drops it.
 */
export interface LevelBatch {
  put(key: Buffer, value: Buffer): void
  /** A value given as text, stored as its UTF-8 bytes. */
  putText(key: Buffer, value: string): void
  del(key: Buffer): void
  /** Resolves once durable (fsynced when the database's `sync` is set). */
  write(): Promise<void>
  close(): Promise<void>
}


/**
 * Key bytes a seeking iterator reads ahead (classic-level's default is 16 KiB): what it reads
 * past a seek point is thrown away. Retention over a store of 2000 batches (128k `fb` keys),
 * expiring 0.5 %, warm cache: 16 KiB 261–447 ms, 1 KiB 101–143, 256 B 84–93, 64 B 160–198.
 */
const SEEKING_READ_AHEAD_BYTES = 512

export interface RangeOptions {
  gte?: Buffer
  gt?: Buffer
  lt?: Buffer
  lte?: Buffer
  reverse?: boolean
  limit?: number
}

/**
 * LevelDB's memory knobs. The write buffer is the memtable (and .log) size before it becomes
 * a level-0 table: LevelDB's 4 MiB default made ingest write a level-0 file every ~35k flows
 * and stall on level-0 compactions (the ingest bench's store-only phase: 46k flows/s wall
 * with 4 MiB, 150–190k with 32 MiB, and ~25 % less CPU per flow). Up to two buffers are in
 * memory at once, and a larger one replays longer after a crash. The cache holds
 * uncompressed blocks for reads (API queries, catching up).
 */
export interface LevelTuning { writeBufferBytes: number; cacheBytes: number }
export const DEFAULT_TUNING: LevelTuning = { writeBufferBytes: 32 * 1024 * 1024, cacheBytes: 32 * 1024 * 1024 }

/** The last write failed, and why; cleared by the next write that works. */
export interface WriteFailure { atMs: number; full: boolean; message: string }

/**
 * A failed write as the collector reports it: a full disk (ENOSPC) is STORAGE_FULL (507),
 * any other I/O error STORAGE_ERROR (503); both say nothing was stored (the write is one
 * atomic batch), and agents retry both.
 */
function writeError(err: unknown, dir: string): { error: CollectorError; failure: WriteFailure } {
  const message = err instanceof Error ? err.message : String(err)
  const full = /No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i.test(message)
  const error = full
    ? new CollectorError('STORAGE_FULL', `the collector's disk is full (${dir}): nothing was stored; retry later`)
    : new CollectorError('STORAGE_ERROR', `the collector could not write to its store (${message.slice(0, 200)}): nothing was stored; retry later`)
  return { error, failure: { atMs: Date.now(), full, message } }
}

export class LevelDb {
  /** Made by open(): level opens itself from its constructor (with a recursive mkdir). */
  private level: Level<Buffer, Buffer> | undefined
  /** Set when the last write failed (readyz reports it), cleared by the next one that works. */
  writeFailure: WriteFailure | undefined

  constructor(readonly dir: string, private readonly sync: boolean, private readonly tuning: LevelTuning = DEFAULT_TUNING) {}

  get status(): string { return this.level?.status ?? 'closed' }

  private get db(): Level<Buffer, Buffer> {
    if (this.level === undefined) throw new Error('Database is not open')
    return this.level
  }

  /** Opens; the caller has made the parent directory (see CollectorStore.open). */
  async open(): Promise<void> {
    this.level ??= new Level<Buffer, Buffer>(this.dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await this.level.open({ createIfMissing: true, writeBufferSize: this.tuning.writeBufferBytes, cacheSize: this.tuning.cacheBytes })
  }

  async close(): Promise<void> {
    const l = this.level
    if (l !== undefined && (l.status === 'open' || l.status === 'opening')) await l.close()
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    return (await this.db.get(key)) ?? undefined
  }

  /** Applies all operations atomically (one level batch); resolves once durable. */
  async write(ops: WriteOp[]): Promise<void> {
    if (ops.length === 0) return
    // A chained batch: no per-operation option objects (abstract-level's array form copies
    // options into every operation, measurably slower for the thousands of index keys of
    // one ingest batch).
    const b = this.db.batch()
    for (const op of ops) {
      if (op.type === 'put') b.put(op.key, op.value)
      else b.del(op.key)
    }
    await this.written(b.write({ sync: this.sync }))
  }

  /** Tracks the outcome of a write: a failure becomes STORAGE_FULL / STORAGE_ERROR. */
  private async written(p: Promise<void>): Promise<void> {
    try {
      await p
    } catch (err) {
      if (err instanceof CollectorError) throw err
      // Closed or closing: not a storage failure (shutdown), the caller sees level's error.
      if (this.status !== 'open') throw err
      const { error, failure } = writeError(err, this.dir)
      this.writeFailure = failure
      throw error
    }
    this.writeFailure = undefined
  }

  /** A batch to fill and write once (LevelBatch). */
  batch(): LevelBatch {
    const b = this.db.batch()
    const sync = this.sync
    return {
      put: (key, value) => { b.put(key, value) },
      // The UTF-8 bytes made here, not by level: a put with an options object ({ valueEncoding:
      // 'utf8' }) spreads it into a new object per operation in abstract-level, ~9 µs a put
      // against ~1.5 µs with a Buffer and no options (the same bytes are stored).
      putText: (key, value) => { b.put(key, Buffer.from(value, 'utf8')) },
      del: (key) => { b.del(key) },
      write: () => this.written(b.write({ sync })),
      close: () => b.close(),
    }
  }

  async *entries(range: RangeOptions): AsyncGenerator<[Buffer, Buffer]> {
    for await (const [k, v] of this.db.iterator({ ...range, keys: true, values: true })) yield [k, v]
  }

  async *keys(range: RangeOptions): AsyncGenerator<Buffer> {
    for await (const k of this.db.keys(range)) yield k
  }

  /**
   * Keys in `range` for which `skipFrom(key)` is undefined. When it returns a key instead, the
   * iterator seeks there (forward) without reading the keys in between: a table whose keys
   * sort by time within each group can be read up to a time in every group without reading
   * the rest of each group.
   */
  async *keysSeeking(range: RangeOptions, skipFrom: (key: Buffer) => Buffer | undefined): AsyncGenerator<Buffer> {
    const it = this.db.keys({ ...range, highWaterMarkBytes: SEEKING_READ_AHEAD_BYTES } as never)
    try {
      for (;;) {
        const k = await it.next()
        if (k === undefined) return
        const target = skipFrom(k)
        if (target === undefined) yield k
        else it.seek(target)
      }
    } finally {
      await it.close()
    }
  }

  /** Compacts every key (drops overwritten and deleted versions); for measuring and maintenance. */
  async compactAll(): Promise<void> {
    const db = this.db as unknown as { compactRange?: (a: Buffer, b: Buffer) => Promise<void> }
    if (db.compactRange) await db.compactRange(Buffer.from([0]), Buffer.from([0xff]))
  }

  /** Bytes on disk for a key range (LevelDB's estimate). */
  async approximateSize(gte: Buffer, lt: Buffer): Promise<number> {
    const db = this.db as unknown as { approximateSize?: (a: Buffer, b: Buffer) => Promise<number> }
    return db.approximateSize ? await db.approximateSize(gte, lt) : 0
  }
}
