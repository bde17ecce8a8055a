/**
 * Named monotonically increasing counters for one component: a property increment on the
 * hot path, snapshotted for /metrics and tests. (Same shape as the agent's; collector/ and
 * agent/ do not share code outside protocol/.)
 */
export class Counters<K extends string = string> {
  private readonly values: Record<string, number> = Object.create(null) as Record<string, number>

  inc(name: K, by = 1): void {
    this.values[name] = (this.values[name] ?? 0) + by
  }

  get(name: K): number {
    return this.values[name] ?? 0
  }

  snapshot(): Record<string, number> {
    return { ...this.values }
  }
}
