/**
 * A stored batch read back for detection (catching up after a restart or a full queue):
 * its flows, events, host observations, app rows and gaps as ingest stored them. The
 * agent's stats are not stored per batch, so a batch read back carries none (capture-loss
 * confidence then relies on the gaps and on later live batches).
 */
import { Batch } from '../../protocol/index.js'
import type { BatchRecord, CollectorStore } from '../storage/index.js'
import type { DetectionInput } from './detection-service.js'

export async function storedDetectionInput(store: CollectorStore, rec: BatchRecord): Promise<DetectionInput> {
  const f = store.flows
  const parts: Buffer[] = []
  const flowSegment = rec.flowMinTsUs === undefined ? undefined : await f.segment({ minTsUs: rec.flowMinTsUs, n: rec.n })
  if (rec.eventMinTsUs !== undefined) parts.push((await f.eventSegment({ minTsUs: rec.eventMinTsUs, n: rec.n })) ?? Buffer.alloc(0))
  if (rec.observationMinTsUs !== undefined) parts.push((await f.observationSegment({ minTsUs: rec.observationMinTsUs, n: rec.n })) ?? Buffer.alloc(0))
  if (rec.appMinTsUs !== undefined) parts.push((await f.appSegment({ minTsUs: rec.appMinTsUs, n: rec.n })) ?? Buffer.alloc(0))
  if (rec.gaps > 0) parts.push((await f.gapSegment(rec.agentId, rec.n)) ?? Buffer.alloc(0))
  // Each part is the batch's own entries of its field, byte for byte: together, a Batch.
  return { agentId: rec.agentId, n: rec.n, flowSegment: flowSegment ?? Buffer.alloc(0), rest: Batch.decode(Buffer.concat(parts)) }
}
