import { open, stat } from 'node:fs/promises'
import type { Logger } from 'pino'
import { Counters } from '../../util/counters.js'
import { AgentError, AgentErrorCode } from '../../util/errors.js'
import type { LogEvent } from '../log-event.js'
import type { Frame } from '../framing/line-framer.js'
import { parseLogLine } from '../parse/parse-line.js'
import { CheckpointStore } from './checkpoint-store.js'
import { DeliveryQueue, type Delivery } from './delivery-queue.js'
import type { FileSourceConfig } from './file-source-config.js'
import { fingerprintFile, headUnchanged } from './fingerprint.js'
import { expandGlob, isCompressedRotation } from './glob.js'
import { TailedFile } from './tailed-file.js'

export type FileSourceCounter =
  | 'log_source_lines_total' | 'log_source_bytes_total' | 'log_source_parse_failures_total'
  | 'log_source_truncated_lines_total' | 'log_source_invalid_utf8_lines_total' | 'log_source_empty_lines_total'
  | 'log_source_files_opened_total' | 'log_source_files_closed_total' | 'log_source_rotations_total'
  | 'log_source_truncations_total' | 'log_source_backpressure_waits_total' | 'log_source_rate_limited_total'
  | 'log_source_acked_total' | 'log_source_checkpoint_writes_total' | 'log_source_errors_total'

interface Position { path: string; nextOffset: number }

/**
 * Tails the files matching some globs and hands normalised events to one sink through a
 * bounded, acknowledged queue. Component shape: config, inert constructor, start()/stop(),
 * counters. The sink calls `read()` for a batch and `ack(batch.upTo)` once the batch is
 * durable; only then do checkpoints advance (atomically written), so a crash or `kill -9`
 * re-sends at most the unacknowledged batch and loses nothing.
 *
 * Rotation: rename-and-create (old descriptor read to its end, new file picked up by the
 * glob), copytruncate / truncation (size < offset, or the head bytes changed → restart at 0
 * with a new fingerprint),
 * deleted-but-open files (read to the end, then closed), files appearing later (glob
 * re-scan), compressed rotations never read.
 */
export class FileSource {
  readonly counters = new Counters<FileSourceCounter>()
  private readonly cfg: FileSourceConfig
  private readonly log: Logger | undefined
  private readonly now: () => number
  private readonly queue: DeliveryQueue<Position>
  private readonly store: CheckpointStore
  private readonly files = new Map<string, TailedFile>()
  private running = false
  private loopDone: Promise<void> | null = null
  private wake: (() => void) | null = null
  private lastGlobMs = 0
  private tokens = 0
  private lastRefillMs = 0
  private ackChain: Promise<void> = Promise.resolve()

  constructor(cfg: FileSourceConfig, deps: { log?: Logger; now?: () => number } = {}) {
    this.cfg = cfg
    this.log = deps.log
    this.now = deps.now ?? Date.now
    this.queue = new DeliveryQueue<Position>(cfg.queueCapacity)
    this.store = new CheckpointStore(cfg.stateDir, cfg.name)
  }

  async start(): Promise<void> {
    if (this.running) return
    try {
      await this.store.load()
    } catch (err) {
      throw new AgentError(AgentErrorCode.LOG_SOURCE_FAILED, `log source ${this.cfg.name}: cannot read checkpoints ${this.store.path}: ${(err as Error).message}`, { cause: err })
    }
    this.running = true
    this.lastRefillMs = this.now()
    this.tokens = this.cfg.maxBytesPerSecond
    await this.discover()
    // Once per start, so a glob that matches nothing (a typo, a service not installed yet) is visible.
    if (this.files.size === 0) this.log?.warn({ source: this.cfg.name, include: this.cfg.include }, 'no file matches this log source yet; files that appear later are picked up')
    else this.log?.info({ source: this.cfg.name, files: this.files.size }, 'tailing log files')
    this.loopDone = this.loop()
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.wake?.()
    await this.loopDone
    this.queue.close()
    await this.ackChain
    for (const f of this.files.values()) await f.fh.close().catch(() => undefined)
    this.files.clear()
    await this.store.flush()
  }

  /** Next batch (≤ max events), waiting up to waitMs for the first; null if none. */
  read(max: number, waitMs: number): Promise<Delivery | null> {
    return this.queue.take(max, waitMs)
  }

  /** The sink has durably handed on everything up to `upTo`: advance and persist checkpoints. */
  ack(upTo: number): Promise<void> {
    const next = this.ackChain.then(async () => {
      const covered = this.queue.ack(upTo)
      for (const [fp, pos] of covered) this.store.set(fp, pos.path, pos.nextOffset)
      if (await this.store.flush()) this.counters.inc('log_source_checkpoint_writes_total')
      this.counters.inc('log_source_acked_total')
      this.wake?.()
    })
    this.ackChain = next.catch(() => undefined)
    return next
  }

  /** Bytes behind the end of all open files (gauge). */
  lagBytes(): number {
    let lag = 0
    for (const f of this.files.values()) lag += f.lag
    return lag
  }

  snapshot(): Record<string, number> {
    return { ...this.counters.snapshot(), log_source_lag_bytes: this.lagBytes(), log_source_open_files: this.files.size, log_source_queued_events: this.queue.size }
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let worked = false
      try {
        if (this.now() - this.lastGlobMs >= this.cfg.globIntervalMs) await this.discover()
        if (!this.queue.hasRoom()) {
          this.counters.inc('log_source_backpressure_waits_total')
          await Promise.race([this.queue.waitForRoom(), this.sleep(this.cfg.pollIntervalMs)])
          continue
        }
        for (const f of [...this.files.values()]) {
          if (!this.running || !this.queue.hasRoom()) break
          if (await this.pump(f)) worked = true
        }
      } catch (err) {
        this.counters.inc('log_source_errors_total')
        this.log?.warn({ err: (err as Error).message }, 'log source iteration failed')
      }
      if (!worked) await this.sleep(this.cfg.pollIntervalMs)
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve() }, ms)
      this.wake = () => { clearTimeout(t); this.wake = null; resolve() }
    })
  }

  /** Expands the globs: opens new files, notices rotated/deleted ones. */
  private async discover(): Promise<void> {
    this.lastGlobMs = this.now()
    const excluded = new Set<string>()
    for (const g of this.cfg.exclude) for (const p of await expandGlob(g)) excluded.add(p)
    const seen = new Set<string>()
    for (const g of this.cfg.include) {
      for (const p of await expandGlob(g)) {
        if (excluded.has(p) || isCompressedRotation(p)) continue
        let st
        try { st = await stat(p, { bigint: true }) } catch { continue }
        const id = `${st.dev}:${st.ino}`
        seen.add(id)
        const known = this.files.get(id)
        if (known) { if (known.path !== p) known.path = p; continue }
        try {
          const fh = await open(p, 'r')
          const fst = await fh.stat({ bigint: true })
          const f = new TailedFile(p, fh, fst.dev, fst.ino, this.cfg.maxLineBytes, this.now())
          this.files.set(f.identity, f)
          this.counters.inc('log_source_files_opened_total')
        } catch (err) {
          this.counters.inc('log_source_errors_total')
          this.log?.warn({ path: p, err: (err as Error).message }, 'cannot open log file')
        }
      }
    }
    for (const f of this.files.values()) {
      if (!f.detached && !seen.has(f.identity)) {
        f.detached = true
        this.counters.inc('log_source_rotations_total')
      }
    }
  }

  private refill(): number {
    if (this.cfg.maxBytesPerSecond <= 0) return Number.MAX_SAFE_INTEGER
    const now = this.now()
    this.tokens = Math.min(this.cfg.maxBytesPerSecond, this.tokens + ((now - this.lastRefillMs) * this.cfg.maxBytesPerSecond) / 1000)
    this.lastRefillMs = now
    return Math.floor(this.tokens)
  }

  /** One step for one file; true when bytes were consumed. */
  private async pump(f: TailedFile): Promise<boolean> {
    const st = await f.fh.stat({ bigint: true })
    const size = Number(st.size)
    const now = this.now()
    // copytruncate or truncation: the content before is gone; start over as a new file. Seen
    // by the size when it is below the read position, by the head bytes when the file was
    // written past that position again before this look (checked whenever the size moved).
    if (f.fingerprint !== null && (size < f.framer.offset || (size !== f.size && !(await headUnchanged(f.fh, f.fingerprint))))) {
      this.counters.inc('log_source_truncations_total')
      f.fingerprint = null
      f.framer.reset(0)
    }
    f.size = size
    if (f.fingerprint === null) {
      const force = now - f.lastGrowthMs >= this.cfg.partialLineTimeoutMs
      const fp = await fingerprintFile(f.fh, f.dev, f.ino, this.cfg.fingerprintBytes, force)
      if (fp === null) return this.maybeClose(f, now)
      f.fingerprint = fp
      const cp = this.store.get(fp.id)
      const start = cp && cp.offset <= size ? cp.offset : 0
      f.framer.reset(start)
    }
    if (size > f.framer.offset) {
      const budget = this.refill()
      if (budget < 1) { this.counters.inc('log_source_rate_limited_total'); return false }
      const want = Math.min(this.cfg.readChunkBytes, size - f.framer.offset, budget)
      const buf = Buffer.allocUnsafe(want)
      const { bytesRead } = await f.fh.read(buf, 0, want, f.framer.offset)
      if (bytesRead <= 0) return false
      if (this.cfg.maxBytesPerSecond > 0) this.tokens -= bytesRead
      this.counters.inc('log_source_bytes_total', bytesRead)
      const fp = f.fingerprint.id
      f.framer.push(buf.subarray(0, bytesRead), (fr) => this.emit(f, fp, fr))
      f.lastGrowthMs = now
      return true
    }
    if (f.framer.pendingBytes > 0 && now - f.lastGrowthMs >= this.cfg.partialLineTimeoutMs) {
      const fp = f.fingerprint.id
      f.framer.flushPartial((fr) => this.emit(f, fp, fr))
      return true
    }
    return this.maybeClose(f, now)
  }

  private async maybeClose(f: TailedFile, now: number): Promise<false> {
    if (f.detached && now - f.lastGrowthMs >= this.cfg.rotatedKeepMs) {
      this.files.delete(f.identity)
      await f.fh.close().catch(() => undefined)
      this.counters.inc('log_source_files_closed_total')
    }
    return false
  }

  private emit(f: TailedFile, fp: string, fr: Frame): void {
    if (fr.text.length === 0 && !fr.truncated) {
      this.counters.inc('log_source_empty_lines_total')
      return
    }
    const ev: LogEvent = parseLogLine(fr.text, this.cfg.type, this.cfg.year === undefined ? { nowMs: this.now() } : { nowMs: this.now(), year: this.cfg.year })
    ev['event.id'] = `${fp}:${fr.offset}`
    ev['log.file.path'] = f.path
    ev['log.offset'] = fr.offset
    if (fr.truncated) { ev['telltale.truncated'] = true; this.counters.inc('log_source_truncated_lines_total') }
    if (fr.invalidUtf8) { ev['telltale.invalid_utf8'] = true; this.counters.inc('log_source_invalid_utf8_lines_total') }
    if (ev['telltale.parse_failure']) this.counters.inc('log_source_parse_failures_total')
    this.counters.inc('log_source_lines_total')
    this.queue.push(ev, fp, { path: f.path, nextOffset: fr.nextOffset })
  }
}
