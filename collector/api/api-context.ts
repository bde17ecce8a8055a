/** What the query plugins share: the store, the merged topology, the segment cache and limits. */
import type { CollectorStore } from '../storage/index.js'
import type { TopologyService } from '../topology/topology-service.js'
import type { SegmentCache } from '../query/segment-cache.js'
import type { IngestService } from '../ingest/ingest-service.js'
import type { Logger } from '../util/logger.js'

export interface ApiContext {
  store: CollectorStore
  topology: TopologyService
  ingest: IngestService
  cache: SegmentCache
  log: Logger
  /** Alert events ('alert' → { kind, alert }) for the SSE stream; set by buildApp once detection is wired (issue 7). */
  alerts?: { on(event: 'alert', fn: (e: { kind: string; alert: unknown }) => void): unknown; off(event: 'alert', fn: (e: { kind: string; alert: unknown }) => void): unknown }
  /** Alerts by host and their count; set by buildApp once detection is wired. */
  alertQuery?: (q: { host?: string; limit?: number }) => unknown[]
  alertCount?: () => number
  /** Detection and webhook figures for /metrics (backlog, findings, drops, errors); set by buildApp once detection is wired. */
  detectionFigures?: () => Record<string, number>
  /** Longest wait of a topology read for the merge to hold every batch acked before it (topology-read.ts; ms). */
  topologyReadWaitMs?: number
  /** /api/v1/topology answer cache (topology-answers.ts): staleness bound, background refresh age, build slice (ms). */
  topologyAnswers?: { maxStalenessMs: number; refreshMs: number; sliceMs: number }
  limits: {
    /** Flows examined at most by /flows/top and /timeseries from raw flows. */
    maxScan: number
    /** Largest page of /flows and /events as JSON. */
    maxPage: number
    /** Most records of one NDJSON export. */
    maxExport: number
    /** Agents not heard from for this long are offline. */
    onlineAfterMs: number
    maxStreams: number
  }
}
