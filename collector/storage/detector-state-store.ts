/**
 * What detectors learned (`ds detector_name`, keys.ts): opaque values written by
 * detection/detector-state.ts, all of them in one atomic write, read back at start.
 */
import { keys, prefixRange, KEY_PREFIX } from './keys.js'
import type { LevelDb, WriteOp } from './level-db.js'

export class DetectorStateStore {
  constructor(private readonly db: LevelDb) {}

  /** Every saved state by detector name. */
  async loadAll(): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>()
    const skip = keys.detectorState('').length
    for await (const [k, v] of this.db.entries(prefixRange(KEY_PREFIX.detectorState))) out.set(k.subarray(skip).toString('utf8'), v)
    return out
  }

  /** Replaces the saved states: `states` are written, saved names not in it are deleted. */
  async saveAll(states: ReadonlyMap<string, Buffer>, previous: Iterable<string> = []): Promise<void> {
    const ops: WriteOp[] = [...states].map(([name, value]) => ({ type: 'put', key: keys.detectorState(name), value }))
    for (const name of previous) if (!states.has(name)) ops.push({ type: 'del', key: keys.detectorState(name) })
    await this.db.write(ops)
  }
}
