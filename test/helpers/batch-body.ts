/**
 * A BatchBody (agent/ship/batch-encoder.ts) decoded as the collector would read it: the flow
 * runs compressed into `flow_chunks` and inflated back, `flows` filled from them.
 */
import { gunzipSync } from 'node:zlib'
import { Batch, batchFlows, deflateFlowRunsSync, flowChunkEntries } from '../../protocol/index.js'
import type { BatchBody } from '../../agent/ship/batch-encoder.js'

export function decodeBody(body: BatchBody, header: Uint8Array = new Uint8Array(0)): Batch {
  const b = Batch.decode(Buffer.concat([header, flowChunkEntries(deflateFlowRunsSync(body.flowRuns, 6)), body.records]))
  b.flows = batchFlows(b)
  return b
}

/** A spooled (gzipped) batch decoded, `flows` filled from its chunks. */
export function decodeSpooled(gz: Uint8Array): Batch {
  const b = Batch.decode(gunzipSync(gz))
  b.flows = batchFlows(b)
  return b
}
