/**
 * The collector's threat intel: named feeds, each a sealed IndicatorIndex. Feeds come from
 * the API (`POST /api/v1/intel/feeds`, kept in the store so they survive a restart) and
 * from files listed in the configuration, re-read when their size or mtime changes
 * (polled every `reload_interval_s`). A reload parses into a new index and swaps it in;
 * matching never sees a half-built feed. Component shape: inert constructor, start/stop.
 */
import { readFile, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import type { IndicatorIndex } from './indicator-index.js'
import type { FeedFormat, IndicatorKind, IntelMatch } from './indicator-types.js'
import { parseFeed } from './parse-feed.js'

export interface IntelConfig {
  files: readonly string[]
  reloadIntervalS: number
  maxFeeds: number
}

export interface FeedInfo {
  name: string
  format: FeedFormat
  source: 'api' | 'file'
  path?: string
  indicators: number
  byKind: Record<IndicatorKind, number>
  skipped: number
  loadedAt: string
}

/** Where API feeds are persisted (collector/storage implements it). */
export interface FeedPersistence {
  put(name: string, format: FeedFormat, body: Buffer): Promise<void>
  delete(name: string): Promise<void>
  all(): AsyncIterable<{ name: string; format: FeedFormat; body: Buffer }>
}

export type IntelCounter = 'intel_feeds_loaded_total' | 'intel_feed_errors_total' | 'intel_lookups_total' | 'intel_matches_total'

interface Feed { info: FeedInfo; index: IndicatorIndex }

export class IntelService {
  readonly counters = new Counters<IntelCounter>()
  private readonly feeds = new Map<string, Feed>()
  private list: Feed[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly fileStamps = new Map<string, string>()

  constructor(private readonly cfg: IntelConfig, private readonly persistence: FeedPersistence | undefined, private readonly log: Logger) {}

  async start(): Promise<void> {
    if (this.persistence) {
      for await (const f of this.persistence.all()) this.install(f.name, f.body.toString('utf8'), f.format, 'api')
    }
    await this.pollFiles()
    if (this.cfg.files.length > 0) {
      this.timer = setInterval(() => { void this.pollFiles() }, this.cfg.reloadIntervalS * 1000)
      this.timer.unref()
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  /** Re-reads every configured file whose size or mtime changed. */
  async pollFiles(): Promise<void> {
    for (const path of this.cfg.files) {
      try {
        const s = await stat(path)
        const stamp = `${s.size}:${s.mtimeMs}`
        if (this.fileStamps.get(path) === stamp) continue
        this.fileStamps.set(path, stamp)
        const text = await readFile(path, 'utf8')
        const r = this.install(`file:${basename(path)}`, text, undefined, 'file', path)
        if (!r.ok) this.log.warn({ path, error: r.error }, 'intel feed file not loaded')
        else this.log.info({ path, indicators: r.info.indicators }, 'intel feed file loaded')
      } catch (err) {
        this.counters.inc('intel_feed_errors_total')
        if (this.fileStamps.get(path) !== 'missing') this.log.warn({ path, err: (err as Error).message }, 'intel feed file unreadable')
        this.fileStamps.set(path, 'missing')
      }
    }
  }

  /** Parses and installs (replacing a feed of the same name). */
  install(name: string, text: string, format: FeedFormat | undefined, source: 'api' | 'file', path?: string): { ok: true; info: FeedInfo } | { ok: false; error: string } {
    if (!this.feeds.has(name) && this.feeds.size >= this.cfg.maxFeeds) return { ok: false, error: `at most ${this.cfg.maxFeeds} feeds (intel.max_feeds)` }
    const r = parseFeed(text, format)
    if (!r.ok) { this.counters.inc('intel_feed_errors_total'); return r }
    const info: FeedInfo = {
      name, format: r.format, source, indicators: r.index.size, byKind: { ...r.index.counts }, skipped: r.skipped, loadedAt: new Date().toISOString(),
      ...(path !== undefined ? { path } : {}),
    }
    this.feeds.set(name, { info, index: r.index })
    this.list = [...this.feeds.values()]
    this.counters.inc('intel_feeds_loaded_total')
    return { ok: true, info }
  }

  /** Loads a feed from the API and persists it. */
  async addFeed(name: string, body: Buffer, format?: FeedFormat): Promise<{ ok: true; info: FeedInfo } | { ok: false; error: string }> {
    const r = this.install(name, body.toString('utf8'), format, 'api')
    if (r.ok && this.persistence) await this.persistence.put(name, r.info.format, body)
    return r
  }

  async removeFeed(name: string): Promise<boolean> {
    const f = this.feeds.get(name)
    if (f === undefined || f.info.source !== 'api') return false
    this.feeds.delete(name)
    this.list = [...this.feeds.values()]
    if (this.persistence) await this.persistence.delete(name)
    return true
  }

  feedInfos(): FeedInfo[] { return this.list.map((f) => f.info) }

  get empty(): boolean { return this.list.length === 0 }

  /** See IndicatorIndex.matchIpV4 (`text` omitted: built from `n` on a match only). */
  matchIpV4(n: number, text?: string): IntelMatch | undefined {
    for (const f of this.list) {
      const m = f.index.matchIpV4(n, text)
      if (m) return { feed: f.info.name, ...m }
    }
    return undefined
  }

  matchIp(ip: string): IntelMatch | undefined {
    for (const f of this.list) {
      const m = f.index.matchIp(ip)
      if (m) return { feed: f.info.name, ...m }
    }
    return undefined
  }

  matchDomain(name: string): IntelMatch | undefined {
    for (const f of this.list) {
      const m = f.index.matchDomain(name)
      if (m) return { feed: f.info.name, ...m }
    }
    return undefined
  }

  matchUrl(url: string): IntelMatch | undefined {
    for (const f of this.list) {
      const m = f.index.matchUrl(url)
      if (m) return { feed: f.info.name, ...m }
    }
    return undefined
  }

  matchHash(kind: 'ja3' | 'ja4' | 'cert_hash', value: string): IntelMatch | undefined {
    for (const f of this.list) {
      const m = f.index.matchHash(kind, value)
      if (m) return { feed: f.info.name, ...m }
    }
    return undefined
  }
}
