/**
 * What `telltale-agent status` and the STATUS= line show, derived from the daemon's
 * heartbeat figures (AgentStats). Packet rates and "last ack" need history, so a tracker
 * keeps the previous sample (taken by the status timer) and the time each interesting
 * counter last moved. Pure apart from the times passed in.
 */
import type { AgentStatsProperties } from '../../protocol/index.js'

export type ServiceState = 'starting' | 'running' | 'reloading' | 'stopping'

export interface InterfaceStatus {
  iface: string
  received: number
  pps: number
  kernel_dropped: number
  if_dropped: number
  /** The device failed (gone or down) and is being reopened. */
  down: boolean
}

export interface AgentStatusDoc {
  service: 'telltale-agent'
  version: string
  pid: number
  state: ServiceState
  uptime_s: number
  healthy: boolean
  unhealthy_reasons: string[]
  capture: InterfaceStatus[]
  flows: { active: number; evicted: number }
  spool: { bytes: number; batches: number; oldest_age_s: number }
  collector: {
    url: string
    /** null until the first request ended either way. */
    reachable: boolean | null
    last_ack_age_s: number | null
    last_error_age_s: number | null
    batches_acked: number
    batches_parked: number
    /** The collector refuses the agent's credential (revoked or unknown): shipping paused until it is enrolled again. */
    credential_refused: boolean
  }
  logs: { lag_bytes: number }
  reloads: { ok: number; failed: number; last_error: string }
}

type Stats = AgentStatsProperties

const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
const counter = (s: Stats, name: string): number => n(s.counters?.[name])

const OK_COUNTERS = ['transport_ok_total']
const FAIL_COUNTERS = ['transport_network_errors_total', 'transport_retryable_status_total']
const ACK_COUNTERS = ['shipper_batches_acked_total', 'shipper_batches_duplicate_total']

interface Sample { atMs: number; received: Map<string, number>; ok: number; fail: number; ack: number }

function sampleOf(s: Stats, atMs: number): Sample {
  const sum = (names: string[]): number => names.reduce((t, k) => t + counter(s, k), 0)
  return {
    atMs,
    received: new Map((s.capture ?? []).map((c) => [c.iface ?? '', n(c.received)])),
    ok: sum(OK_COUNTERS), fail: sum(FAIL_COUNTERS), ack: sum(ACK_COUNTERS),
  }
}

export class AgentStatusTracker {
  private base: Sample | undefined
  private lastOkMs: number | undefined
  private lastFailMs: number | undefined
  private lastAckMs: number | undefined

  /** Called by the status timer: moves the baseline rates are measured against. */
  observe(s: Stats, nowMs: number): void {
    const cur = sampleOf(s, nowMs)
    this.noteChanges(cur)
    this.base = cur
  }

  report(s: Stats, nowMs: number, extra: { url: string; pid: number; state: ServiceState; healthy: boolean; reasons: readonly string[]; reloads: AgentStatusDoc['reloads'] }): AgentStatusDoc {
    const cur = sampleOf(s, nowMs)
    const times = this.changeTimes(cur)
    const base = this.base
    const dt = base ? (nowMs - base.atMs) / 1000 : 0
    const age = (t: number | undefined): number | null => (t === undefined ? null : Math.max(0, Math.round((nowMs - t) / 1000)))
    let reachable: boolean | null = null
    if (times.ok !== undefined || times.fail !== undefined) reachable = (times.ok ?? -Infinity) >= (times.fail ?? -Infinity)
    return {
      service: 'telltale-agent',
      version: s.version ?? '',
      pid: extra.pid,
      state: extra.state,
      uptime_s: n(s.uptimeS),
      healthy: extra.healthy,
      unhealthy_reasons: [...extra.reasons],
      capture: (s.capture ?? []).map((c) => {
        const iface = c.iface ?? ''
        const prev = base?.received.get(iface)
        const pps = prev !== undefined && dt > 0 ? Math.max(0, (n(c.received) - prev) / dt) : 0
        return { iface, received: n(c.received), pps: Math.round(pps), kernel_dropped: n(c.dropped), if_dropped: n(c.ifDropped), down: c.down === true }
      }),
      flows: { active: n(s.flowTableSize), evicted: n(s.flowTableEvictions) },
      spool: { bytes: n(s.spoolBytes), batches: n(s.spoolBatches), oldest_age_s: Math.round(n(s.spoolOldestAgeMs) / 1000) },
      collector: {
        url: extra.url,
        reachable,
        last_ack_age_s: age(times.ack),
        last_error_age_s: age(times.fail),
        batches_acked: counter(s, 'shipper_batches_acked_total'),
        batches_parked: counter(s, 'shipper_batches_parked_total'),
        credential_refused: counter(s, 'ship_credential_refused') > 0,
      },
      logs: { lag_bytes: n(s.logLagBytes) },
      reloads: extra.reloads,
    }
  }

  private noteChanges(cur: Sample): void {
    const t = this.changeTimes(cur)
    this.lastOkMs = t.ok
    this.lastFailMs = t.fail
    this.lastAckMs = t.ack
  }

  /** A counter that grew since the baseline moved "now" (between the two samples). */
  private changeTimes(cur: Sample): { ok: number | undefined; fail: number | undefined; ack: number | undefined } {
    const b = this.base
    const grew = (now: number, before: number | undefined): boolean => now > (before ?? 0)
    return {
      ok: grew(cur.ok, b?.ok) ? cur.atMs : this.lastOkMs,
      fail: grew(cur.fail, b?.fail) ? cur.atMs : this.lastFailMs,
      ack: grew(cur.ack, b?.ack) ? cur.atMs : this.lastAckMs,
    }
  }
}

function bytes(v: number): string {
  if (v < 1024) return `${v} B`
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KiB`
  if (v < 1024 ** 3) return `${(v / 1024 / 1024).toFixed(1)} MiB`
  return `${(v / 1024 ** 3).toFixed(2)} GiB`
}

/** The one-line STATUS= for `systemctl status`. */
export function statusLine(d: AgentStatusDoc): string {
  const pps = d.capture.reduce((t, c) => t + c.pps, 0)
  const drops = d.capture.reduce((t, c) => t + c.kernel_dropped + c.if_dropped, 0)
  const collector = d.collector.credential_refused ? 'collector REFUSES the credential (enroll again)'
    : d.collector.reachable === null ? 'collector not contacted yet'
    : d.collector.reachable ? `collector ok${d.collector.last_ack_age_s === null ? '' : ` (last ack ${d.collector.last_ack_age_s} s ago)`}`
      : 'collector UNREACHABLE'
  const down = d.capture.filter((c) => c.down).map((c) => c.iface)
  const capture = d.capture.length === 0 ? 'no capture' : `${pps} pps, ${drops} dropped${down.length > 0 ? `, ${down.join(' ')} DOWN` : ''}`
  return `${d.state}: ${capture}, ${d.flows.active} flows, spool ${d.spool.batches} batches/${bytes(d.spool.bytes)}, ${collector}`
}

/** The human output of `telltale-agent status`. */
export function formatAgentStatus(d: AgentStatusDoc): string {
  const lines = [
    `telltale-agent ${d.version} (pid ${d.pid}) ${d.state}, up ${d.uptime_s} s, ${d.healthy ? 'healthy' : `UNHEALTHY: ${d.unhealthy_reasons.join('; ')}`}`,
    'capture:',
    ...(d.capture.length === 0 ? ['  (no interfaces configured)'] : d.capture.map((c) =>
      `  ${c.iface}: ${c.down ? 'DOWN (the device failed; reopened every 5 s), ' : ''}${c.received} packets, ${c.pps} pps, kernel dropped ${c.kernel_dropped}, interface dropped ${c.if_dropped}`)),
    `flows: ${d.flows.active} active, ${d.flows.evicted} evicted (table full)`,
    `spool: ${d.spool.batches} batches, ${bytes(d.spool.bytes)}, oldest ${d.spool.oldest_age_s} s`,
    `collector: ${d.collector.url || '(not configured)'}: ${d.collector.credential_refused ? 'REFUSES this agent\'s credential (revoked or unknown: run telltale-agent enroll --force, then restart; batches are kept in the spool)'
      : d.collector.reachable === null ? 'not contacted yet' : d.collector.reachable ? 'reachable' : 'UNREACHABLE'}`
      + `, last ack ${d.collector.last_ack_age_s === null ? 'never' : `${d.collector.last_ack_age_s} s ago`}`
      + `, ${d.collector.batches_acked} batches acked, ${d.collector.batches_parked} parked`
      + (d.collector.last_error_age_s === null ? '' : `, last error ${d.collector.last_error_age_s} s ago`),
    `logs: ${bytes(d.logs.lag_bytes)} not read yet`,
    `reloads: ${d.reloads.ok} ok, ${d.reloads.failed} failed${d.reloads.last_error ? ` (last: ${oneLine(d.reloads.last_error)})` : ''}`,
  ]
  return `${lines.join('\n')}\n`
}

/** A multi-line error (a config problem list) on one status line: "head: a; b". */
function oneLine(s: string): string {
  return s.replace(/:\s*\n\s*/, ': ').replace(/\s*\n\s*/g, '; ')
}
