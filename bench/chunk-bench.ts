/**
 * `npm run bench chunks` (or `node dist/bench/chunk-bench.js`): what storing a batch's flows
 * as DEFLATE chunks costs (collector/storage/flow-chunks.ts): CPU per flow (user + sys of
 * this process, thread pool included) and chunk bytes per flow, for the collector's encoder
 * and for other zlib levels, over the ingest bench's flows (batches of 1000, one core).
 */
import { constants, deflateRaw, deflateRawSync } from 'node:zlib'
import { promisify } from 'node:util'
import { encodeBatch, PROTOCOL_VERSION } from '../protocol/index.js'
import { joinEntries, scanBatch } from '../collector/ingest/batch-scan.js'
import { encodeFlowChunksAsync, entryOffsets, FLOW_CHUNK } from '../collector/storage/flow-chunks.js'
import { realFlows } from './ingest-bench.js'

const deflateRawAsync = promisify(deflateRaw)
const cpuUs = (): number => { const u = process.cpuUsage(); return u.user + u.system }

function runsOf(seg: Buffer): Buffer[] {
  const offs = entryOffsets(seg)
  const out: Buffer[] = []
  for (let c = 0; c * FLOW_CHUNK < offs.length - 1; c++) out.push(seg.subarray(offs[c * FLOW_CHUNK]!, offs[Math.min(offs.length - 1, (c + 1) * FLOW_CHUNK)]!))
  return out
}

export async function benchChunks(reps = 5): Promise<string> {
  const flows = await realFlows(20_000)
  const segs: Buffer[] = []
  for (let i = 0; i + 1000 <= flows.length; i += 1000) {
    const body = Buffer.from(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a', epoch: 1, seq: 1, sentAtUs: 0, flows: flows.slice(i, i + 1000) }))
    const scan = scanBatch(body, { maxFlows: 100_000, maxEntries: 100_000 })
    if (!scan.ok) throw new Error(scan.reason)
    segs.push(joinEntries(body, scan.flowEntries))
  }
  const n = segs.length * 1000
  const lines = [`\n== chunks: DEFLATE of ${n} flows in chunks of ${FLOW_CHUNK} (best of ${reps}; +1 B per chunk for the codec byte not counted in the zlib rows)`]
  const run = async (name: string, fn: (seg: Buffer) => Buffer[] | Promise<Buffer[]>): Promise<void> => {
    let best = Infinity
    let bytes = 0
    for (let r = 0; r < reps; r++) {
      bytes = 0
      const t0 = cpuUs()
      for (const s of segs) for (const c of await fn(s)) bytes += c.length
      best = Math.min(best, cpuUs() - t0)
    }
    lines.push(`${name.padEnd(46)} ${(best / n).toFixed(2)} µs/flow CPU   ${(bytes / n).toFixed(1)} B/flow`)
  }
  await run('collector (encodeFlowChunksAsync)', (s) => encodeFlowChunksAsync(s))
  for (const level of [1, 6]) await run(`zlib level ${level}, synchronous`, (s) => runsOf(s).map((r) => deflateRawSync(r, { level })))
  await run('zlib level 6, a stream per chunk on the pool', (s) => Promise.all(runsOf(s).map((r) => deflateRawAsync(r, { level: 6 }))))
  await run('zlib level 1, Z_RLE', (s) => runsOf(s).map((r) => deflateRawSync(r, { level: 1, strategy: constants.Z_RLE })))
  return lines.join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchChunks())
}
