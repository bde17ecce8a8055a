/**
 * Per-hour roll-ups for /flows/top: for every hour bucket, the flows / IP bytes / packets of
 * each talker (address), service and responder port, counted per stored RECORD exactly as
 * the raw scan counts them (every agent's record; a flow without a service counts under
 * "-"; an address is counted once when orig = resp). Maintained by the topology merge
 * (every stored batch passes through it, also on replay and rebuild) and persisted in the
 * same atomic write as the topology and its watermark (`rt` table, storage/keys.ts), so
 * they always agree with the batches the watermark says were merged.
 *
 * In memory: what was merged since the last flush (deltas), and the last flushed totals of
 * the few most recent buckets (so a flush does not re-read them). Reads see the store,
 * i.e. the state of the last flush (topology.flush_interval_ms, 1 s by default).
 */
import type { CollectorStore } from '../storage/index.js'
import { l4Of } from './flow-view.js'

export const HOUR_US = 3_600_000_000
export type TopRollupGroup = 'talkers' | 'services' | 'ports'
export const TOP_ROLLUP_GROUPS: readonly TopRollupGroup[] = ['talkers', 'services', 'ports']

export interface Counts { flows: number; bytes: number; packets: number }
type Table = Map<string, Counts>
type Tables = [Table, Table, Table]

/** Flushed totals kept in memory (the most recently flushed hour buckets). */
const KEEP_BUCKETS = 3

function add(t: Table, key: string, bytes: number, packets: number, flows = 1): void {
  const c = t.get(key)
  if (c === undefined) t.set(key, { flows, bytes, packets })
  else { c.flows += flows; c.bytes += bytes; c.packets += packets }
}

const tables = (): Tables => [new Map(), new Map(), new Map()]

export class TopRollups {
  private deltas = new Map<number, Tables>()
  private readonly flushed = new Map<number, Tables>()
  private lastBucket = -1
  private last: Tables | undefined

  constructor(private readonly store: CollectorStore) {}

  /** "tcp/443" by transport << 16 | port, and service lists split (texts the raw scan makes), built once. */
  private readonly portKeys = new Map<number, string>()
  private readonly serviceLists = new Map<string, string[]>()

  private portKey(transport: number, port: number): string {
    const k = transport * 65536 + port
    let v = this.portKeys.get(k)
    if (v === undefined) { v = `${l4Of(transport)}/${port}`; if (this.portKeys.size < 100_000) this.portKeys.set(k, v) }
    return v
  }

  private servicesOf(service: string): string[] {
    let v = this.serviceLists.get(service)
    if (v === undefined) { v = service === '' ? ['-'] : service.split(','); if (this.serviceLists.size < 10_000) this.serviceLists.set(service, v) }
    return v
  }

  /** One stored flow record (address texts, the comma-joined service, transport number and responder port). */
  add(tsUs: number, orig: string, resp: string, service: string, transport: number, respPort: number, bytes: number, packets: number): void {
    const b = Math.floor(tsUs / HOUR_US) * HOUR_US
    let t = b === this.lastBucket ? this.last : this.deltas.get(b)
    if (t === undefined) { t = tables(); this.deltas.set(b, t) }
    this.lastBucket = b
    this.last = t
    add(t[0], orig, bytes, packets)
    if (resp !== orig) add(t[0], resp, bytes, packets)
    for (const s of this.servicesOf(service)) add(t[1], s, bytes, packets)
    add(t[2], this.portKey(transport, respPort), bytes, packets)
  }

  get pending(): boolean { return this.deltas.size > 0 }

  /** Takes the deltas merged so far (synchronously, with the rest of the flush's snapshot). */
  takeDeltas(): Map<number, Tables> {
    const d = this.deltas
    this.deltas = new Map()
    this.lastBucket = -1
    this.last = undefined
    return d
  }

  private async storedTables(bucketUs: number): Promise<Tables> {
    const t = tables()
    for (let g = 0; g < 3; g++) {
      for await (const r of this.store.topology.topRollups(bucketUs, g)) t[g as 0 | 1 | 2].set(r.key, { flows: r.flows, bytes: r.bytes, packets: r.packets })
    }
    return t
  }

  /**
   * Hands `put` the rows to write for taken deltas: stored (or remembered) totals plus the
   * deltas, as (bucket, group, key, totals); `put` must not keep `totals` (it is the running
   * count, changed by later flushes). Flushes are serialised, so the store holds the previous
   * flush's values. Call `remember()` with the returned totals once the write is durable.
   * `maybeYield` is awaited every 256 rows (the caller's slicing). No row object per row: a
   * busy flush has tens of thousands.
   */
  async rows(deltas: Map<number, Tables>, put: (bucketUs: number, group: number, key: string, totals: Counts) => void, maybeYield: () => Promise<void> = async () => undefined): Promise<Map<number, Tables>> {
    const totals = new Map<number, Tables>()
    let n = 0
    for (const [bucketUs, d] of deltas) {
      const base = this.flushed.get(bucketUs) ?? await this.storedTables(bucketUs)
      for (let g = 0; g < 3; g++) {
        const t = base[g as 0 | 1 | 2]
        for (const key of d[g as 0 | 1 | 2].keys()) {
          const c = d[g as 0 | 1 | 2].get(key)!
          let tot = t.get(key)
          if (tot === undefined) t.set(key, tot = { flows: c.flows, bytes: c.bytes, packets: c.packets })
          else { tot.flows += c.flows; tot.bytes += c.bytes; tot.packets += c.packets }
          put(bucketUs, g, key, tot)
          if ((++n & 255) === 0) await maybeYield()
        }
      }
      totals.set(bucketUs, base)
    }
    return totals
  }

  /** After the write: remembers the totals of the most recent buckets. */
  remember(totals: Map<number, Tables>): void {
    for (const [b, t] of totals) this.flushed.set(b, t)
    const keep = [...this.flushed.keys()].sort((a, b) => b - a).slice(0, KEEP_BUCKETS)
    for (const b of [...this.flushed.keys()]) if (!keep.includes(b)) this.flushed.delete(b)
  }

  /** Forgets remembered totals (a failed write, a rebuild). */
  forget(): void { this.flushed.clear() }

  /** A group's rows over the hour buckets in [fromUs, toUs) as of the last flush (one range scan). */
  async *stored(fromUs: number, toUs: number, group: TopRollupGroup): AsyncGenerator<{ key: string } & Counts> {
    const g = TOP_ROLLUP_GROUPS.indexOf(group)
    for await (const r of this.store.topology.topRollupsRange(fromUs, toUs)) if (r.group === g) yield r
  }

  clear(): void { this.deltas.clear(); this.flushed.clear(); this.lastBucket = -1; this.last = undefined }
}
