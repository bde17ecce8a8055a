/**
 * The ingest core, without HTTP: verified agent + decompressed body → stored batch → Ack.
 *
 * Order of checks: protocol version (from the BatchHeader, before decoding the payload),
 * batch identity and agent, structure of every flow (batch-scan), the rest decoded by the
 * generated decoder; then dedup and ONE atomic write. Only after that write resolves is
 * the Ack produced. Concurrent copies of the same batch wait for the first and are acked
 * as duplicates; batches of one agent are written one at a time (exact agent totals).
 */
import { AgentStats, Batch, BatchHeader, encodeAck, Inventory, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION } from '../../protocol/index.js'
import { indexAddressOf, type IndexAddress } from '../storage/host-buckets.js'
import { CollectorError } from '../errors.js'
import { encodeFlowChunksAsync, storedChunkValue, type AgentRecord, type CollectorStore, type WriteOp } from '../storage/index.js'
import { encodeAppPayloadAsync } from '../storage/app-segment.js'
import { Counters } from '../util/counters.js'
import { joinEntries, scanBatch, type ScanLimits } from './batch-scan.js'
import { inflateChunksOnPool } from './flow-chunk-inflate.js'
import { decodeFlowSegment, type FlowRecord } from './flow-decode.js'
import { buildFlowIndex } from './flow-index.js'
import { eventQueryTimeUs } from '../query/event-query.js'
import { appRecordTimeUs } from '../query/app-record-query.js'


export interface IngestLimits {
  maxFlowsPerBatch: number
  /** Top-level entries (flows + events + observations + app records + …) per batch. */
  maxEntriesPerBatch: number
  /** Most bytes a batch's flow chunks may inflate to, all together (ingest.max_decompressed_bytes; default: no limit beyond the flows cap). */
  maxInflatedBytes?: number
}

export type IngestCounter =
  | 'ingest_batches_total' | 'ingest_duplicates_total' | 'ingest_flows_total' | 'ingest_events_total'
  | 'ingest_observations_total' | 'ingest_app_records_total' | 'ingest_gaps_total' | 'ingest_bytes_total' | 'ingest_rejected_total'
  | 'ingest_listener_errors_total' | 'ingest_bad_sent_at_header_total' | 'ingest_chunks_inflated_on_pool_total' | `ingest_rejected_${string}_total`

/** A batch once durable: what listeners (the topology merge) receive. */
export interface StoredBatch {
  agentId: string
  n: number
  receivedAtUs: number
  sentAtUs: number
  /** The batch's flows as stored (decode with decodeFlowSegment, flow-decode.ts). */
  flowSegment: Buffer
  /** The flow segment decoded once, on first call, for every listener (do not mutate). */
  flows: () => FlowRecord[]
  /** Everything else, decoded (events, observations, app records, stats, inventory, gaps). */
  rest: Batch
}

export interface IngestResult { ack: Uint8Array; duplicate: boolean; n: number; flows: number }

/** An agent clock further off than this is reported (onClockOffset: logged once an hour per agent). */
export const CLOCK_OFFSET_WARN_MS = 60_000

const GAP_KIND_FIELD: Record<number, 'flows' | 'events' | 'observations' | 'appRecords'> = { 1: 'flows', 2: 'events', 3: 'observations', 4: 'appRecords' }

/** The `ab` postings of a batch's app rows: each address → the rows naming it as id.orig_h or id.resp_h. */
function appHostIndex(records: readonly { origH?: Uint8Array | null; respH?: Uint8Array | null }[]): Map<IndexAddress, number[]> {
  const out = new Map<IndexAddress, number[]>()
  const post = (a: Uint8Array | null | undefined, i: number): void => {
    if (a === null || a === undefined) return
    const k = indexAddressOf(a)
    if (k === undefined) return
    const list = out.get(k)
    if (list === undefined) out.set(k, [i])
    else if (list[list.length - 1] !== i) list.push(i)
  }
  for (let i = 0; i < records.length; i++) { post(records[i]!.origH, i); post(records[i]!.respH, i) }
  return out
}

export class IngestService {
  readonly counters = new Counters<IngestCounter>()
  private readonly inFlight = new Map<string, Promise<IngestResult>>()
  private readonly storedListeners: ((b: StoredBatch) => void | Promise<void>)[] = []
  /** Called for a batch whose agent's clock is more than CLOCK_OFFSET_WARN_MS off (set by the entry point to log it, rate-limited). */
  onClockOffset: ((agentId: string, offsetMs: number) => void) | undefined

  constructor(private readonly store: CollectorStore, private readonly limits: IngestLimits) {}

  /**
   * Calls `fn` after each batch is durable, in order; the ack waits for a returned promise.
   * The topology merge and detection return nothing: they follow the store (BatchFollower),
   * so the ack never waits for them. Errors are counted, never fail the ingest.
   */
  onStored(fn: (b: StoredBatch) => void | Promise<void>): void {
    this.storedListeners.push(fn)
  }

  /** Counts a refusal by its error code (HTTP layer and this service both call it). */
  countRejection(err: CollectorError): void {
    this.counters.inc('ingest_rejected_total')
    this.counters.inc(`ingest_rejected_${err.code.slice('COLLECTOR_ERR_'.length).toLowerCase()}_total`)
  }

  /**
   * Verifies, stores and acks one batch. `sentAtUs`: the agent's clock when it sent the
   * request (SENT_AT_HEADER), recorded as the agent's clock offset.
   */
  async ingest(agent: AgentRecord, body: Buffer, nowMs = Date.now(), sentAtUs?: number): Promise<IngestResult> {
    if (body.length === 0) throw new CollectorError('EMPTY_BODY')
    let header: BatchHeader
    try {
      header = BatchHeader.decode(body)
    } catch (err) {
      throw new CollectorError('MALFORMED_BATCH', `the body is not a valid telltale.v1.Batch (${(err as Error).message})`)
    }
    if (header.protocolVersion < MIN_PROTOCOL_VERSION || header.protocolVersion > PROTOCOL_VERSION) {
      throw new CollectorError('PROTOCOL_VERSION', `the batch uses telltale protocol version ${header.protocolVersion}; this collector speaks versions ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`)
    }
    if (header.agentId !== agent.id) throw new CollectorError('AGENT_MISMATCH', `the batch names agent "${header.agentId.slice(0, 64)}" but was sent with the credential of agent "${agent.id}"`)
    if (!Number.isSafeInteger(header.seq) || header.seq < 1 || !Number.isSafeInteger(header.epoch) || header.epoch < 0) {
      throw new CollectorError('BATCH_IDENTITY', `batch epoch ${header.epoch} / seq ${header.seq} is invalid (seq starts at 1)`)
    }
    const key = `${agent.id}\u0000${header.epoch}\u0000${header.seq}`
    const running = this.inFlight.get(key)
    if (running !== undefined) {
      const first = await running
      this.counters.inc('ingest_duplicates_total')
      return { ...first, duplicate: true, ack: this.ack(agent.id, header.epoch, header.seq, true, Date.now()) }
    }
    const p = this.store.lock.run(`agent:${agent.id}`, () => this.process(agent.id, header.epoch, header.seq, body, nowMs, sentAtUs))
    this.inFlight.set(key, p)
    try {
      return await p
    } finally {
      this.inFlight.delete(key)
    }
  }

  private ack(agentId: string, epoch: number, seq: number, duplicate: boolean, nowMs: number): Uint8Array {
    return encodeAck({ agentId, epoch, seq, duplicate, serverTimeUs: nowMs * 1000, protocolVersion: PROTOCOL_VERSION })
  }

  private async process(agentId: string, epoch: number, seq: number, body: Buffer, nowMs: number, sentAtUs: number | undefined): Promise<IngestResult> {
    const stored = await this.store.batches.findStored(agentId, epoch, seq)
    if (stored !== undefined) {
      this.counters.inc('ingest_duplicates_total')
      return { ack: this.ack(agentId, epoch, seq, true, Date.now()), duplicate: true, n: stored, flows: 0 }
    }
    const limits: ScanLimits = {
      maxFlows: this.limits.maxFlowsPerBatch, maxEntries: this.limits.maxEntriesPerBatch, ...(this.limits.maxInflatedBytes !== undefined ? { maxInflatedBytes: this.limits.maxInflatedBytes } : {}),
    }
    let scan = scanBatch(body, limits)
    if (!scan.ok && scan.kind === 'past_loop_budget') {
      // Chunks that inflate far more than an agent's do: on the pool, not the event loop.
      this.counters.inc('ingest_chunks_inflated_on_pool_total')
      const parts = await inflateChunksOnPool(body, scan.chunks, this.limits.maxInflatedBytes)
      scan = Array.isArray(parts) ? scanBatch(body, { ...limits, inflated: parts }) : { ok: false, kind: parts.kind === 'too_large' ? 'too_large' : 'malformed', reason: parts.reason }
    }
    if (!scan.ok) {
      if (scan.kind === 'too_large') throw new CollectorError('DECOMPRESSED_TOO_LARGE', `${scan.reason} (ingest.max_decompressed_bytes)`)
      if (scan.kind === 'limit') throw new CollectorError('TOO_MANY_FLOWS', `${scan.reason} (ingest.max_flows_per_batch / ingest.max_entries_per_batch)`)
      throw new CollectorError('MALFORMED_BATCH', `the body is not a valid telltale.v1.Batch: ${scan.reason}`)
    }
    let rest: Batch
    try {
      rest = Batch.decode(scan.rest)
    } catch (err) {
      throw new CollectorError('MALFORMED_BATCH', `the body is not a valid telltale.v1.Batch (${(err as Error).message})`)
    }
    // Another check of the decoded values (protobufjs does not check enums or UTF-8).
    const verifyError = Batch.verify(rest)
    if (verifyError !== null) throw new CollectorError('MALFORMED_BATCH', `the body is not a valid telltale.v1.Batch: ${verifyError}`)

    const agent = await this.store.agents.get(agentId)
    if (agent === undefined) throw new CollectorError('UNKNOWN_AGENT')
    if (agent.revokedAt !== undefined) throw new CollectorError('REVOKED_AGENT')

    let eventMin = Infinity
    for (const e of rest.events) { const t = eventQueryTimeUs(e.timestampMs); if (t < eventMin) eventMin = t }
    let obsMin = Infinity
    for (const o of rest.hostObservations) { const t = Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, o.tsUs ?? 0)); if (t < obsMin) obsMin = t }
    let appMin = Infinity
    let appMax = 0
    for (const a of rest.appRecords) { const t = appRecordTimeUs(a.tsUs); if (t < appMin) appMin = t; if (t > appMax) appMax = t }
    const gapRecords = { ...agent.gapRecords }
    for (const g of rest.gaps) {
      const kind = GAP_KIND_FIELD[g.kind ?? 0]
      if (kind !== undefined) gapRecords[kind] += g.count ?? 0
    }
    const flowCount = scan.flows.count
    const updated: AgentRecord = {
      ...agent,
      lastSeenAt: new Date(nowMs).toISOString(),
      batches: agent.batches + 1,
      flows: agent.flows + flowCount,
      events: agent.events + rest.events.length,
      observations: agent.observations + rest.hostObservations.length,
      appRecords: agent.appRecords + rest.appRecords.length,
      gapRecords,
    }
    if (rest.stats?.version) updated.version = rest.stats.version
    if (sentAtUs !== undefined) {
      updated.clockOffsetMs = Math.round(sentAtUs / 1000 - nowMs)
      if (Math.abs(updated.clockOffsetMs) > CLOCK_OFFSET_WARN_MS) this.onClockOffset?.(agentId, updated.clockOffsetMs)
    }
    const stats = rest.stats ? Buffer.from(AgentStats.encode(rest.stats).finish()) : undefined
    const inventory = rest.inventory ? Buffer.from(Inventory.encode(rest.inventory).finish()) : undefined
    const extraOps = (n: number): WriteOp[] => {
      updated.lastBatch = { epoch, seq, n }
      const ops = [this.store.agents.recordOp(updated)]
      if (stats) ops.push(this.store.agents.statsOp(agentId, stats))
      if (inventory) ops.push(this.store.agents.inventoryOp(agentId, inventory))
      return ops
    }
    const flowSegment = scan.flowSegment
    // The agent's chunks as they came (protocol version 2); otherwise compressed here, in
    // slices between which the event loop runs, before the store numbers the batch.
    const flowChunks = flowCount === 0 ? [] : scan.flowChunks !== undefined ? scan.flowChunks.map(storedChunkValue) : await encodeFlowChunksAsync(flowSegment)
    const appSegment = joinEntries(body, scan.appRecordEntries)
    const appPayload = rest.appRecords.length > 0 ? await encodeAppPayloadAsync(appSegment) : undefined
    const n = await this.store.batches.write({
      agentId, epoch, seq,
      sentAtUs: rest.sentAtUs, receivedAtUs: nowMs * 1000,
      flowSegment, flowChunks, flowCount, flowIndex: buildFlowIndex(scan.flowBytes, scan.flows),
      eventSegment: joinEntries(body, scan.eventEntries), eventCount: rest.events.length, eventMinTsUs: eventMin === Infinity ? 0 : eventMin,
      observationSegment: joinEntries(body, scan.observationEntries), observationCount: rest.hostObservations.length,
      observationMinTsUs: obsMin === Infinity ? 0 : obsMin,
      gapSegment: joinEntries(body, scan.gapEntries), gapCount: rest.gaps.length,
      appSegment, ...(appPayload !== undefined ? { appPayload, appHosts: appHostIndex(rest.appRecords) } : {}), appCount: rest.appRecords.length,
      appMinTsUs: appMin === Infinity ? 0 : appMin, appMaxTsUs: appMax,
      extraOps,
    })
    this.store.agents.remember(updated)
    let decoded: FlowRecord[] | undefined
    const flows = (): FlowRecord[] => (decoded ??= decodeFlowSegment(flowSegment))
    const storedBatch: StoredBatch = { agentId, n, receivedAtUs: nowMs * 1000, sentAtUs: rest.sentAtUs, flowSegment, flows, rest }
    for (const fn of this.storedListeners) {
      try {
        const r = fn(storedBatch)
        if (r !== undefined) await r
      } catch {
        this.counters.inc('ingest_listener_errors_total')
      }
    }
    this.counters.inc('ingest_batches_total')
    this.counters.inc('ingest_flows_total', flowCount)
    this.counters.inc('ingest_events_total', rest.events.length)
    this.counters.inc('ingest_observations_total', rest.hostObservations.length)
    this.counters.inc('ingest_app_records_total', rest.appRecords.length)
    this.counters.inc('ingest_gaps_total', rest.gaps.length)
    this.counters.inc('ingest_bytes_total', body.length)
    return { ack: this.ack(agentId, epoch, seq, false, Date.now()), duplicate: false, n, flows: flowCount }
  }
}
