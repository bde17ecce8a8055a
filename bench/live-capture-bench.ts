/**
 * Live capture, `cap` vs `pcap` binding, on the live path: a generated capture is replayed
 * with `tcpreplay --topspeed` into one end of a veth pair living in a namespace of our own,
 * and LiveCapture captures on the other end. Per backend: packets/s delivered to JS, kernel
 * drops (pcap_stats; for cap, which has no stats, the shortfall sent − received), and CPU
 * time of this process per packet.
 *
 *   node dist/bench/live-capture-bench.js [--packets N] [--rounds R]
 *
 * Needs root, iproute2 and tcpreplay. Bounded: replay capped by --packets and a timeout;
 * the namespace and links are removed in `finally` and at exit.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { LiveCapture, type LiveCaptureConfig } from '../agent/capture/live-capture.js'
import { createVethLab, labTraffic, netnsUnavailableReason, replayInto, waitFor, type VethLab } from '../test/helpers/netns.js'
import { PcapFileWriter } from '../test/helpers/pcap-writer.js'

export interface LiveBenchRow {
  variant: string
  round: number
  sent: number
  received: number
  /** ps_drop (pcap) or sent − received (cap: no kernel stats). */
  dropped: number
  dropsFrom: 'pcap_stats' | 'shortfall'
  /** Packets delivered per second, first to last delivery. */
  pps: number
  /** tcpreplay's own send rate. */
  replayPps: number
  cpuMs: number
  cpuUsPerPacket: number
}

interface Variant { name: string; cfg: Partial<LiveCaptureConfig> }

const VARIANTS: Variant[] = [
  { name: 'pcap, 100 ms buffer timeout (default)', cfg: { backend: 'pcap', bufferTimeoutMs: 100 } },
  { name: 'pcap, immediate mode', cfg: { backend: 'pcap', bufferTimeoutMs: 0 } },
  { name: 'cap (always immediate)', cfg: { backend: 'cap', snaplen: 65535 } },
]

const REPLAY_TIMEOUT_MS = 120_000
const SETTLE_TIMEOUT_MS = 15_000

async function measure(lab: VethLab, file: string, v: Variant, round: number): Promise<LiveBenchRow> {
  const lc = new LiveCapture({ interfaces: [lab.captureIf], statsIntervalMs: 1000, ...v.cfg }, { log: pino({ level: 'silent' }) })
  let received = 0
  let sink = 0
  let first = 0
  let last = 0
  lc.start((p) => {
    if (received === 0) first = performance.now()
    received++
    sink ^= p.data[p.data.length - 1]! ^ p.tsNsec
    last = performance.now()
  })
  const cpu0 = process.cpuUsage()
  let sent = 0
  let replayPps = 0
  try {
    const r = await replayInto(lab, file, { timeoutMs: REPLAY_TIMEOUT_MS })
    sent = r.sent
    const rated = /Rated:.*?([\d.]+)\s*pps/.exec(r.output)
    replayPps = rated ? Number(rated[1]) : 0
    // Until everything sent is delivered or counted as dropped, or nothing moves for 1 s.
    let seen = -1
    let still = 0
    await waitFor(() => {
      const drops = lc.stats()[0]?.kernelDropped ?? 0
      if (received === seen) still += 50; else { seen = received; still = 0 }
      return received + drops >= sent || still >= 1000
    }, SETTLE_TIMEOUT_MS, 50)
  } finally {
    await lc.stop()
  }
  const cpu = process.cpuUsage(cpu0)
  const st = lc.stats()[0]!
  const cpuMs = (cpu.user + cpu.system) / 1000
  if (sink === -1) console.log('unreachable')
  return {
    variant: v.name, round, sent, received,
    dropped: st.kernelStatsAvailable ? st.kernelDropped : Math.max(0, sent - received),
    dropsFrom: st.kernelStatsAvailable ? 'pcap_stats' : 'shortfall',
    pps: last > first ? Math.round(received / ((last - first) / 1000)) : 0,
    replayPps: Math.round(replayPps),
    cpuMs: Math.round(cpuMs),
    cpuUsPerPacket: received > 0 ? Number(((cpuMs * 1000) / received).toFixed(2)) : 0,
  }
}

export async function benchLiveCapture(opts: { packets?: number; rounds?: number } = {}): Promise<string> {
  const why = netnsUnavailableReason()
  if (why) return `\n== live-capture: skipped (${why})`
  const target = opts.packets ?? 300_000
  const rounds = opts.rounds ?? 2
  const dir = mkdtempSync(join(tmpdir(), 'telltale-live-bench-'))
  const file = join(dir, 'live.pcap')
  let lab: VethLab | undefined
  try {
    const w = new PcapFileWriter(file)
    let bytes = 0
    for (let block = 0; w.packets < target; block++) {
      for (const f of labTraffic(500, 1_700_000_000 + block)) {
        if (w.packets >= target) break
        w.write(f)
        bytes += f.data.length
      }
    }
    w.close()
    const total = w.packets
    lab = createVethLab()
    const rows: LiveBenchRow[] = []
    for (let round = 1; round <= rounds; round++) {
      for (const v of VARIANTS) rows.push(await measure(lab, file, v, round))
    }
    const head = `\n== live-capture: ${total} packets (${(bytes / total).toFixed(0)} B mean frame) replayed with tcpreplay --topspeed into a veth pair, ${rounds} round(s)\n`
    const cols = ['variant', 'round', 'sent', 'received', 'dropped', 'delivered pps', 'tcpreplay pps', 'CPU ms', 'CPU µs/pkt']
    const lines = rows.map((r) => [r.variant, r.round, r.sent, r.received, `${r.dropped} (${r.dropsFrom})`, r.pps, r.replayPps, r.cpuMs, r.cpuUsPerPacket].map(String))
    const widths = cols.map((c, i) => Math.max(c.length, ...lines.map((l) => l[i]!.length)))
    const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
    return head + [fmt(cols), ...lines.map(fmt)].join('\n')
  } finally {
    lab?.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name)
    return i > 0 ? Number(process.argv[i + 1]) : undefined
  }
  const out = await benchLiveCapture({ packets: arg('--packets'), rounds: arg('--rounds') })
  console.log(out)
  // A stopped pcap handle on an idle device is released only at its next packet (see
  // docs/capture.md); the lab is gone, so leave now instead of waiting on it.
  process.exit(0)
}
