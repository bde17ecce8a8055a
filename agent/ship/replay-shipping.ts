/**
 * `replay FILE… --collector URL`: ship what a replay produces and wait for the collector.
 * Enrolls when the state directory holds no identity, runs the ship stack, feeds it the
 * replay's flows, host observations and application-log rows (AppRecords, the logs in
 * flows.app_logs), waits until every batch is acknowledged (or parked) and every gap
 * delivered, and reports what was sent and acknowledged. Succeeds only when every flow and
 * every app record produced was acknowledged.
 */
import type { ConnRecord } from '../flow/conn-record.js'
import type { HostObservation } from '../app/app-analyzer.js'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import { createRootLogger } from '../util/logger.js'
import { loadConfigOrThrow } from '../config/index.js'
import { appLogSink, type AppLogCallback } from './app-log-sink.js'
import { ensureIdentity } from './ensure-identity.js'
import { ShipStack, type ShipStackConfig } from './ship-stack.js'

export interface ReplayShipOptions {
  collector: string
  enrollToken?: string
  stateDir: string
  caFile?: string
  certFile?: string
  keyFile?: string
  version: string
  /** Give up waiting for acknowledgements after this many seconds (undefined: wait as long as it takes). */
  waitTimeoutS?: number
  /** Overrides for tests and tuning (batch size, spool limit…). */
  ship?: Partial<Omit<ShipStackConfig, 'collectorUrl' | 'stateDir' | 'version' | 'batcher'>> & { batcher?: Partial<ShipStackConfig['batcher']> }
}

export interface ReplayShipResult {
  agentId: string
  flowsProduced: number
  flowsAcked: number
  observationsProduced: number
  observationsAcked: number
  /** Application-log rows handed to the batcher (those of the logs in flows.app_logs). */
  appRecordsProduced: number
  appRecordsAcked: number
  /** Rows not shipped: their JSON was over the size limit or not renderable (counted, no gap). */
  appRecordsUnshippable: number
  /** Unacknowledged batches an earlier, interrupted run left in the spool: sent (and counted in the acks) by this one. */
  carriedOver: { batches: number; flows: number; observations: number; appRecords: number }
  batchesAcked: number
  batchesParked: number
  flowsDropped: number
  duplicates: number
  seconds: number
  /** --wait-timeout passed with batches still unacknowledged (they stay in the spool). */
  timedOut?: { afterS: number; batchesLeft: number; stateDir: string }
  /** The collector refused the agent's credential: replay stopped waiting (the batches stay in the spool). */
  refused?: { reason: string; batchesLeft: number; stateDir: string; collector: string }
}

/** What a replay hands to shipping; onAppLog is undefined when flows.app_logs is empty. */
export interface ReplayShipSinks {
  onConn: (r: ConnRecord) => void
  onObservation: (obs: HostObservation) => void
  onAppLog: AppLogCallback | undefined
}

export async function shipReplay(o: ReplayShipOptions, produce: (sinks: ReplayShipSinks) => Promise<unknown>): Promise<ReplayShipResult> {
  const started = Date.now()
  const root = createRootLogger({ level: process.env.TELLTALE_LOG_LEVEL ?? 'warn' })
  const log = root.child({ component: 'replay-ship' })
  const tls = { ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.certFile ? { certFile: o.certFile } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}) }
  const { identity } = await ensureIdentity({ stateDir: o.stateDir, collector: o.collector, version: o.version, log, ...(o.enrollToken ? { token: o.enrollToken } : {}), ...tls })
  // The ship.* keys of the agent config apply (defaults, TELLTALE_SHIP_… environment).
  const cfg = loadConfigOrThrow(undefined)
  const sc = cfg.ship
  const s = o.ship ?? {}
  const stack = new ShipStack({
    collectorUrl: o.collector, stateDir: o.stateDir, version: o.version,
    batcher: { maxBatchBytes: sc.max_batch_bytes, maxBatchRecords: sc.max_batch_records, maxDelayMs: sc.max_delay_ms, maxPendingBytes: sc.max_pending_bytes, ...s.batcher },
    spoolMaxBytes: s.spoolMaxBytes ?? sc.spool_max_bytes, spoolSync: s.spoolSync ?? sc.spool_sync, gzipLevel: s.gzipLevel ?? sc.gzip_level,
    maxInFlight: s.maxInFlight ?? sc.max_in_flight, retryInitialMs: s.retryInitialMs ?? sc.retry_initial_ms, retryMaxMs: s.retryMaxMs ?? sc.retry_max_ms,
    requestTimeoutMs: s.requestTimeoutMs ?? 30_000, ...tls,
  }, { identity, log: root })
  await stack.start()
  const carried = stack.spool.carriedOver
  let produced = 0
  let observations = 0
  let appRecords = 0
  let timedOut: ReplayShipResult['timedOut']
  let refused: ReplayShipResult['refused']
  try {
    await produce({
      onConn: (r) => { produced++; stack.batcher.addConn(r) },
      onObservation: (obs) => { observations++; stack.batcher.addObservation(obs) },
      onAppLog: appLogSink(cfg.flows.app_logs, (path, row) => { appRecords++; stack.batcher.addAppRecord(path, row) }),
    })
    // Wait for every ack, unless the collector refuses the credential (waiting would not
    // help: the agent must enroll again) or --wait-timeout passes.
    let timer: NodeJS.Timeout | undefined
    const waits: Promise<'drained' | 'expired' | 'refused'>[] = [
      stack.drain().then(() => 'drained' as const),
      stack.credential.whenRefused().then(() => 'refused' as const),
    ]
    if (o.waitTimeoutS !== undefined) waits.push(new Promise<'expired'>((resolve) => { timer = setTimeout(() => resolve('expired'), o.waitTimeoutS! * 1000) }))
    const done = await Promise.race(waits)
    clearTimeout(timer)
    if (done === 'expired') timedOut = { afterS: o.waitTimeoutS!, batchesLeft: 0, stateDir: o.stateDir }
    if (done === 'refused') refused = { reason: stack.credential.current?.reason ?? '', batchesLeft: 0, stateDir: o.stateDir, collector: o.collector }
  } finally {
    await stack.stop()
  }
  if (timedOut) timedOut.batchesLeft = stack.spool.batches
  if (refused) refused.batchesLeft = stack.spool.batches
  const c = stack.snapshot()
  return {
    agentId: identity.agent_id,
    flowsProduced: produced,
    flowsAcked: c.shipper_flows_acked_total ?? 0,
    observationsProduced: observations,
    observationsAcked: c.shipper_observations_acked_total ?? 0,
    appRecordsProduced: appRecords,
    appRecordsAcked: c.shipper_app_records_acked_total ?? 0,
    appRecordsUnshippable: (c.batcher_app_records_oversized_total ?? 0) + (c.batcher_app_records_unencodable_total ?? 0),
    carriedOver: { batches: carried.batches, flows: carried.flows, observations: carried.observations, appRecords: carried.appRecords },
    batchesAcked: c.shipper_batches_acked_total ?? 0,
    batchesParked: c.shipper_batches_parked_total ?? 0,
    flowsDropped: (c.spool_flows_dropped_total ?? 0) + (c.batcher_flows_dropped_total ?? 0),
    duplicates: c.shipper_batches_duplicate_total ?? 0,
    seconds: (Date.now() - started) / 1000,
    ...(timedOut ? { timedOut } : {}),
    ...(refused ? { refused } : {}),
  }
}

/** The one-line summary `replay` prints, and the error when not everything was acknowledged. */
export function checkReplayShipped(r: ReplayShipResult): string {
  const co = r.carriedOver
  const earlier = co.batches > 0 ? ` (acknowledged counts include ${co.flows} flows, ${co.observations} host observations and ${co.appRecords} app records in ${co.batches} batches an earlier, interrupted run left in the spool)` : ''
  const line = `shipped to the collector as ${r.agentId}: ${r.flowsProduced} flows produced, ${r.flowsAcked} acknowledged` +
    `; ${r.observationsProduced} host observations, ${r.observationsAcked} acknowledged` +
    `; ${r.appRecordsProduced} app records, ${r.appRecordsAcked} acknowledged${r.appRecordsUnshippable ? ` (${r.appRecordsUnshippable} too large to ship)` : ''}` +
    ` in ${r.batchesAcked} batches (${r.duplicates} already stored)` +
    `${r.flowsDropped ? `, ${r.flowsDropped} dropped (reported as gaps)` : ''}${r.batchesParked ? `, ${r.batchesParked} batches refused` : ''}` +
    ` in ${r.seconds.toFixed(2)} s${earlier}`
  if (r.refused) {
    const rf = r.refused
    throw new AgentError(AgentErrorCode.SHIP_FAILED, `${line}: the collector refuses this agent's credential (${rf.reason.replace(/^: /, '')}); ` +
      `${rf.batchesLeft} batches stay in the spool (${rf.stateDir}). Enroll again on this machine (telltale-agent enroll --force --collector ${rf.collector} --token ENROLL_TOKEN --state-dir ${rf.stateDir}) ` +
      'and the next replay or run with that state directory sends them under the new identity')
  }
  if (r.timedOut) {
    const to = r.timedOut
    throw new AgentError(AgentErrorCode.SHIP_FAILED, `${line}: the collector did not acknowledge everything within --wait-timeout ${to.afterS} s; ${to.batchesLeft} batches stay in the spool (${to.stateDir}) and the next replay or run with that state directory sends them`)
  }
  if (r.flowsAcked !== r.flowsProduced + co.flows || r.appRecordsAcked !== r.appRecordsProduced - r.appRecordsUnshippable + co.appRecords || r.batchesParked > 0) {
    throw new AgentError(AgentErrorCode.SHIP_FAILED, `${line}: not everything was acknowledged`)
  }
  return line
}
