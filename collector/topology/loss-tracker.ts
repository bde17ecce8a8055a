/**
 * Periods in which agents lost records (pure, bounded): shipping gaps the agent reported
 * (Gap with its time range) and capture drops (AgentStats dropped counters growing between
 * two reports). A flow observed by an agent during such a period is "degraded"; an absence
 * of traffic during one is not evidence of no traffic.
 */
import type { LossPeriod } from './types.js'

const MAX_PER_AGENT = 1000
/** Flows within this distance of a loss period count as degraded (packets near a drop burst). */
const SLACK_US = 1_000_000

export class LossTracker {
  private readonly byAgent = new Map<string, LossPeriod[]>()
  private readonly lastDrops = new Map<string, { atUs: number; dropped: number }>()
  dropped = 0

  add(p: LossPeriod): void {
    if (!(p.toUs >= p.fromUs)) return
    let list = this.byAgent.get(p.agentId)
    if (list === undefined) { list = []; this.byAgent.set(p.agentId, list) }
    if (list.some((q) => q.fromUs === p.fromUs && q.toUs === p.toUs && q.reason === p.reason)) return
    list.push(p)
    list.sort((a, b) => a.fromUs - b.fromUs)
    if (list.length > MAX_PER_AGENT) { list.shift(); this.dropped++ }
  }

  /**
   * An AgentStats report: total capture drops so far at `atUs`. Returns the loss period it
   * reveals (drops grew since the previous report), or undefined.
   */
  captureDrops(agentId: string, atUs: number, droppedTotal: number): LossPeriod | undefined {
    const prev = this.lastDrops.get(agentId)
    this.lastDrops.set(agentId, { atUs, dropped: droppedTotal })
    if (prev === undefined || droppedTotal <= prev.dropped || atUs <= prev.atUs) return undefined
    const p: LossPeriod = { agentId, fromUs: prev.atUs, toUs: atUs, reason: 'capture_drops', records: droppedTotal - prev.dropped }
    this.add(p)
    return p
  }

  /** True when the agent reported loss overlapping [fromUs, toUs]. */
  overlaps(agentId: string, fromUs: number, toUs: number): boolean {
    const list = this.byAgent.get(agentId)
    if (list === undefined) return false
    for (const p of list) {
      if (p.fromUs - SLACK_US > toUs) return false
      if (p.toUs + SLACK_US >= fromUs) return true
    }
    return false
  }

  /** Loss periods overlapping [fromUs, toUs], every agent, in time order. */
  within(fromUs: number, toUs: number, agents?: readonly string[]): LossPeriod[] {
    const out: LossPeriod[] = []
    for (const [agent, list] of this.byAgent) {
      if (agents !== undefined && !agents.includes(agent)) continue
      for (const p of list) if (p.toUs >= fromUs && p.fromUs <= toUs) out.push(p)
    }
    return out.sort((a, b) => a.fromUs - b.fromUs)
  }

  expire(cutoffUs: number): void {
    for (const [agent, list] of this.byAgent) {
      const keep = list.filter((p) => p.toUs >= cutoffUs)
      if (keep.length === 0) this.byAgent.delete(agent)
      else this.byAgent.set(agent, keep)
    }
  }

  clear(): void {
    this.byAgent.clear()
    this.lastDrops.clear()
  }
}
