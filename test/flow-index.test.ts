/**
 * The flow table's open-addressing index (agent/flow/flow-index.ts): lookups, deletions that
 * shift later entries of a probe run back, growth, and wrap-around at the end of the table,
 * checked against a Map model with many colliding hashes.
 */
import t from 'tap'
import { Conn } from '../agent/flow/conn.js'
import { FlowIndex } from '../agent/flow/flow-index.js'
import { FlowKey } from '../agent/flow/flow-key.js'

function key(n: number, hash: number): FlowKey {
  const k = new FlowKey()
  k.proto = 17
  k.a0 = n
  k.b0 = n ^ 0x5a5a
  k.pa = n & 0xffff
  k.pb = 53
  k.hash = hash
  return k
}

function conn(k: FlowKey): Conn {
  const c = new Conn()
  c.setKey(k)
  return c
}

t.test('find, insert and delete agree with a Map, with colliding and wrapping hashes', async (t) => {
  const idx = new FlowIndex()
  const model = new Map<number, { k: FlowKey, c: Conn }>()
  let seed = 12345
  const rnd = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 8 }
  // Few distinct hashes, many near the end of a 1024-slot table: long runs that wrap around.
  const hashOf = (n: number): number => (n % 7 === 0 ? 1023 : n % 5 === 0 ? 1022 : (n * 2654435761) >>> 2) & 0x3fffffff
  let mismatches = 0
  for (let step = 0; step < 20000; step++) {
    const n = rnd() % 3000
    const have = model.get(n)
    if (have === undefined) {
      const k = key(n, hashOf(n))
      if (idx.find(k) !== undefined) mismatches++
      const c = conn(k)
      idx.insert(c)
      model.set(n, { k, c })
    } else if (rnd() % 2 === 0) {
      idx.delete(have.c)
      model.delete(n)
      if (idx.find(have.k) !== undefined) mismatches++
      have.c.release()
    }
    if (step % 997 === 0) {
      for (const { k, c } of model.values()) if (idx.find(k) !== c) mismatches++
    }
  }
  for (const { k, c } of model.values()) if (idx.find(k) !== c) mismatches++
  t.equal(mismatches, 0)
  t.equal(idx.size, model.size)
  for (const { c } of model.values()) { idx.delete(c); c.release() }
  t.equal(idx.size, 0)
})
