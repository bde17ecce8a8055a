import type { Command } from 'commander'
import { makeDirSync } from '../../util/make-dir.js'
import { join } from 'node:path'
import { readCaptureFile } from '../../capture/capture-file.js'
import type { RawPacket } from '../../capture/raw-packet.js'
import { LINKTYPE_ETHERNET } from '../../capture/link-types.js'
import type { ConnRecord, WeirdRecord } from '../../flow/conn-record.js'
import { connLogFields, connRecordToJson, connRecordToZeekLine, CONN_LOG_PATH } from '../../output/conn-log-fields.js'
import { connLineMaxBytes, encodeConnLine } from '../../output/conn-log-bytes.js'
import { weirdRecordToJson, weirdRecordToZeekRow, WEIRD_LOG_FIELDS, WEIRD_LOG_PATH } from '../../output/weird-log-fields.js'
import { ZeekAsciiWriter } from '../../output/zeek-ascii-writer.js'
import { FlowPipelineBase, type FlowPipelineParts } from '../../pipeline/flow-pipeline-base.js'
import type { HostObservation } from '../../app/app-analyzer.js'
import { AgentError, AgentErrorCode } from '../../util/errors.js'

/**
 * Read size for replay. 512 KiB measured ~2% less CPU than 4 MiB on the 1.2M-packet bench
 * capture (less kernel time; a chunk is still in cache while it is decoded) and 10 MB less RSS.
 */
const REPLAY_CHUNK_BYTES = 512 * 1024

export interface ReplayOptions {
  logDir?: string
  json?: boolean
  filter?: string
  ignoreChecksums?: boolean
  localNets?: string[]
  vlanColumns?: boolean
  communityId?: boolean
  maxFlows?: string
  activeTimeout?: string
  quiet?: boolean
  /** commander's --no-app sets app=false: flows only, no application analyzers. */
  app?: boolean
  /** commander's --no-hosts sets hosts=false: no asset inventory (hosts.ndjson). */
  hosts?: boolean
  /**
   * Flow table for a flows-only replay: 'wasm' (default: the WebAssembly flow core, which also
   * walks classic pcap files itself) or 'js' (the TypeScript table the analyzers run on).
   */
  flowCore?: string
  /** Ship the flows to this collector (agent/ship/replay-shipping.ts). */
  collector?: string
  enrollToken?: string
  stateDir?: string
  caFile?: string
  certFile?: string
  keyFile?: string
  waitTimeout?: string
}

export interface ReplaySummary {
  files: number
  packets: number
  filtered: number
  conns: number
  weirds: number
  anomalies: Record<string, number>
  flowCounters: Record<string, number>
  seconds: number
  peakRssBytes: number
}

/**
 * Replay capture files through the flow pipeline and write Zeek-format logs.
 * Exported for tests and the demo; the CLI wrapper only parses flags and prints.
 */
export interface ReplaySinks {
  onConn?: (r: ConnRecord) => void
  onAppLog?: (path: string, row: Record<string, unknown>) => void
  /** Host facts from the analyzers (names, services, MACs, OS hints): shipping sends them. */
  onObservation?: (o: HostObservation) => void
}

export async function replayFiles(files: string[], opts: ReplayOptions, sinks?: ReplaySinks): Promise<ReplaySummary> {
  const started = process.hrtime.bigint()
  // Modules only some runs need are loaded by those runs (start-up is a fixed cost of every replay).
  const { NdjsonWriter } = opts.json === true ? await import('../../output/ndjson-writer.js') : { NdjsonWriter: undefined }
  const inventory = opts.logDir && opts.hosts !== false ? await import('./replay-hosts.js') : undefined
  const extras = { vlan: opts.vlanColumns === true, communityId: opts.communityId === true }
  let connOut: { write(r: ConnRecord): void; close(): Promise<void> } | undefined
  let weirdOut: { write(r: WeirdRecord): void; close(): Promise<void> } | undefined
  /** The Zeek ASCII conn.log, when written (the flow core may write its rows itself). */
  let connZeek: ZeekAsciiWriter | undefined
  if (opts.logDir) {
    try {
      makeDirSync(opts.logDir)
    } catch (err) {
      throw new AgentError(AgentErrorCode.OUTPUT_UNWRITABLE, `cannot create log directory ${opts.logDir}: ${(err as Error).message}`)
    }
    if (opts.json) {
      const c = new NdjsonWriter!(join(opts.logDir, 'conn.log'))
      const w = new NdjsonWriter!(join(opts.logDir, 'weird.log'))
      connOut = { write: (r) => c.write(connRecordToJson(r)), close: () => c.close() }
      weirdOut = { write: (r) => w.write(weirdRecordToJson(r)), close: () => w.close() }
    } else {
      const c = connZeek = new ZeekAsciiWriter(join(opts.logDir, 'conn.log'), CONN_LOG_PATH, connLogFields(extras))
      const w = new ZeekAsciiWriter(join(opts.logDir, 'weird.log'), WEIRD_LOG_PATH, WEIRD_LOG_FIELDS)
      connOut = {
        // Rows go straight into the file buffer as bytes (no row string per connection).
        write: (r) => {
          const b = c.reserveRow(connLineMaxBytes(r))
          if (b === undefined) c.writeLine(connRecordToZeekLine(r, extras))
          else c.commitRow(encodeConnLine(r, extras, b, c.rowOffset))
        },
        close: () => c.close(),
      }
      weirdOut = { write: (r) => w.write(weirdRecordToZeekRow(r)), close: () => w.close() }
    }
  }
  // The analyzers' registry is loaded only when they run (~0.17 s of CPU: a flows-only replay skips it).
  const registry = opts.app !== false ? await import('../../app/registry.js') : undefined
  // Application logs: one writer per log path, opened on its first row.
  const appWriters = new Map<string, { write(row: Record<string, unknown>): void; close(): Promise<void> }>()
  const appLog = (path: string, row: Record<string, unknown>): void => {
    sinks?.onAppLog?.(path, row)
    if (!opts.logDir) return
    let w = appWriters.get(path)
    if (!w) {
      const spec = registry?.APP_LOGS.find((l) => l.path === path)
      if (!spec) return
      const file = join(opts.logDir, `${path}.log`)
      if (opts.json) {
        const nd = new NdjsonWriter!(file)
        w = { write: (r) => nd.write(Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))), close: () => nd.close() }
      } else {
        const z = new ZeekAsciiWriter(file, path, spec.fields)
        w = { write: (r) => z.writeRecord(r), close: () => z.close() }
      }
      appWriters.set(path, w)
    }
    w.write(row)
  }
  const hosts = inventory?.newReplayInventory()
  let conns = 0
  let weirds = 0
  const flowCore = opts.flowCore ?? 'wasm'
  if (flowCore !== 'wasm' && flowCore !== 'js') {
    throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `--flow-core expects wasm or js, got "${flowCore}"`)
  }
  // The analyzers need the TypeScript table's per-packet hand-off: the core serves flows only.
  let core = flowCore === 'wasm' && opts.app === false ? await import('../../flowcore/wasm-flow-table.js') : undefined
  if (core !== undefined) {
    try {
      core.flowCoreModule()
    } catch (err) {
      // A build without the core (tsc alone): the TypeScript table gives the same records, slower.
      process.stderr.write(`telltale-agent: the WebAssembly flow core is not available (${(err as Error).message}); ` +
        'using the TypeScript flow table — `npm run build` builds the core\n')
      core = undefined
    }
  }
  let wasmTable: import('../../flowcore/wasm-flow-table.js').WasmFlowTable | undefined
  // The TypeScript table and the dispatcher are loaded by the runs that use them (start-up).
  const tsTable = core === undefined ? await import('../../flow/flow-table.js') : undefined
  const dispatcher = opts.app !== false ? await import('../../app/app-dispatcher.js') : undefined
  const parts: FlowPipelineParts = {
    makeTable: core !== undefined
      ? (cfg, emit) => (wasmTable = new core.WasmFlowTable(cfg, emit, opts.ignoreChecksums === true))
      : (cfg, emit) => new tsTable!.FlowTable(cfg, emit),
    ...(dispatcher !== undefined ? { makeDispatcher: (cfg, deps) => new dispatcher.AppDispatcher(cfg, deps) } : {}),
  }
  const pipeline = new FlowPipelineBase({
    ignoreChecksums: opts.ignoreChecksums === true,
    localNets: opts.localNets ?? [],
    maxFlows: opts.maxFlows ? positiveInt(opts.maxFlows, '--max-flows') : 1_000_000,
    activeTimeout: opts.activeTimeout ? positiveInt(opts.activeTimeout, '--active-timeout') : 0,
    app: opts.app !== false,
    // The Community ID is read by --community-id, NDJSON output and record sinks (shipping) only.
    communityId: opts.communityId === true || opts.json === true || sinks?.onConn !== undefined,
  }, {
    onConn: (r) => { conns++; connOut?.write(r); hosts?.flow(r); sinks?.onConn?.(r) },
    onWeird: weirdOut ? (w) => { weirds++; weirdOut!.write(w) } : undefined,
    onAppLog: appLog,
    onObservation: hosts || sinks?.onObservation ? (o) => { hosts?.observe(o); sinks?.onObservation?.(o) } : undefined,
  }, registry?.APP_ANALYZERS ?? [], parts)
  const filter = opts.filter
    ? (await import('../../capture/bpf-compile.js')).createPacketFilter(opts.filter, { validateFor: [LINKTYPE_ETHERNET] })
    : undefined
  let packets = 0
  let filtered = 0
  const handle = pipeline.handle
  const onPacket = filter
    ? (pkt: RawPacket): void => { packets++; if (filter(pkt)) handle(pkt); else filtered++ }
    : (pkt: RawPacket): void => { packets++; handle(pkt) }
  const fileAnomalies: Record<string, number> = {}
  // The core writes conn.log rows itself when nothing else wants the records as objects
  // (NDJSON, the Community ID column and record sinks need them).
  let coreRows = false
  if (wasmTable !== undefined && connZeek !== undefined && !extras.communityId && sinks?.onConn === undefined) {
    const z = connZeek
    wasmTable.writeConnLog({
      writeRows: (bytes, rows) => z.writeRows(bytes, rows),
      vlanColumns: extras.vlan,
      ...(hosts !== undefined ? { onWritten: (facts) => hosts.flow(facts) } : {}),
    })
    coreRows = true
  }
  const fast = wasmTable !== undefined && filter === undefined && opts.collector === undefined
    ? await import('../../flowcore/wasm-pcap-file.js') : undefined
  for (const file of files) {
    // The core walks classic pcap files itself (undefined: a file it does not walk).
    const before = packets
    const walked = fast !== undefined ? fast.replayPcapFast(file, wasmTable!, pipeline, onPacket, REPLAY_CHUNK_BYTES) : undefined
    // onPacket counted the records left to the pipeline; the core's own are the rest.
    if (walked !== undefined) packets += walked.packets - (packets - before)
    // Shipping: non-blocking reads let the spool and the transport run between chunks.
    const stats = walked ?? await readCaptureFile(file, { onPacket, blocking: opts.collector === undefined, chunkSize: REPLAY_CHUNK_BYTES })
    for (const [k, v] of Object.entries(stats.anomalies)) fileAnomalies[k] = (fileAnomalies[k] ?? 0) + v
  }
  pipeline.flushAll()
  if (coreRows) {
    wasmTable!.finishConnLog()
    conns += wasmTable!.rowsWritten
  }
  await connOut?.close()
  await weirdOut?.close()
  for (const w of appWriters.values()) await w.close()
  if (hosts && opts.logDir) inventory!.writeHostsNdjson(hosts, join(opts.logDir, 'hosts.ndjson'))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  return {
    files: files.length,
    packets,
    filtered,
    conns,
    weirds,
    anomalies: { ...fileAnomalies, ...pipeline.anomalies.snapshot() },
    flowCounters: { ...pipeline.pipelineCounters(), ...pipeline.flowCounters() },
    seconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v)
  if (!Number.isInteger(n) || n <= 0) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `${flag} expects a positive integer, got "${v}"`)
  return n
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)]
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('read pcap/pcapng files and write Zeek-format logs (conn, weird and the application logs) and hosts.ndjson')
    .argument('<files...>', 'capture files (pcap or pcapng)')
    .option('--log-dir <dir>', 'write conn.log and weird.log into this directory')
    .option('--json', 'write NDJSON (Zeek JSON field names) instead of Zeek ASCII')
    .option('--filter <bpf>', 'apply a BPF capture filter (libpcap syntax) to the files')
    .option('-C, --ignore-checksums', "accept packets with bad checksums (Zeek's -C)")
    .option('--local-nets <cidrs>', 'local networks for local_orig/local_resp (comma-separated; default: private address space)', collect, [])
    .option('--vlan-columns', 'append vlan and inner_vlan columns (Zeek vlan-logging)')
    .option('--community-id', 'append the community_id column')
    .option('--max-flows <n>', 'cap on concurrently tracked flows (oldest idle evicted first)')
    .option('--active-timeout <seconds>', 'emit interim records for flows active longer than this (off by default, as Zeek)')
    .option('--no-app', 'flows only: no application-layer analyzers (dns.log, http.log, ssl.log, … and conn.log service)')
    .option('--no-hosts', 'no asset inventory: hosts.ndjson is not written')
    .option('--flow-core <core>', 'flows only: wasm (the WebAssembly flow core, default) or js (the TypeScript flow table)')
    .option('-q, --quiet', 'do not print the summary')
    .option('--collector <url>', 'ship the flows, host observations and application-log rows to this collector and wait until all are acknowledged')
    .option('--enroll-token <token>', 'enroll with this token when the state directory holds no identity')
    .option('--state-dir <dir>', 'agent state (identity, spool) when shipping', './data/agent')
    .option('--ca-file <pem>', 'CA the collector certificate must chain to')
    .option('--cert-file <pem>', 'client certificate (mutual TLS)')
    .option('--key-file <pem>', 'client key (mutual TLS)')
    .option('--wait-timeout <seconds>', 'when shipping: give up waiting for acknowledgements after this long (exit 1; what is not acknowledged stays in the spool for the next run). Default: wait as long as it takes')
    .addHelpText('after', `
Examples:
  $ telltale-agent replay trace.pcap --log-dir out/          # out/conn.log, weird.log, dns.log, http.log, …, hosts.ndjson
  $ telltale-agent replay a.pcapng b.pcap --json --log-dir out/
  $ telltale-agent replay trace.pcap --filter 'tcp port 443' -C --log-dir out/`)
    .action(async (files: string[], opts: ReplayOptions) => {
      // Flags that only shape output files or shipping would otherwise be ignored without a word.
      const fileOnly = [opts.json && '--json', opts.vlanColumns && '--vlan-columns', opts.communityId && '--community-id'].filter(Boolean)
      if (fileOnly.length > 0 && !opts.logDir) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `${fileOnly.join(', ')} shape${fileOnly.length === 1 ? 's' : ''} the logs written to --log-dir: give --log-dir DIR`)
      const shipOnly = [opts.waitTimeout !== undefined && '--wait-timeout', opts.enrollToken !== undefined && '--enroll-token', opts.caFile !== undefined && '--ca-file', opts.certFile !== undefined && '--cert-file', opts.keyFile !== undefined && '--key-file'].filter(Boolean)
      if (shipOnly.length > 0 && opts.collector === undefined) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `${shipOnly.join(', ')} only matter${shipOnly.length === 1 ? 's' : ''} when shipping: give --collector URL`)
      if (opts.collector !== undefined) {
        const { parseCollectorUrl } = await import('../../ship/collector-url.js')
        parseCollectorUrl(opts.collector, '--collector')
        const { shipReplay, checkReplayShipped } = await import('../../ship/replay-shipping.js')
        const { agentVersion } = await import('./version.js')
        const r = await shipReplay({
          collector: opts.collector, stateDir: opts.stateDir ?? './data/agent', version: agentVersion(),
          ...(opts.enrollToken ? { enrollToken: opts.enrollToken } : {}), ...(opts.caFile ? { caFile: opts.caFile } : {}),
          ...(opts.certFile ? { certFile: opts.certFile } : {}), ...(opts.keyFile ? { keyFile: opts.keyFile } : {}),
          ...(opts.waitTimeout !== undefined ? { waitTimeoutS: positiveInt(opts.waitTimeout, '--wait-timeout') } : {}),
        }, ({ onConn, onObservation, onAppLog }) => replayFiles(files, { ...opts, quiet: true }, { onConn, onObservation, ...(onAppLog ? { onAppLog } : {}) }))
        process.stdout.write(`${checkReplayShipped(r)}\n`)
        return
      }
      const s = await replayFiles(files, opts)
      if (!opts.quiet) {
        const anomalies = Object.entries(s.anomalies).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v}`).join(' ')
        process.stderr.write(
          `replayed ${s.packets} packets from ${s.files} file(s) in ${s.seconds.toFixed(2)} s` +
          `${s.filtered ? ` (${s.filtered} filtered out)` : ''}: ${s.conns} connections, ${s.weirds} weird rows` +
          `${anomalies ? `; anomalies: ${anomalies}` : ''}\n`)
      }
    })
}
