/**
 * A stored batch read back by a follower that fell behind or restarted (topology merge,
 * detection): the same StoredBatch ingest hands over live, rebuilt from the stored segments.
 * Each segment is the batch's own entries of its field, byte for byte, so together they
 * decode as one Batch. The agent's stats are not stored per batch: a batch read back
 * carries none. `parts` leaves out what the follower does not read (no I/O for it).
 */
import { Batch } from '../../protocol/index.js'
import { decodeFlowSegment, type FlowRecord } from '../ingest/flow-decode.js'
import type { StoredBatch } from '../ingest/ingest-service.js'
import type { BatchRecord, CollectorStore } from '../storage/index.js'

export interface ReadParts {
  events: boolean
  appRecords: boolean
}

export const ALL_PARTS: ReadParts = { events: true, appRecords: true }

export async function readStoredBatch(store: CollectorStore, rec: BatchRecord, parts: ReadParts = ALL_PARTS): Promise<StoredBatch> {
  const f = store.flows
  const segs: Buffer[] = []
  const flowSegment = rec.flowMinTsUs === undefined ? undefined : await f.segment({ minTsUs: rec.flowMinTsUs, n: rec.n })
  if (parts.events && rec.eventMinTsUs !== undefined) segs.push((await f.eventSegment({ minTsUs: rec.eventMinTsUs, n: rec.n })) ?? Buffer.alloc(0))
  if (rec.observationMinTsUs !== undefined) segs.push((await f.observationSegment({ minTsUs: rec.observationMinTsUs, n: rec.n })) ?? Buffer.alloc(0))
  if (parts.appRecords && rec.appMinTsUs !== undefined) segs.push((await f.appSegment({ minTsUs: rec.appMinTsUs, n: rec.n })) ?? Buffer.alloc(0))
  if (rec.gaps > 0) segs.push((await f.gapSegment(rec.agentId, rec.n)) ?? Buffer.alloc(0))
  const seg = flowSegment ?? Buffer.alloc(0)
  let decoded: FlowRecord[] | undefined
  const rest = Batch.decode(Buffer.concat(segs))
  rest.sentAtUs = rec.sentAtUs
  return {
    agentId: rec.agentId, n: rec.n, receivedAtUs: rec.receivedAtUs, sentAtUs: rec.sentAtUs,
    flowSegment: seg, flows: () => (decoded ??= decodeFlowSegment(seg)), rest,
  }
}
