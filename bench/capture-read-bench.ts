/**
 * Capture file read throughput: the pcap/pcapng reader alone, with a no-op packet handler.
 *
 *   node dist/bench/capture-read-bench.js [FILE]
 *
 * Without FILE it generates a temporary pcap of 2,000,000 small TCP packets (54-64 bytes,
 * the worst case per byte) with the test traffic generator, reads it once to warm the page
 * cache, then measures.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { readCaptureFile } from '../agent/capture/capture-file.js'
import { PcapFileWriter } from '../test/helpers/pcap-writer.js'
import { tcpConversation } from '../test/helpers/traffic.js'

export interface CaptureReadBenchResult {
  packets: number
  seconds: number
  pps: number
}

export async function benchCaptureRead(file: string): Promise<CaptureReadBenchResult> {
  let sink = 0
  const start = process.hrtime.bigint()
  const stats = await readCaptureFile(file, { onPacket: (p) => { sink += p.data.length } })
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (sink !== stats.bytes) throw new Error('byte count mismatch')
  return { packets: stats.packets, seconds, pps: stats.packets / seconds }
}

/** Writes `packets` small packets (short TCP sessions with 10-byte payloads) to a pcap. */
export function generateSmallPacketPcap(path: string, packets: number): void {
  const w = new PcapFileWriter(path)
  for (let i = 0; w.packets < packets; i++) {
    const conv = tcpConversation({
      client: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + (i % 60000) },
      server: { ip: '192.168.1.1', port: 80 }, t0: 1_700_000_000 + i * 0.001,
      exchanges: [{ from: 'orig', bytes: 10 }],
    })
    for (const f of conv) if (w.packets < packets) w.write(f)
  }
  w.close()
}

async function main(): Promise<void> {
  let file = process.argv[2]
  let tmp: string | undefined
  if (file === undefined) {
    tmp = mkdtempSync(join(tmpdir(), 'telltale-bench-'))
    file = join(tmp, 'small-packets.pcap')
    generateSmallPacketPcap(file, 2_000_000)
  }
  try {
    await benchCaptureRead(file) // warm the page cache and the JIT
    const r = await benchCaptureRead(file)
    console.log(`capture-read ${file}: ${r.packets} packets in ${r.seconds.toFixed(3)} s = ${Math.round(r.pps).toLocaleString('en-US')} packets/s`)
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => { console.error(err); process.exitCode = 1 })
}
