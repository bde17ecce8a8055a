/**
 * Remembers, per agent, the periods in which its evidence may be incomplete: reported gaps
 * (records the agent dropped), capture drops (AgentStats counters that grew between two
 * reports) and flows with missed bytes. A finding whose period overlaps one of its
 * agents' loss periods gets its confidence multiplied by the configured factor.
 * Bounded: the last `maxPerAgent` periods per agent, at most `maxAgents` agents.
 */
import { BoundedMap } from './bounded-map.js'
import type { Finding } from './detection-types.js'

interface AgentLoss { periods: Array<[number, number]>; lastDropped: number; lastStatsUs: number }

export class CaptureLossTracker {
  private readonly agents: BoundedMap<string, AgentLoss>

  constructor(private readonly factor: number, private readonly maxPerAgent = 256, maxAgents = 10_000) {
    this.agents = new BoundedMap(maxAgents)
  }

  private agent(id: string): AgentLoss {
    let a = this.agents.get(id)
    if (a === undefined) { a = { periods: [], lastDropped: -1, lastStatsUs: 0 }; this.agents.set(id, a) }
    return a
  }

  addPeriod(agentId: string, fromUs: number, toUs: number): void {
    const a = this.agent(agentId)
    const last = a.periods[a.periods.length - 1]
    if (last !== undefined && fromUs <= last[1] && toUs >= last[0]) { last[0] = Math.min(last[0], fromUs); last[1] = Math.max(last[1], toUs); return }
    a.periods.push([fromUs, toUs])
    if (a.periods.length > this.maxPerAgent) a.periods.shift()
  }

  /** Capture drop counters (received/dropped summed over interfaces) from an AgentStats report. */
  stats(agentId: string, collectedAtUs: number, dropped: number): void {
    const a = this.agent(agentId)
    if (a.lastDropped >= 0 && dropped > a.lastDropped) this.addPeriod(agentId, a.lastStatsUs, collectedAtUs)
    a.lastDropped = dropped
    a.lastStatsUs = collectedAtUs
  }

  lossy(agents: readonly string[], fromUs: number, toUs: number): boolean {
    for (const id of agents) {
      const a = this.agents.get(id)
      if (a === undefined) continue
      for (const [s, e] of a.periods) if (s <= toUs && e >= fromUs) return true
    }
    return false
  }

  adjust(f: Finding): Finding {
    if (this.lossy(f.agents, f.firstSeenUs, f.lastSeenUs)) {
      f.confidence = Math.round(f.confidence * this.factor * 100) / 100
      f.lossy = true
    }
    return f
  }
}
