/**
 * Heartbeat and inventory schedules (node-cron): a heartbeat (a batch with the agent's
 * self-stats) every `intervalS` seconds, and the host inventory at start and on
 * `inventoryCron` (hourly by default). Inert until start(); stop() cancels both.
 */
import cron, { type ScheduledTask } from 'node-cron'
import { Counters } from '../util/counters.js'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import type { InventoryProperties } from '../../protocol/index.js'
import { collectInventory } from './host-inventory-collect.js'

export interface HeartbeatConfig {
  intervalS: number
  inventoryCron: string
}

export type HeartbeatCounter = 'heartbeat_sent_total' | 'inventory_sent_total' | 'inventory_probe_failures_total'

export interface HeartbeatDeps {
  heartbeat: () => void
  inventory: (inv: InventoryProperties) => void
  log?: Logger
  collect?: typeof collectInventory
}

/** A 6-field cron expression firing every `s` seconds (s ≤ 60 divides a minute; otherwise minutes). */
export function everySeconds(s: number): string {
  if (s < 60) return `*/${s} * * * * *`
  const m = Math.max(1, Math.round(s / 60))
  return `0 */${m} * * * *`
}

export class Heartbeat {
  readonly counters = new Counters<HeartbeatCounter>()
  readonly config: Readonly<HeartbeatConfig>
  private readonly deps: HeartbeatDeps
  private tasks: ScheduledTask[] = []

  constructor(cfg: HeartbeatConfig, deps: HeartbeatDeps) {
    if (!cron.validate(cfg.inventoryCron)) throw new AgentError(AgentErrorCode.CONFIG_INVALID, `heartbeat.inventory_cron: "${cfg.inventoryCron}" is not a valid cron expression`)
    this.config = Object.freeze({ ...cfg })
    this.deps = deps
  }

  async start(): Promise<void> {
    this.tasks.push(cron.schedule(everySeconds(this.config.intervalS), () => this.beat(), { name: 'telltale-heartbeat', noOverlap: true }))
    this.tasks.push(cron.schedule(this.config.inventoryCron, () => this.inventory(), { name: 'telltale-inventory', noOverlap: true }))
    await this.inventory()
  }

  async stop(): Promise<void> {
    for (const t of this.tasks.splice(0)) await t.destroy()
  }

  beat(): void {
    this.counters.inc('heartbeat_sent_total')
    this.deps.heartbeat()
  }

  async inventory(): Promise<void> {
    const { inventory, failed } = await (this.deps.collect ?? collectInventory)()
    if (failed.length > 0) {
      this.counters.inc('inventory_probe_failures_total', failed.length)
      this.deps.log?.warn({ failed }, 'some inventory probes failed; their parts are left empty')
    }
    this.counters.inc('inventory_sent_total')
    this.deps.inventory(inventory)
  }
}
