/**
 * `npm run bench protocol`: the telltale.v1 Flow on the wire.
 *
 * Flows are real: a generated mixed capture (bench/generate-capture.ts) is replayed in
 * process through the agent's pipeline and the ConnRecords it emits are encoded as a
 * batch would carry them (`repeated Flow` = tag + length + message per flow), in batches
 * of 1000. Prints bytes per flow raw and gzipped, and single-core rates for
 * ConnRecord → Flow → bytes (agent side), bytes → Flow (collector side) and gzip.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { connRecordToFlow } from '../agent/ship/flow-encoding.js'
import { Flow, Reader, Writer } from '../protocol/index.js'
import { generateCapture } from './generate-capture.js'

const BATCH = 1000
/** Field number a Batch would give its `repeated Flow flows`; any 1-byte tag costs the same. */
const FLOWS_TAG = (1 << 3) | 2

export function encodeFlowBatch(recs: ConnRecord[]): Uint8Array {
  const w = Writer.create()
  for (const r of recs) {
    w.uint32(FLOWS_TAG).fork()
    Flow.encode(connRecordToFlow(r), w)
    w.ldelim()
  }
  return w.finish()
}

export function decodeFlowBatch(bytes: Uint8Array): number {
  const r = Reader.create(bytes)
  let n = 0
  while (r.pos < r.len) {
    const tag = r.uint32()
    if (tag !== FLOWS_TAG) { r.skipType(tag & 7); continue }
    Flow.decode(r, r.uint32())
    n++
  }
  return n
}

/** Calls fn repeatedly for at least `ms`; returns calls per second. */
function rate(fn: () => void, ms = 1500): number {
  fn() // warm up
  const start = process.hrtime.bigint()
  let calls = 0
  let elapsed = 0
  do {
    fn()
    calls++
    elapsed = Number(process.hrtime.bigint() - start) / 1e6
  } while (elapsed < ms)
  return calls / (elapsed / 1000)
}

async function realFlows(count: number): Promise<{ recs: ConnRecord[], source: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-protocol-bench-'))
  try {
    const path = join(dir, 'mix.pcap')
    generateCapture(path, { profile: 'mix', flows: count, seed: 99 })
    const { replayFiles } = await import('../agent/cli/commands/replay.js')
    const recs: ConnRecord[] = []
    await replayFiles([path], { quiet: true }, { onConn: (r) => recs.push(r) })
    return { recs, source: `${recs.length} ConnRecords from replaying a generated mixed capture of ${count} conversations` }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export async function benchProtocol(): Promise<void> {
  const { recs, source } = await realFlows(5 * BATCH)
  const batches: ConnRecord[][] = []
  for (let i = 0; i + BATCH <= recs.length; i += BATCH) batches.push(recs.slice(i, i + BATCH))
  if (batches.length === 0) throw new Error(`protocol bench: only ${recs.length} flows replayed`)

  let raw = 0; let gz = 0; let gz1 = 0
  const encoded = batches.map(encodeFlowBatch)
  for (const b of encoded) {
    raw += b.length
    gz += gzipSync(b).length
    gz1 += gzipSync(b, { level: 1 }).length
  }
  const flows = batches.length * BATCH
  const sample = batches[0]!
  const sampleBytes = encoded[0]!
  const sampleGz = gzipSync(sampleBytes)
  const props = sample.map((r) => connRecordToFlow(r))

  const encodeRate = rate(() => encodeFlowBatch(sample)) * BATCH
  const encodeOnlyRate = rate(() => { const w = Writer.create(); for (const p of props) { w.uint32(FLOWS_TAG).fork(); Flow.encode(p, w); w.ldelim() } w.finish() }) * BATCH
  const decodeRate = rate(() => decodeFlowBatch(sampleBytes)) * BATCH
  const gzipRate = rate(() => gzipSync(sampleBytes)) * BATCH
  const gunzipRate = rate(() => gunzipSync(sampleGz)) * BATCH
  const withCid = sample.filter((r) => r.communityId !== '').length
  const withMac = sample.filter((r) => r.origL2Addr !== undefined).length

  const f = (n: number, d = 1): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
  console.log(`\n== protocol: telltale.v1 Flow, ${source}; batches of ${BATCH} (${batches.length} batches)`)
  console.log(`   sample batch: ${withCid}/${BATCH} with a Community ID, ${withMac}/${BATCH} with MACs\n`)
  console.log(`bytes per flow, raw protobuf          ${f(raw / flows)}`)
  console.log(`bytes per flow, gzip -6 (Node default) ${f(gz / flows)}   (target ≤ 60)`)
  console.log(`bytes per flow, gzip -1               ${f(gz1 / flows)}`)
  console.log(`agent: ConnRecord → Flow → bytes      ${f(encodeRate / 1e3, 0)} k flows/s`)
  console.log(`agent: Flow object → bytes only       ${f(encodeOnlyRate / 1e3, 0)} k flows/s`)
  console.log(`agent: gzip -6 of the batch           ${f(gzipRate / 1e3, 0)} k flows/s`)
  console.log(`collector: gunzip                     ${f(gunzipRate / 1e3, 0)} k flows/s`)
  console.log(`collector: bytes → Flow               ${f(decodeRate / 1e3, 0)} k flows/s`)
}
