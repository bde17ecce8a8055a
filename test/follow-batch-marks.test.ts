// BatchMarks: the watermark is the longest run 1..w of marked numbers, whatever the
// order of marks; numbers above it are kept apart until the run reaches them; the saved form
// loads back to the same marks, and anything else is refused.
import t from 'tap'
import fc from 'fast-check'
import { BatchMarks } from '../collector/follow/batch-marks.js'

t.test('any order of marks: watermark = longest run from 1, has() = marked', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 120 }), (ns) => {
    const e = new BatchMarks()
    for (const n of ns) e.mark(n)
    const set = new Set(ns)
    let w = 0
    while (set.has(w + 1)) w++
    if (e.watermark !== w) return false
    for (let n = 1; n <= 61; n++) if (e.has(n) !== set.has(n)) return false
    for (const a of e.above) if (a <= e.watermark + 1) return false
    const back = new BatchMarks()
    return back.load(JSON.parse(JSON.stringify(e.toJSON()))) && back.watermark === e.watermark && [...back.above].sort().join() === [...e.above].sort().join()
  })))
})

t.test('markUpTo passes everything up to n and absorbs marks just above', async (t) => {
  const e = new BatchMarks()
  e.mark(7); e.mark(9); e.mark(12)
  e.markUpTo(8)
  t.equal(e.watermark, 9, '1..8 passed, 9 was marked')
  t.same([...e.above], [12])
  e.markUpTo(3)
  t.equal(e.watermark, 9, 'never goes back')
})

t.test('load refuses what is not its saved form', async (t) => {
  const e = new BatchMarks()
  e.mark(1)
  for (const bad of [null, 7, 'x', {}, { watermark: -1, above: [] }, { watermark: 1.5, above: [] }, { watermark: 3 }, { watermark: 3, above: 'x' }]) {
    t.notOk(e.load(bad), JSON.stringify(bad))
    t.equal(e.watermark, 1, 'unchanged')
  }
  t.ok(e.load({ watermark: 5, above: [3, 9, 'x', 9.5, 11] }))
  t.same(e.toJSON(), { watermark: 5, above: [9, 11] }, 'entries at or below the watermark and non-integers are dropped')
})
