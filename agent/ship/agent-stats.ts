/**
 * The heartbeat payload (AgentStats) from whatever the daemon runs: capture counters per
 * interface, flow-table size and evictions, spool level, log lag, anomalies and every
 * component counter. Pure apart from the clock; missing parts are zero.
 */
import type { AgentStatsProperties } from '../../protocol/index.js'

export interface StatsSources {
  version: string
  startedAtMs: number
  capture?: () => Array<{ iface: string; received: number; kernelDropped: number; ifDropped: number; up?: boolean }>
  flowTableSize?: () => number
  flowTableEvictions?: () => number
  spool?: () => { bytes: number; batches: number; oldestAgeMs: number }
  logLagBytes?: () => number
  anomalies?: () => Record<string, number>
  counters?: () => Record<string, number>
}

function uint64Map(m: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {}
  if (!m) return out
  for (const [k, v] of Object.entries(m)) if (Number.isFinite(v) && v >= 0) out[k] = Math.floor(v)
  return out
}

export function buildAgentStats(s: StatsSources, now = Date.now()): AgentStatsProperties {
  const spool = s.spool?.()
  return {
    collectedAtUs: now * 1000,
    version: s.version,
    uptimeS: Math.max(0, Math.floor((now - s.startedAtMs) / 1000)),
    capture: (s.capture?.() ?? []).map((c) => ({ iface: c.iface, received: c.received, dropped: c.kernelDropped, ifDropped: c.ifDropped, ...(c.up === false ? { down: true } : {}) })),
    flowTableSize: s.flowTableSize?.() ?? 0,
    flowTableEvictions: s.flowTableEvictions?.() ?? 0,
    spoolBytes: spool?.bytes ?? 0,
    spoolBatches: spool?.batches ?? 0,
    spoolOldestAgeMs: spool?.oldestAgeMs ?? 0,
    logLagBytes: s.logLagBytes?.() ?? 0,
    anomalies: uint64Map(s.anomalies?.()),
    counters: uint64Map(s.counters?.()),
  }
}
