import type { Command } from 'commander'
import { leafKeys, loadConfigOrThrow, type AgentConfig } from '../../config/index.js'
import { LiveCapture } from '../../capture/live-capture.js'
import { FileSource } from '../../logs/tail/file-source.js'
import { fileSourceConfig } from '../../logs/tail/file-source-config.js'
import { JournaldSource } from '../../logs/tail/journald-source.js'
import { FlowPipeline } from '../../pipeline/flow-pipeline.js'
import { buildAgentStats } from '../../ship/agent-stats.js'
import { appLogSink } from '../../ship/app-log-sink.js'
import { ensureIdentity } from '../../ship/ensure-identity.js'
import { Heartbeat } from '../../ship/heartbeat.js'
import { LogPump } from '../../ship/log-pump.js'
import { ShipStack } from '../../ship/ship-stack.js'
import { AgentError, AgentErrorCode } from '../../util/errors.js'
import { createRootLogger, type Logger } from '../../util/logger.js'
import { agentVersion } from './version.js'
// issue 8 (operations): sd_notify, watchdog, status socket.
import { AgentService } from '../../ops/agent-service.js'
import { statusSocketPath } from '../../ops/status-socket.js'

/**
 * `telltale-agent run --config FILE`: the daemon. This is the one place the components are
 * wired: ship stack (spool, transport, shipper, batcher) → flow pipeline → live capture →
 * log sources → heartbeat/inventory, started in that order and stopped in reverse.
 * SIGTERM/SIGINT: stop capture, flush the flow table and the batcher into the spool, try
 * to deliver for a few seconds, exit. SIGHUP: reload the config; log sources and the
 * capture filter follow it, other changes need a restart (logged).
 */
const SHUTDOWN_DELIVERY_MS = 5000

function shipConfig(c: AgentConfig, version: string): ConstructorParameters<typeof ShipStack>[0] {
  return {
    collectorUrl: c.collector.url, stateDir: c.state_dir, version,
    batcher: { maxBatchBytes: c.ship.max_batch_bytes, maxBatchRecords: c.ship.max_batch_records, maxDelayMs: c.ship.max_delay_ms, maxPendingBytes: c.ship.max_pending_bytes },
    spoolMaxBytes: c.ship.spool_max_bytes, spoolSync: c.ship.spool_sync, gzipLevel: c.ship.gzip_level, maxInFlight: c.ship.max_in_flight,
    retryInitialMs: c.ship.retry_initial_ms, retryMaxMs: c.ship.retry_max_ms, requestTimeoutMs: c.collector.request_timeout_ms,
    ...(c.collector.ca_file ? { caFile: c.collector.ca_file } : {}),
    ...(c.collector.cert_file ? { certFile: c.collector.cert_file } : {}),
    ...(c.collector.key_file ? { keyFile: c.collector.key_file } : {}),
  }
}

class AgentDaemon {
  private cfg: Readonly<AgentConfig>
  /** The process's root logger: every component gets its own child (one `component` key each). */
  private readonly root: Logger
  private readonly log: Logger
  private readonly version = agentVersion()
  private readonly startedAtMs = Date.now()
  private ship: ShipStack | undefined
  private pipeline: FlowPipeline | undefined
  private capture: LiveCapture | undefined
  private pumps: Array<{ pump: LogPump; lag: () => number; counters: () => Record<string, number> }> = []
  private heartbeat: Heartbeat | undefined
  private ticker: NodeJS.Timeout | undefined
  /** Called after every pipeline tick (the watchdog's liveness probe beats there). */
  onTick: (() => void) | undefined

  constructor(cfg: Readonly<AgentConfig>, root: Logger) {
    this.cfg = cfg
    this.root = root
    this.log = root.child({ component: 'agent' })
  }

  async start(): Promise<void> {
    const c = this.cfg
    if (c.collector.url === '') throw new AgentError(AgentErrorCode.CONFIG_INVALID, 'collector.url is required to run (config key collector.url, flag --collector-url, env TELLTALE_COLLECTOR_URL)')
    const { identity } = await ensureIdentity({
      stateDir: c.state_dir, collector: c.collector.url, version: this.version, log: this.log,
      ...(c.collector.enroll_token ? { token: c.collector.enroll_token } : {}),
      ...(c.collector.ca_file ? { caFile: c.collector.ca_file } : {}),
      ...(c.collector.cert_file ? { certFile: c.collector.cert_file } : {}),
      ...(c.collector.key_file ? { keyFile: c.collector.key_file } : {}),
    })
    const ship = new ShipStack(shipConfig(c, this.version), { identity, log: this.root, stats: () => this.stats() })
    this.ship = ship
    await ship.start()
    // Rows of the application logs in flows.app_logs ship as AppRecords (only when the analyzers run).
    const onAppLog = c.flows.app ? appLogSink(c.flows.app_logs, (path, row) => ship.batcher.addAppRecord(path, row)) : undefined
    this.pipeline = new FlowPipeline({
      ignoreChecksums: c.capture.ignore_checksums, localNets: [...c.flows.local_nets], maxFlows: c.flows.max_flows,
      activeTimeout: c.flows.active_timeout_s, app: c.flows.app,
    }, {
      log: this.root.child({ component: 'pipeline' }),
      onConn: (r) => ship.batcher.addConn(r),
      ...(c.flows.observations ? { onObservation: (o) => ship.batcher.addObservation(o) } : {}),
      ...(onAppLog ? { onAppLog } : {}),
    })
    this.startCapture()
    await this.startLogs()
    this.heartbeat = new Heartbeat({ intervalS: c.heartbeat.interval_s, inventoryCron: c.heartbeat.inventory_cron }, {
      heartbeat: () => ship.batcher.heartbeat(),
      inventory: (inv) => ship.batcher.addInventory(inv),
      log: this.root.child({ component: 'heartbeat' }),
    })
    await this.heartbeat.start()
    this.log.info({ agentId: identity.agent_id, collector: c.collector.url, interfaces: c.capture.interfaces, logSources: this.pumps.length }, 'agent running')
  }

  private startCapture(): void {
    const c = this.cfg.capture
    if (c.interfaces.length === 0 || !this.pipeline) return
    const pipeline = this.pipeline
    this.capture = new LiveCapture({
      interfaces: [...c.interfaces], filter: c.filter, snaplen: c.snaplen, promisc: c.promisc, bufferSize: c.buffer_size, backend: c.backend,
    }, { log: this.root.child({ component: 'capture' }) })
    this.capture.start(pipeline.handle)
    // Timers advance on a quiet link too.
    this.ticker ??= setInterval(() => { pipeline.tick(Date.now() / 1000); this.onTick?.() }, 1000)
  }

  private async stopCapture(): Promise<void> {
    await this.capture?.stop()
    this.capture = undefined
  }

  private async startLogs(): Promise<void> {
    const c = this.cfg.logs
    const ship = this.ship!
    for (const f of c.files) {
      const src = new FileSource(fileSourceConfig({ name: f.name, include: [...f.include], exclude: [...f.exclude], type: f.type, stateDir: this.cfg.state_dir, queueCapacity: c.queue_capacity }), { log: this.root.child({ component: 'logs', source: f.name }) })
      const pump = new LogPump(f.name, src, ship.batcher, this.root.child({ component: 'log-pump', source: f.name }))
      await pump.start()
      this.pumps.push({ pump, lag: () => src.lagBytes(), counters: () => src.snapshot() })
    }
    if (c.journald.enabled) {
      const src = new JournaldSource({ name: 'journald', stateDir: this.cfg.state_dir, matches: [...c.journald.matches], queueCapacity: c.queue_capacity, journalctlPath: 'journalctl', extraArgs: [] }, { log: this.root.child({ component: 'journald' }) })
      const pump = new LogPump('journald', src, ship.batcher, this.root.child({ component: 'log-pump', source: 'journald' }))
      await pump.start()
      this.pumps.push({ pump, lag: () => 0, counters: () => src.counters.snapshot() })
    }
  }

  private async stopLogs(): Promise<void> {
    const pumps = this.pumps.splice(0)
    for (const p of pumps) await p.pump.stop()
    // The last events read go to the spool before the sources persist their checkpoints.
    await this.ship?.batcher.flush()
    for (const p of pumps) await p.pump.stopSource()
  }

  stats(): ReturnType<typeof buildAgentStats> {
    return buildAgentStats({
      version: this.version, startedAtMs: this.startedAtMs,
      capture: () => this.capture?.stats() ?? [],
      flowTableSize: () => this.pipeline?.activeFlows ?? 0,
      flowTableEvictions: () => this.pipeline?.flowCounters().flows_evicted ?? 0,
      spool: () => ({ bytes: this.ship?.spool.bytes ?? 0, batches: this.ship?.spool.batches ?? 0, oldestAgeMs: this.ship?.spool.oldestAgeMs() ?? 0 }),
      logLagBytes: () => this.pumps.reduce((n, p) => n + p.lag(), 0),
      anomalies: () => this.pipeline?.anomalies.snapshot() ?? {},
      counters: () => ({
        ...this.capture?.counters.snapshot(), ...this.pipeline?.pipelineCounters(), ...this.pipeline?.flowCounters(),
        ...this.ship?.snapshot(), ...Object.assign({}, ...this.pumps.map((p) => p.counters())) as Record<string, number>,
      }),
    })
  }

  /** SIGHUP: log sources and the capture filter follow the new config. */
  async reload(next: Readonly<AgentConfig>): Promise<void> {
    const prev = this.cfg
    this.cfg = next
    const changed = (a: unknown, b: unknown): boolean => JSON.stringify(a) !== JSON.stringify(b)
    if (changed(prev.logs, next.logs)) {
      await this.stopLogs()
      await this.startLogs()
      this.log.info({ logSources: this.pumps.length }, 'log sources reloaded')
    }
    if (changed(prev.capture, next.capture)) {
      await this.stopCapture()
      try {
        this.startCapture()
      } catch (err) {
        // The new settings do not open (an interface that is not there): capture again with
        // the previous ones, which did, so "keeping the running config" stays true.
        this.cfg = { ...next, capture: prev.capture }
        this.startCapture()
        throw new AgentError(AgentErrorCode.CONFIG_INVALID, `capture settings not applied, still capturing with the previous ones: ${(err as Error).message}`, { cause: err })
      }
      this.log.info({ filter: next.capture.filter, interfaces: next.capture.interfaces }, 'capture restarted with the new settings')
    }
    for (const k of ['collector', 'ship', 'flows', 'heartbeat', 'state_dir'] as const) {
      if (changed(prev[k], next[k])) this.log.warn({ key: k }, `config section ${k} changed: it takes effect at the next restart`)
    }
  }

  async stop(): Promise<void> {
    await this.heartbeat?.stop()
    if (this.ticker) clearInterval(this.ticker)
    await this.stopCapture()
    this.pipeline?.flushAll()
    await this.stopLogs()
    if (this.ship) {
      await this.ship.batcher.flush()
      // Give the collector a moment to take what is spooled; the rest waits in the spool.
      // Not while it refuses the credential: waiting would only delay the stop.
      if (this.ship.credential.current === undefined) {
        await Promise.race([this.ship.drain(), this.ship.credential.whenRefused(), new Promise((r) => setTimeout(r, SHUTDOWN_DELIVERY_MS).unref())])
      }
      await this.ship.stop()
    }
    this.log.info('agent stopped')
  }
}

/** How long after a complete stop the process may linger before it exits by itself (see the end of run). */
const LINGER_EXIT_MS = 500

export function registerRun(program: Command): void {
  const cmd = program
    .command('run')
    .description('run the agent daemon: live capture, log sources, heartbeat/inventory and shipping to the collector')
    .option('-c, --config <file>', 'YAML config', '/etc/telltale/agent.yaml')
    .option('--pretty', 'human-readable logs instead of JSON')
  for (const k of leafKeys()) cmd.option(`${k.flag} <value>`, `override ${k.dotted} (env ${k.env})`)
  cmd.action(async (opts: Record<string, unknown> & { config: string; pretty?: boolean }) => {
    const load = (): Readonly<AgentConfig> => loadConfigOrThrow(opts.config, { flags: opts })
    const cfg = load()
    const root = createRootLogger({ level: cfg.log_level, pretty: opts.pretty === true })
    const log = root.child({ component: 'agent' })
    const daemon = new AgentDaemon(cfg, root)
    const svc = new AgentService({ statusSocket: statusSocketPath(cfg.state_dir), collectorUrl: cfg.collector.url }, { stats: () => daemon.stats(), log: root.child({ component: 'service' }) })
    let stopping: Promise<void> | undefined
    const stop = (): void => {
      if (stopping) return
      svc.stopping()
      stopping = daemon.stop().finally(() => svc.stop())
    }
    process.once('SIGTERM', stop)
    process.once('SIGINT', stop)
    let reloading = Promise.resolve()
    process.on('SIGHUP', () => {
      reloading = reloading.then(async () => {
        svc.reloading()
        try {
          await daemon.reload(load())
          svc.reloaded()
        } catch (err) {
          log.error({ err: (err as Error).message }, 'config reload failed; keeping the running config')
          svc.reloaded(err as Error)
        }
      })
    })
    try {
      await daemon.start()
      await svc.start()
    } catch (err) {
      await daemon.stop().catch(() => undefined)
      throw err
    }
    // The capture loop must tick at least every 30 s for the watchdog to be fed.
    if (cfg.capture.interfaces.length > 0) {
      const beat = svc.probe('flow-pipeline', 30_000)
      daemon.onTick = () => beat.beat(Date.now())
    }
    svc.ready()
    await new Promise<void>((resolve) => {
      const check = setInterval(() => { if (stopping) { clearInterval(check); void stopping.then(resolve) } }, 100)
    })
    // Everything is stopped and flushed. A closed `pcap` handle keeps its poll handle (and so
    // the process) alive until the next packet on its interface (docs/capture.md): on a quiet
    // link, or with a filter nothing matches, `systemctl stop` waited for TimeoutStopSec and a
    // SIGKILL. Exit once the loop had a moment to end by itself.
    setTimeout(() => process.exit(), LINGER_EXIT_MS).unref()
  })
}
