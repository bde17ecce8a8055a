/**
 * Shipping bench: encoded bytes per flow (raw protobuf, and compressed as the agent stores
 * and sends batches: flow chunks DEFLATEd at level 6 in a stored gzip member, the rest in a
 * level-6 member) and the
 * agent-side encode rate (ConnRecord → Batch bytes, and with the compression), on the flows
 * of a generated capture (bench/generate-capture.ts, mix profile).
 *
 * Usage: node dist/bench/ship-bench.js [--flows N]   (also `npm run bench ship` when registered)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { deflateFlowRunsSync, flowChunkEntries, gzipShippedBodySync } from '../protocol/index.js'
import { replayFiles } from '../agent/cli/commands/replay.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { BatchBodyWriter, encodeBatchHeader, joinRest } from '../agent/ship/batch-encoder.js'
import { BATCHER_DEFAULTS } from '../agent/ship/batcher.js'
import { connRecordToFlow } from '../agent/ship/flow-encoding.js'
import { generateCapture } from './generate-capture.js'

export interface ShipBenchResult {
  flows: number
  batches: number
  rawBytesPerFlow: number
  gzipBytesPerFlow: number
  encodeFlowsPerSec: number
  encodeGzipFlowsPerSec: number
}

function encodeAll(recs: readonly ConnRecord[], gzip: boolean): { batches: Buffer[]; raw: number; seconds: number } {
  const t0 = process.hrtime.bigint()
  const out: Buffer[] = []
  let raw = 0
  let w = new BatchBodyWriter()
  let seq = 1
  const close = (): void => {
    const body = w.finish()
    const header = encodeBatchHeader({ agentId: 'agt_bench', epoch: 1, seq: seq++, sentAtUs: Date.now() * 1000, gaps: [] })
    raw += header.length + body.length
    // As the spool does it (on libuv's pool there; on this thread here): chunks at level 6, stored in one gzip member, the rest in another at level 6.
    out.push(gzip ? gzipShippedBodySync(flowChunkEntries(deflateFlowRunsSync(body.flowRuns, 6)), joinRest(header, body), 6) : Buffer.concat([header, ...body.flowRuns, body.records]))
    w = new BatchBodyWriter()
  }
  for (const r of recs) {
    w.addFlow(connRecordToFlow(r))
    if (w.bytes >= BATCHER_DEFAULTS.maxBatchBytes || w.items >= BATCHER_DEFAULTS.maxBatchRecords) close()
  }
  if (w.bytes > 0) close()
  return { batches: out, raw, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }
}

export async function benchShip(opts: { flows?: number } = {}): Promise<ShipBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-ship-bench-'))
  try {
    const pcap = join(dir, 'mix.pcap')
    generateCapture(pcap, { flows: opts.flows ?? 100_000, seed: 7 })
    const recs: ConnRecord[] = []
    await replayFiles([pcap], { quiet: true, ignoreChecksums: true }, { onConn: (r) => recs.push(r) })
    encodeAll(recs.slice(0, 5000), false) // warm-up
    const plain = encodeAll(recs, false)
    const gz = encodeAll(recs, true)
    const gzBytes = gz.batches.reduce((n, b) => n + b.length, 0)
    const res: ShipBenchResult = {
      flows: recs.length,
      batches: plain.batches.length,
      rawBytesPerFlow: plain.raw / recs.length,
      gzipBytesPerFlow: gzBytes / recs.length,
      encodeFlowsPerSec: recs.length / plain.seconds,
      encodeGzipFlowsPerSec: recs.length / gz.seconds,
    }
    console.log(`\n== ship: ${res.flows} flows (generated mix capture) in ${res.batches} batches of ≤ ${BATCHER_DEFAULTS.maxBatchBytes / 1024} KiB`)
    console.log(`  bytes per flow      raw ${res.rawBytesPerFlow.toFixed(1)} B   compressed (chunks level 6, rest gzip 6) ${res.gzipBytesPerFlow.toFixed(1)} B   (target ≤ 60 B gzipped)`)
    console.log(`  agent encode rate   ${Math.round(res.encodeFlowsPerSec).toLocaleString('en')} flows/s (protobuf)   ${Math.round(res.encodeGzipFlowsPerSec).toLocaleString('en')} flows/s (protobuf + gzip), one core`)
    return res
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const i = process.argv.indexOf('--flows')
  await benchShip(i > 0 ? { flows: Number(process.argv[i + 1]) } : {})
}
