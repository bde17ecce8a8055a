/**
 * The collector's store: one level database under `<data-dir>/store`, shared by the
 * per-table stores below. Component shape: inert constructor, open()/close().
 */
import { DetectorStateStore } from './detector-state-store.js'
import { makeDataDir } from '../util/make-dir.js'
import { join } from 'node:path'
import { AlertStore, IntelFeedStore } from './alert-store.js'
import { AgentStore } from './agent-store.js'
import { AuditStore } from './audit-store.js'
import { BatchStore } from './batch-store.js'
import { KeyedLock } from './async-lock.js'
import { keys, STORE_FORMAT_VERSION } from './keys.js'
import { LevelDb, type LevelTuning, type WriteFailure, type WriteOp } from './level-db.js'
import { TokenStore } from './token-store.js'
import { TopologyStore } from './topology-store.js'
import { FlowReader } from './flow-reader.js'
import { Retention } from './retention.js'

export interface StoreOptions {
  dataDir: string
  /** fsync every write (durable acks). Default true. */
  sync?: boolean
  /** LevelDB's write buffer and block cache (level-db.ts DEFAULT_TUNING when absent). */
  tuning?: LevelTuning
}

export class StoreFormatError extends Error {}

export class CollectorStore {
  readonly db: LevelDb
  readonly tokens: TokenStore
  readonly agents: AgentStore
  readonly audit: AuditStore
  readonly batches: BatchStore
  /** Topology, roll-ups and loss periods (issue 6). */
  readonly topology: TopologyStore
  /** Query side of the flow tables (issue 6). */
  readonly flows: FlowReader
  readonly retention: Retention
  /** Alerts and suppression rules (issue 7). */
  readonly alerts: AlertStore
  /** Threat-intel feeds posted to the API (issue 7). */
  readonly intelFeeds: IntelFeedStore
  /** What detectors learned (issue 7's learning periods survive a restart). */
  readonly detectorStates: DetectorStateStore
  /** Serialises read-modify-write of one record (token uses, agent totals) by key. */
  readonly lock = new KeyedLock()

  constructor(readonly opts: StoreOptions) {
    this.db = new LevelDb(join(opts.dataDir, 'store'), opts.sync ?? true, opts.tuning)
    this.tokens = new TokenStore(this.db)
    this.agents = new AgentStore(this.db)
    this.audit = new AuditStore(this.db)
    this.batches = new BatchStore(this.db)
    this.topology = new TopologyStore(this.db)
    this.flows = new FlowReader(this.db, () => this.batches.maxSegmentSpanUs, () => this.batches.maxAppSegmentSpanUs)
    this.retention = new Retention(this.db, () => this.flows.clearCaches())
    this.alerts = new AlertStore(this.db)
    this.intelFeeds = new IntelFeedStore(this.db)
    this.detectorStates = new DetectorStateStore(this.db)
  }

  get isOpen(): boolean { return this.db.status === 'open' }

  /** The last write failed (disk full, I/O error) and none has worked since: undefined when writes work. */
  get writeFailure(): WriteFailure | undefined { return this.db.writeFailure }

  /**
   * Opens (creating the data directory when missing). Fails with the level error when the
   * store is locked by another process (a running collector) — callers name that case.
   */
  async open(): Promise<void> {
    makeDataDir(this.opts.dataDir, 0o750)
    await this.db.open()
    const fmt = await this.db.get(keys.meta('format'))
    if (fmt === undefined) await this.db.write([{ type: 'put', key: keys.meta('format'), value: Buffer.from(String(STORE_FORMAT_VERSION)) }])
    else if (Number(fmt.toString()) !== STORE_FORMAT_VERSION) {
      await this.db.close()
      throw new StoreFormatError(`the store in ${this.opts.dataDir} has format ${fmt.toString().slice(0, 16)}; this collector reads format ${STORE_FORMAT_VERSION} only and does not migrate stores before 1.0: point data_dir at a new directory (or move the old one away)`)
    }
    await this.batches.load()
  }

  async close(): Promise<void> {
    await this.db.close()
  }

  /** One atomic write of operations composed from several tables. */
  async commit(ops: WriteOp[]): Promise<void> {
    await this.db.write(ops)
  }
}

/** True when an open failed because another process holds the store's lock. */
export function isStoreLocked(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string; message?: string } } | undefined
  // Not any message with "lock" in it: a LOCK file the user may not open is a rights problem.
  return e?.code === 'LEVEL_DATABASE_NOT_OPEN' && (e.cause?.code === 'LEVEL_LOCKED' || /lock .*(already held|temporarily unavailable)/i.test(e.cause?.message ?? ''))
}

/**
 * What to tell the admin when LevelDB could not open the store: damaged (a corrupt table or
 * manifest, a CURRENT naming a missing file) or refused by the file system (rights, space,
 * read-only); undefined for other failures (the lock has isStoreLocked).
 */
export function storeOpenProblem(dataDir: string, err: unknown): { code: string; message: string } | undefined {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } } | undefined
  const inner = (e?.cause?.message ?? e?.message ?? '').split('\n')[0]!
  const dir = join(dataDir, 'store')
  const opening = e?.code === 'LEVEL_DATABASE_NOT_OPEN' || e?.code === 'LEVEL_CORRUPTION' || e?.cause?.code === 'LEVEL_CORRUPTION'
  if (!opening) return undefined
  if (/Permission denied|Read-only file system|No space left|Disk quota/i.test(inner)) {
    return { code: 'COLLECTOR_ERR_STORE_IO', message: `cannot open the store in ${dir}: ${inner}; check data_dir / --data-dir, the collector user's rights and free space` }
  }
  if (e?.code === 'LEVEL_CORRUPTION' || e?.cause?.code === 'LEVEL_CORRUPTION' || /Corruption|IO error/i.test(inner)) {
    return {
      code: 'COLLECTOR_ERR_STORE_DAMAGED',
      message: `the store in ${dir} is damaged (${inner}); the collector does not start on a damaged store: restore the data directory from a backup, or move it aside to start with an empty one`,
    }
  }
  return undefined
}
