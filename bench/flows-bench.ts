/**
 * `npm run bench flows`: packets → flows, side by side with peer tools on the same file.
 *
 *   tcpdump -r FILE -w /dev/null     raw-read floor (libpcap read + write nowhere)
 *   softflowd -r FILE                NetFlow v9 to 127.0.0.1:9 (loopback, nobody listens),
 *                                    every flow expired at EOF ("flushed")
 *   nfpcapd -r FILE -w DIR           nfdump's pcap → nfcapd flow files
 *   telltale replay FILE --no-app --no-hosts --log-dir
 *                                    ours: full Zeek conn.log records (the WebAssembly flow core);
 *                                    then with hosts.ndjson, with the TypeScript flow table, and
 *                                    with the application analyzers
 *
 * Each tool runs pinned to one core (`taskset -c 0`) under GNU time (wall, user+sys CPU,
 * peak RSS), best of N runs by wall time (TELLTALE_BENCH_RUNS, default 3). The machine is
 * shared, so CPU seconds are the steadier figure; both are printed. Then our replay runs
 * on a capture holding ≥ 100k concurrent flows, for peak RSS.
 *
 * Captures are cached in TELLTALE_BENCH_DIR (default bench/out/) keyed by profile, flow
 * count, seed and generator version.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { entryNodeFlags } from '../test/helpers/paths.js'
import { GENERATOR_VERSION, generateCapture } from './generate-capture.js'
import type { CaptureProfile, CaptureSummary } from './generate-capture.js'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
const AGENT_BIN = join(REPO_ROOT, 'dist', 'agent', 'cli', 'main.js')
/** The agent runs with the flags of its first line, as `npx telltale-agent` and the package run it. */
const agentNode = (): string[] => [process.execPath, ...entryNodeFlags(AGENT_BIN)]
/** A tool that has not finished by then is reported as failed (GNU timeout exits 124). */
const TOOL_TIMEOUT_S = 600

export interface ToolRun {
  tool: string
  /** Why the tool did not run; undefined when it did. */
  unavailable?: string
  wallS: number
  cpuS: number
  rssMB: number
  packets: number
  /** Flows the tool reported (its own definition: softflowd/nfpcapd are unidirectional). */
  flows: number | undefined
  note: string
}

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0
}

/** Runs argv under GNU time on core 0; returns its measurements and output. */
function timed(argv: string[], workDir: string): { wallS: number, cpuS: number, rssMB: number, out: string, status: number | null } {
  const timeFile = join(workDir, 'time.txt')
  const pin = have('taskset') ? ['taskset', '-c', '0'] : []
  const r = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timeFile, ...pin, 'timeout', String(TOOL_TIMEOUT_S), ...argv], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.status === 124) return { wallS: NaN, cpuS: NaN, rssMB: NaN, out: `timed out after ${TOOL_TIMEOUT_S} s`, status: 124 }
  const [e, u, s, m] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  return { wallS: e!, cpuS: u! + s!, rssMB: m! / 1024, out: `${r.stdout}\n${r.stderr}`, status: r.status }
}

interface ToolSpec {
  tool: string
  needs: string
  /** argv for one run writing into `outDir` (fresh per run). */
  argv(file: string, outDir: string): string[]
  /** Flow and packet counts from the output, or an error message. */
  parse(out: string, outDir: string, summary: CaptureSummary): { flows: number | undefined, packets: number, note: string } | string
}

const TOOLS: ToolSpec[] = [
  {
    tool: 'tcpdump -r (raw read)',
    needs: 'tcpdump',
    argv: (file) => ['tcpdump', '-r', file, '-w', '/dev/null'],
    parse: (_out, _dir, s) => ({ flows: undefined, packets: s.packets, note: 'floor: read + discard' }),
  },
  {
    tool: 'softflowd 1.1',
    needs: 'softflowd',
    // -m above the flow count: nothing forced out early; -6 tracks IPv6; NetFlow v9 to the discard port on loopback.
    // No -c: softflowd 1.1.0 with a non-default control socket path blocks in accept() at EOF.
    argv: (file, outDir) => ['softflowd', '-r', file, '-n', '127.0.0.1:9', '-v', '9', '-6', '-m', '1000000', '-d', '-p', join(outDir, 'sf.pid')],
    parse: (out) => {
      const flows = /Flows exported: (\d+)/.exec(out)
      const pkts = /Packets processed: (\d+)/.exec(out)
      if (flows === null || pkts === null) return `unexpected output: ${out.slice(0, 200)}`
      return { flows: Number(flows[1]), packets: Number(pkts[1]), note: 'unidirectional, ICMP type-split' }
    },
  },
  {
    tool: 'nfpcapd (nfdump)',
    needs: 'nfpcapd',
    argv: (file, outDir) => ['nfpcapd', '-r', file, '-w', outDir, '-s', '1522'],
    parse: (out, outDir) => {
      const m = /Flows: (\d+), Packets: (\d+)/.exec(out)
      if (m === null) return `unexpected output: ${out.slice(0, 200)}`
      const files = readdirSync(outDir).filter((f) => f.startsWith('nfcapd.'))
      return { flows: Number(m[1]), packets: Number(m[2]), note: `unidirectional; ${files.length} nfcapd file(s)` }
    },
  },
  {
    tool: 'telltale replay (flows)',
    needs: 'node',
    argv: (file, outDir) => [...agentNode(), AGENT_BIN, 'replay', file, '--no-app', '--no-hosts', '--log-dir', outDir],
    parse: (out, outDir) => parseOurs(out, outDir, 'Zeek conn.log rows (WebAssembly flow core), no analyzers, no hosts.ndjson'),
  },
  {
    tool: 'telltale replay (flows + hosts)',
    needs: 'node',
    argv: (file, outDir) => [...agentNode(), AGENT_BIN, 'replay', file, '--no-app', '--log-dir', outDir],
    parse: (out, outDir) => parseOurs(out, outDir, 'conn.log + hosts.ndjson (asset inventory), no analyzers'),
  },
  {
    tool: 'telltale replay (flows, TS table)',
    needs: 'node',
    argv: (file, outDir) => [...agentNode(), AGENT_BIN, 'replay', file, '--no-app', '--no-hosts', '--flow-core', 'js', '--log-dir', outDir],
    parse: (out, outDir) => parseOurs(out, outDir, 'conn.log from the TypeScript flow table (the one the analyzers use)'),
  },
  {
    tool: 'telltale replay (+analyzers)',
    needs: 'node',
    argv: (file, outDir) => [...agentNode(), AGENT_BIN, 'replay', file, '--log-dir', outDir],
    parse: (out, outDir) => parseOurs(out, outDir, 'conn.log with service + dns/http/ssl/… logs'),
  },
]

function parseOurs(out: string, outDir: string, note: string): { flows: number; packets: number; note: string } | string {
  const log = join(outDir, 'conn.log')
  if (!existsSync(log)) return `no conn.log written: ${out.trim().slice(0, 300)}`
  const rows = countRows(log)
  const m = /replayed (\d+) packets/.exec(out)
  return { flows: rows, packets: m !== null ? Number(m[1]) : NaN, note }
}

/** conn.log rows: lines not starting with '#'. */
function countRows(path: string): number {
  const buf = readFileSync(path)
  let rows = 0
  let lineStart = true
  for (let i = 0; i < buf.length; i++) {
    if (lineStart && buf[i] !== 0x23) rows++
    lineStart = buf[i] === 0x0a
  }
  return rows
}

function runTool(spec: ToolSpec, file: string, summary: CaptureSummary, runs: number, workRoot: string): ToolRun {
  const empty: ToolRun = { tool: spec.tool, wallS: NaN, cpuS: NaN, rssMB: NaN, packets: NaN, flows: undefined, note: '' }
  if (spec.needs !== 'node' && !have(spec.needs)) return { ...empty, unavailable: `${spec.needs} not installed (npm run bench installs it as root)` }
  if (spec.needs === 'node' && !existsSync(AGENT_BIN)) return { ...empty, unavailable: `${AGENT_BIN} missing (build first)` }
  let best: ToolRun | undefined
  for (let i = 0; i < runs; i++) {
    const outDir = mkdtempSync(join(workRoot, 'run-'))
    try {
      const t = timed(spec.argv(file, outDir), outDir)
      const parsed = t.status === 0 ? spec.parse(t.out, outDir, summary) : `exit status ${t.status}: ${t.out.trim().slice(0, 300)}`
      if (typeof parsed === 'string') return { ...empty, unavailable: parsed }
      const run: ToolRun = { tool: spec.tool, wallS: t.wallS, cpuS: t.cpuS, rssMB: t.rssMB, ...parsed }
      if (best === undefined || run.wallS < best.wallS) best = run
    } finally {
      rmSync(outDir, { recursive: true, force: true })
    }
  }
  return best!
}

/** The capture for a profile, generated once and cached beside its summary. */
export function benchCapture(profile: CaptureProfile, flows: number, seed = 0x7e11): CaptureSummary {
  const dir = process.env.TELLTALE_BENCH_DIR ?? join(REPO_ROOT, 'bench', 'out')
  mkdirSync(dir, { recursive: true })
  const base = join(dir, `${profile}-${flows}-s${seed}-g${GENERATOR_VERSION}`)
  const path = `${base}.pcap`
  if (existsSync(path) && existsSync(`${base}.json`)) {
    return JSON.parse(readFileSync(`${base}.json`, 'utf8')) as CaptureSummary
  }
  // Captures of older generator versions are dead weight (hundreds of MB each).
  const stale = `${profile}-${flows}-s${seed}-g`
  for (const f of readdirSync(dir)) if (f.startsWith(stale) && !f.startsWith(`${stale}${GENERATOR_VERSION}.`)) rmSync(join(dir, f), { force: true })
  process.stderr.write(`bench: generating ${path} …\n`)
  const summary = generateCapture(path, { profile, flows, seed })
  writeFileSync(`${base}.json`, JSON.stringify(summary, null, 2))
  return summary
}

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '-')

function table(rows: ToolRun[], summary: CaptureSummary): string {
  const head = ['tool', 'pkts/s (wall)', 'pkts/s (CPU)', 'flows/s (wall)', 'wall s', 'CPU s', 'peak RSS MB', 'flows', 'packets', 'note']
  const body = rows.map((r) => r.unavailable !== undefined
    ? [r.tool, `not available: ${r.unavailable}`, '', '', '', '', '', '', '', '']
    : [r.tool, fmt(summary.packets / r.wallS), fmt(summary.packets / r.cpuS), r.flows === undefined ? '-' : fmt(r.flows / r.wallS),
        fmt(r.wallS, 2), fmt(r.cpuS, 2), fmt(r.rssMB, 1), r.flows === undefined ? '-' : fmt(r.flows), fmt(r.packets), r.note])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd()
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

function describe(s: CaptureSummary): string {
  const mb = s.bytes / 1e6
  return `${s.path}: ${fmt(s.packets)} packets, ${fmt(mb, 0)} MB (avg ${fmt(s.bytes / s.packets)} B/frame), ${fmt(s.flows)} flows ` +
    `(${Object.entries(s.byKind).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${fmt(n)}`).join(', ')}), ${fmt(s.ipv6Flows)} IPv6, ${fmt(s.vlanFlows)} VLAN, ` +
    `max ${fmt(s.maxConcurrent)} conversations open at once, span ${fmt(s.spanS, 1)} s; frame sizes ≤80 ${fmt(100 * s.sizes.le80 / s.packets)}%, ` +
    `81–200 ${fmt(100 * s.sizes.le200 / s.packets)}%, 201–700 ${fmt(100 * s.sizes.le700 / s.packets)}%, 701–1400 ${fmt(100 * s.sizes.le1400 / s.packets)}%, >1400 ${fmt(100 * s.sizes.gt1400 / s.packets)}%`
}

function verdicts(rows: ToolRun[], conc: ToolRun | undefined): string[] {
  const by = (prefix: string): ToolRun | undefined => rows.find((r) => r.tool.startsWith(prefix) && r.unavailable === undefined)
  const ours = by('telltale replay (flows)')
  const withHosts = by('telltale replay (flows + hosts)')
  const withApp = by('telltale replay (+analyzers)')
  const out: string[] = []
  if (ours === undefined) return ['targets: our replay did not run']
  for (const [name, basis] of [['wall', 'wallS'], ['CPU', 'cpuS']] as const) {
    const parts: string[] = []
    for (const peer of ['softflowd', 'nfpcapd']) {
      const p = by(peer)
      if (p !== undefined) parts.push(`${peer} ${fmt(p[basis] / ours[basis], 2)}×`)
    }
    const td = by('tcpdump')
    if (td !== undefined) parts.push(`tcpdump ${fmt(td[basis] / ours[basis], 2)}× (target ≥ 0.5)`)
    out.push(`our speed relative to (${name} time; > 1 means we are faster): ${parts.join(', ')}`)
  }
  const sf = by('softflowd'); const nf = by('nfpcapd'); const td = by('tcpdump')
  if (sf && nf && td) {
    out.push(`target "faster than softflowd and nfpcapd, ≥ half of tcpdump" (wall): ${ours.wallS < sf.wallS && ours.wallS < nf.wallS && ours.wallS <= 2 * td.wallS ? 'MET' : 'NOT MET'}`)
  }
  if (withApp !== undefined) {
    // Against the flows-only run that writes what the analyzers run writes besides their logs (conn.log + hosts.ndjson).
    const base = withHosts ?? ours
    const cost = 1 - base.cpuS / withApp.cpuS
    out.push(`analyzers cost ${fmt(100 * cost, 0)}% of the flows-only throughput (CPU time, against "${base.tool}"; issue 3 target ≤ 30%): ${cost <= 0.3 ? 'MET' : 'NOT MET'}`)
  }
  if (conc !== undefined && conc.unavailable === undefined) {
    out.push(`target "peak RSS ≤ 200 MB with 100k concurrent flows": ${fmt(conc.rssMB, 1)} MB — ${conc.rssMB <= 200 ? 'MET' : 'NOT MET'}`)
  }
  return out
}

export async function benchFlows(): Promise<void> {
  const runs = Number(process.env.TELLTALE_BENCH_RUNS ?? 3)
  const benchDir = process.env.TELLTALE_BENCH_DIR ?? join(REPO_ROOT, 'bench', 'out')
  mkdirSync(benchDir, { recursive: true })
  const work = mkdtempSync(join(benchDir, 'flows-'))
  try {
    const mix = benchCapture('mix', 80_000)
    console.log(`\n== flows: ${describe(mix)}\n   each tool pinned to core 0, best of ${runs} by wall time; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} cores at start\n`)
    const rows = TOOLS.map((spec) => runTool(spec, mix.path, mix, runs, work))
    console.log(table(rows, mix))

    const concSummary = benchCapture('concurrent', 120_000)
    console.log(`\n== flows, ${fmt(concSummary.maxConcurrent)} concurrent: ${describe(concSummary)}\n`)
    const concRows = TOOLS.filter((t) => !t.tool.startsWith('tcpdump')).map((spec) => runTool(spec, concSummary.path, concSummary, 1, work))
    console.log(table(concRows, concSummary))
    console.log('')
    for (const v of verdicts(rows, concRows.find((r) => r.tool.startsWith('telltale replay (flows)')))) console.log(v)
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}
