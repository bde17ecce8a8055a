/**
 * Named monotonically increasing counters for one component. Cheap to bump on the hot path
 * (a property increment on a plain object), snapshotted for heartbeat, /metrics and tests.
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
