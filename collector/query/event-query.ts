/** Normalised log events (ECS names with "_" for "."), filtered, in segment order with a cursor. */
import { Batch, type LogEvent } from '../../protocol/index.js'
import type { CollectorStore } from '../storage/index.js'
import type { Cursor } from './time-params.js'

export interface EventFilter {
  fromUs: number
  toUs: number
  dataset?: string
  category?: string
  action?: string
  outcome?: string
  sourceIp?: string
  destinationIp?: string
  user?: string
  hostName?: string
  agent?: string
  q?: string
}

export interface EventHit { cursor: Cursor; agentId: string; event: Record<string, unknown> }

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)

export function eventJson(id: string, agentId: string, e: LogEvent): Record<string, unknown> {
  const o: Record<string, unknown> = { id, agent_id: agentId }
  const plain = (Batch.toObject(Batch.create({ events: [e] }), { longs: Number, defaults: false }) as { events: Record<string, unknown>[] }).events[0] ?? {}
  for (const [k, v] of Object.entries(plain)) o[snake(k)] = v
  // Dates past ±8.64e15 ms have no ISO form: such an event keeps only timestamp_ms.
  if (typeof e.timestampMs === 'number' && Math.abs(e.timestampMs) <= 8.64e15) o['@timestamp'] = new Date(e.timestampMs).toISOString()
  return o
}

/**
 * An event's place in time for queries, in 0..2^53-1 µs: a time before 1970 (Go's zero time
 * "0001-01-01" is common in JSON logs) counts as 1970, one past 2255 as the end of time, so
 * such events are still listed (with their own timestamp_ms) instead of lying outside every
 * window. Ingest files their segments the same way.
 */
export function eventQueryTimeUs(timestampMs: number | null | undefined): number {
  const us = (timestampMs ?? 0) * 1000
  return us < 0 ? 0 : us > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : us
}

function matches(e: LogEvent, f: EventFilter): boolean {
  const ts = eventQueryTimeUs(e.timestampMs)
  if (ts < f.fromUs || ts > f.toUs) return false
  if (f.dataset !== undefined && e.eventDataset !== f.dataset) return false
  if (f.category !== undefined && !e.eventCategory.includes(f.category)) return false
  if (f.action !== undefined && e.eventAction !== f.action) return false
  if (f.outcome !== undefined && e.eventOutcome !== f.outcome) return false
  if (f.sourceIp !== undefined && e.sourceIp !== f.sourceIp) return false
  if (f.destinationIp !== undefined && e.destinationIp !== f.destinationIp) return false
  if (f.user !== undefined && e.userName !== f.user) return false
  if (f.hostName !== undefined && e.hostName !== f.hostName) return false
  if (f.q !== undefined && !e.message.toLowerCase().includes(f.q.toLowerCase())) return false
  return true
}

/** Event segments record only their oldest time; segments starting up to 1 h before `from` are read too. */
const SLACK_US = 3_600_000_000

export async function* queryEvents(store: CollectorStore, f: EventFilter, after?: Cursor): AsyncGenerator<EventHit> {
  const agentOf = new Map<number, string>()
  for await (const s of store.flows.eventSegments(f.fromUs, f.toUs, SLACK_US, after === undefined ? undefined : { minTsUs: after.minTsUs, n: after.n - 1 })) {
    let agentId = agentOf.get(s.n)
    if (agentId === undefined) {
      agentId = (await store.batches.batchRecord(s.n))?.agentId ?? ''
      agentOf.set(s.n, agentId)
    }
    if (f.agent !== undefined && agentId !== f.agent) continue
    const events = Batch.decode(s.bytes).events as LogEvent[]
    const same = after !== undefined && after.minTsUs === s.minTsUs && after.n === s.n
    for (let i = 0; i < events.length; i++) {
      if (same && i <= after.i) continue
      const e = events[i]!
      if (matches(e, f)) yield { cursor: { minTsUs: s.minTsUs, n: s.n, i }, agentId, event: eventJson(`${s.n}:${i}`, agentId, e) }
    }
  }
}
