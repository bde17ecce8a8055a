// rememberBounded: stores and returns the value; a memo at its bound is emptied first, so it
// never holds more than `max` entries.
import t from 'tap'
import { rememberBounded } from '../agent/util/bounded-memo.js'

t.test('stores, returns, and empties the memo at its bound', async (t) => {
  const m = new Map<string, number>()
  t.equal(rememberBounded(m, 'a', 1, 3), 1)
  rememberBounded(m, 'b', 2, 3)
  rememberBounded(m, 'c', 3, 3)
  t.same([...m.keys()], ['a', 'b', 'c'])
  t.equal(rememberBounded(m, 'd', 4, 3), 4)
  t.same([...m.entries()], [['d', 4]], 'full: emptied before the new entry')
  const calls: string[] = []
  const f = (k: string): number => { calls.push(k); return k.length }
  const get = (k: string): number => m.get(k) ?? rememberBounded(m, k, f(k), 3)
  t.equal(get('xyz'), 3)
  t.equal(get('xyz'), 3)
  t.same(calls, ['xyz'], 'computed once while remembered')
  const flags = new Map<string, boolean>()
  t.equal(flags.get('k') ?? rememberBounded(flags, 'k', false, 2), false)
  t.equal(flags.get('k'), false, 'a false value is remembered too (?? only skips undefined)')
})
