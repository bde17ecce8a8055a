/**
 * Detection catching up from the store (`npm run bench detection` prints it): how fast a
 * restarted collector reads back and examines the batches acked after detection's last
 * save — what an operator waits for after a crash or when detection fell behind a burst.
 * 40 batches of 5000 synthetic flows (bench/detection-bench.ts's mix) are acked while
 * detection looks away; the collector is stopped and started on the same data directory,
 * and the catch-up is timed from the end of start-up until detection is idle (wall clock and
 * CPU of the process); start-up (store open, topology load) is reported apart.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { encodeBatch, PROTOCOL_VERSION } from '../protocol/index.js'
import { enrollAgent, startCollector } from '../test/collector-fixtures.js'
import { syntheticFlows } from './detection-bench.js'

export interface CatchUpResult { batches: number; flows: number; startS: number; wallS: number; cpuS: number }

export async function benchCatchUp(batches = 40, perBatch = 5000): Promise<CatchUpResult> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-catch-up-bench-'))
  try {
    const c1 = await startCollector({ 'storage.sync': true }, dir)
    const { agentId, secret } = await enrollAgent(c1)
    c1.detection.detection.enqueue = () => {}
    for (let k = 0; k < batches; k++) {
      const flows = syntheticFlows(perBatch, 200 + k).map((f) => ({ ...f, tsUs: (f.tsUs as number) + k * 600_000_000 }))
      const body = gzipSync(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId, epoch: 1, seq: k + 1, sentAtUs: Date.now() * 1000, flows }))
      const r = await c1.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, payload: body })
      if (r.statusCode !== 200) throw new Error(`ingest ${r.statusCode} ${r.body}`)
    }
    await c1.close()
    const t0 = performance.now()
    const c2 = await startCollector({ 'storage.sync': true }, dir)
    // Start-up (store, topology load) first; detection's catch-up begins as it ends.
    const startS = (performance.now() - t0) / 1000
    const cpu1 = process.cpuUsage()
    const t1 = performance.now()
    try {
      await c2.detection.detection.idle()
      const wallS = (performance.now() - t1) / 1000
      const c = process.cpuUsage(cpu1)
      const read = c2.detection.detection.counters.get('detection_caught_up_batches_total')
      if (read !== batches) throw new Error(`caught up ${read} of ${batches} batches`)
      return { batches, flows: c2.detection.detection.counters.get('detection_flows_total'), startS, wallS, cpuS: (c.user + c.system) / 1e6 }
    } finally {
      await c2.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
