// BatchFollower (collector/follow): in order, bounded, and nothing acked skipped — also a
// batch stored while the follower was reading the store back (its offer came while behind).
import t from 'tap'
import { pino } from 'pino'
import { BatchFollower, type FollowCount } from '../collector/follow/batch-follower.js'
import type { BatchRecord, CollectorStore } from '../collector/storage/index.js'

interface B { n: number }

/** The part of CollectorStore a follower uses: batch numbering, stored records, abandoned writes. */
function fakeStore(): { store: CollectorStore; put(n: number): void; writing: Set<number>; last: () => number; setLast(n: number): void } {
  const stored = new Map<number, BatchRecord>()
  const writing = new Set<number>()
  let last = 0
  const batches = {
    numbering: () => ({ last, writing: new Set(writing) }),
    onAbandoned: () => undefined,
    async *batchRecords(from = 0): AsyncGenerator<BatchRecord> {
      // A snapshot, like a LevelDB iterator.
      const ns = [...stored.keys()].filter((n) => n >= from).sort((a, b) => a - b)
      for (const n of ns) { await new Promise((r) => setImmediate(r)); yield stored.get(n)! }
    },
  }
  return {
    store: { batches } as unknown as CollectorStore,
    put: (n) => { stored.set(n, { n } as BatchRecord); if (n > last) last = n },
    writing, last: () => last, setLast: (n) => { last = n },
  }
}

function follower(f: ReturnType<typeof fakeStore>, queueBatches: number, handle: (b: B) => Promise<void>) {
  const counts: Record<FollowCount, number> = { deferred: 0, caught_up: 0, passed: 0, dropped: 0, read_errors: 0 }
  const fl = new BatchFollower<B>(f.store, {
    name: 'test', queueBatches, readBack: async (rec) => ({ n: rec.n }), handle, count: (w, n = 1) => { counts[w] += n },
  }, pino({ level: 'silent' }))
  return { fl, counts }
}

t.test('live batches are handled in order; a full queue defers and reads back; none skipped, none twice', async (t) => {
  const f = fakeStore()
  const seen: number[] = []
  const { fl, counts } = follower(f, 2, async (b) => { seen.push(b.n); await new Promise((r) => setTimeout(r, 1)) })
  fl.start(false)
  for (let n = 1; n <= 20; n++) { f.put(n); fl.offer({ n }) }
  await fl.idle()
  t.same(seen, Array.from({ length: 20 }, (_, i) => i + 1), 'every batch once, in number order')
  t.ok(counts.deferred > 0 && counts.caught_up > 0, `deferred ${counts.deferred}, read back ${counts.caught_up}`)
  t.same(fl.marks.toJSON(), { watermark: 20, above: [] })
  t.equal(fl.backlog, 0)
})

t.test('a batch stored while reading back (offered while behind) is read back before live hand-over resumes', async (t) => {
  const f = fakeStore()
  const seen: number[] = []
  let injected = false
  const { fl } = follower(f, 1, async (b) => {
    seen.push(b.n)
    // While batch 3 is read back, batch 4 is numbered, stored and offered: deferred (behind).
    if (b.n === 3 && !injected) { injected = true; f.put(4); fl.offer({ n: 4 }) }
    await new Promise((r) => setImmediate(r))
  })
  fl.start(false)
  // Batches 1..3 stored; the queue of one takes batch 1, batch 2 makes the follower behind.
  for (let n = 1; n <= 3; n++) { f.put(n); fl.offer({ n }) }
  await fl.idle()
  t.ok(injected)
  t.same(seen, [1, 2, 3, 4], 'batch 4 was read back, not lost')
  t.same(fl.marks.toJSON(), { watermark: 4, above: [] })
  // And live hand-over works again afterwards.
  f.put(5); fl.offer({ n: 5 })
  await fl.idle()
  t.same(seen, [1, 2, 3, 4, 5])
})

t.test('numbers never stored and not being written are passed; one being written is waited for', async (t) => {
  const f = fakeStore()
  const seen: number[] = []
  const { fl, counts } = follower(f, 1, async (b) => { seen.push(b.n) })
  fl.marks.markUpTo(0)
  // 1 stored, 2 abandoned long ago (no record), 3 stored: a restart resumes from the marks.
  f.put(1); f.put(3)
  fl.start(true)
  await fl.idle()
  t.same(seen, [1, 3])
  t.equal(counts.passed, 1, 'number 2 passed')
  t.same(fl.marks.toJSON(), { watermark: 3, above: [] })
  // 4 is being written while 5 is stored and read back: 4 is not passed, its live offer comes later.
  f.writing.add(4); f.setLast(4); f.put(5)
  fl.catchUp()
  await fl.idle()
  t.same(fl.marks.toJSON(), { watermark: 3, above: [5] })
  f.writing.delete(4); f.put(4); fl.offer({ n: 4 })
  await fl.idle()
  t.same(seen, [1, 3, 5, 4])
  t.same(fl.marks.toJSON(), { watermark: 5, above: [] })
})
