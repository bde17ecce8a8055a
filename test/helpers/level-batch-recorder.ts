// A LevelBatch that keeps copies of what was put (as level's native batch copies a put's
// bytes at once), for tests of code that fills a level batch from a reused scratch buffer.
import type { LevelBatch } from '../../collector/storage/level-db.js'

export function levelBatchRecorder(): { b: LevelBatch; puts: Array<[Buffer, Buffer]> } {
  const puts: Array<[Buffer, Buffer]> = []
  const b: LevelBatch = {
    put: (k, v) => { puts.push([Buffer.from(k), Buffer.from(v)]) },
    putText: () => { throw new Error('unused') },
    del: () => { throw new Error('unused') },
    write: async () => undefined,
    close: async () => undefined,
  }
  return { b, puts }
}
