/**
 * The shipping components wired together: batcher → spool → shipper → version fallback →
 * retrying transport → HTTP transport. Started in that data order's reverse (spool, transport, shipper,
 * batcher) and stopped in reverse of start; stop() flushes the open batch into the spool
 * first, so nothing accepted is lost by a clean shutdown.
 */
import { join } from 'node:path'
import type { AgentStatsProperties } from '../../protocol/index.js'
import type { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import { Batcher, type BatcherConfig } from './batcher.js'
import type { FlowEncodingAnomaly } from './flow-encoding.js'
import { CredentialRefusal } from './credential-refusal.js'
import { HttpTransport, type TlsFiles } from './http-transport.js'
import { agentAuthorization, type AgentIdentity } from './identity.js'
import { RetryingTransport } from './retrying-transport.js'
import { Shipper } from './shipper.js'
import { Spool } from './spool.js'
import { VersionFallbackTransport } from './version-fallback-transport.js'

export interface ShipStackConfig extends TlsFiles {
  collectorUrl: string
  stateDir: string
  batcher: BatcherConfig
  spoolMaxBytes: number
  spoolSync: boolean
  gzipLevel: number
  maxInFlight: number
  retryInitialMs: number
  retryMaxMs: number
  requestTimeoutMs: number
  version: string
}

export class ShipStack {
  readonly spool: Spool
  readonly http: HttpTransport
  readonly retrying: RetryingTransport
  readonly versions: VersionFallbackTransport
  readonly shipper: Shipper
  readonly batcher: Batcher
  /** Set while the collector refuses this agent's credential (shipping paused, batches kept). */
  readonly credential = new CredentialRefusal()
  private started = false

  constructor(cfg: ShipStackConfig, deps: { identity: AgentIdentity; log: Logger; stats?: () => AgentStatsProperties; flowAnomalies?: Counters<FlowEncodingAnomaly> }) {
    const log = deps.log
    this.spool = new Spool({
      dir: join(cfg.stateDir, 'spool'), maxBytes: cfg.spoolMaxBytes, sync: cfg.spoolSync,
      protectHead: cfg.maxInFlight, gzipLevel: cfg.gzipLevel, agentId: deps.identity.agent_id,
      machineIdHash: deps.identity.machine_id_hash,
    }, { log: log.child({ component: 'spool' }) })
    this.http = new HttpTransport({
      url: cfg.collectorUrl, connections: cfg.maxInFlight, requestTimeoutMs: cfg.requestTimeoutMs, keepAliveTimeoutMs: 60_000,
      authorization: agentAuthorization(deps.identity), userAgent: `telltale-agent/${cfg.version}`,
      ...(cfg.caFile ? { caFile: cfg.caFile } : {}), ...(cfg.certFile ? { certFile: cfg.certFile } : {}), ...(cfg.keyFile ? { keyFile: cfg.keyFile } : {}),
    })
    this.retrying = new RetryingTransport(this.http, { initialDelayMs: cfg.retryInitialMs, maxDelayMs: cfg.retryMaxMs }, {
      log: log.child({ component: 'transport' }), credential: this.credential,
      reenrollHint: `telltale-agent enroll --force --collector ${cfg.collectorUrl} --token ENROLL_TOKEN --state-dir ${cfg.stateDir}`,
    })
    this.versions = new VersionFallbackTransport(this.retrying, { gzipLevel: cfg.gzipLevel }, { log: log.child({ component: 'transport' }) })
    this.shipper = new Shipper({ maxInFlight: cfg.maxInFlight }, { spool: this.spool, transport: this.versions, log: log.child({ component: 'shipper' }) })
    this.batcher = new Batcher(cfg.batcher, {
      append: (i) => this.spool.append(i),
      addGap: (g) => this.spool.addGap(g),
      log: log.child({ component: 'batcher' }),
      ...(deps.stats ? { stats: deps.stats } : {}),
      ...(deps.flowAnomalies ? { flowAnomalies: deps.flowAnomalies } : {}),
    })
  }

  async start(): Promise<void> {
    await this.spool.start()
    this.http.start()
    this.shipper.start()
    this.batcher.start()
    this.started = true
  }

  /** Every closed batch acknowledged (or parked) and every pending gap delivered. */
  async drain(): Promise<void> {
    await this.batcher.flush()
    // Gaps wait for a batch to ride in: send (empty) ones until none is pending. Bounded:
    // a collector refusing everything turns each carrier into a new gap.
    for (let i = 0; i < 3; i++) {
      await this.shipper.whenIdle()
      if (this.spool.pendingGapCount === 0) return
      this.batcher.heartbeat()
      await this.batcher.flush()
    }
    await this.shipper.whenIdle()
  }

  async stop(): Promise<void> {
    if (!this.started) return
    this.started = false
    await this.batcher.stop()
    await this.shipper.stop()
    await this.http.stop()
    await this.spool.stop()
  }

  snapshot(): Record<string, number> {
    return {
      ...this.batcher.counters.snapshot(), ...this.spool.snapshot(), ...this.shipper.counters.snapshot(),
      ...this.versions.counters.snapshot(), ...this.retrying.counters.snapshot(), ...this.http.counters.snapshot(),
      ship_credential_refused: this.credential.current === undefined ? 0 : 1,
    }
  }
}
