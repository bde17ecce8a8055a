/**
 * fast-check fuzzing of the HTTP analyzer: random bytes, mutated real-looking exchanges,
 * random chunking and gaps. Properties: never throws, rows bounded by requests + replies,
 * pending line bytes bounded, and the rows do not depend on how the stream is chunked.
 */
import t from 'tap'
import fc from 'fast-check'
import { harness } from './helpers/http-harness.js'

const REQ = 'GET /index.html?q=%41 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: fuzz\r\nAuthorization: Basic dTpw\r\n\r\n' +
  'POST /form HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n'
const REP = 'HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 5\r\n\r\nhello' +
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'

const mutate = (base: string) => fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'del', 'ins')), { maxLength: 12 })
  .map((ops) => {
    const b = [...Buffer.from(base, 'latin1')]
    for (const [pos, v, op] of ops) {
      const i = b.length ? pos % b.length : 0
      if (op === 'set') b[i] = v
      else if (op === 'del') b.splice(i, 1)
      else b.splice(i, 0, v)
    }
    return Buffer.from(b)
  })

const LIMITS = { maxLineBytes: 256, maxHeaders: 16, maxHeaderBytes: 256, maxInflateInput: 4096, maxPending: 8 }

function run(req: Buffer, rep: Buffer, cuts: number[], gaps: boolean, interleave = true): { rows: number; pending: number; out: string } {
  const { a, rec } = harness(LIMITS)
  let pending = 0
  let ri = 0
  let pi = 0
  let k = 0
  while (ri < req.length || pi < rep.length) {
    const n = cuts.length ? (cuts[k++ % cuts.length]! % 97) + 1 : 1 << 20
    if (ri < req.length) { a.deliver(true, req.subarray(ri, ri + n), 1); ri += n }
    if (pi < rep.length && (interleave || ri >= req.length)) { a.deliver(false, rep.subarray(pi, pi + n), 1); pi += n }
    if (gaps && k % 5 === 3) a.gap(k % 2 === 0, n)
    const readers = (a as unknown as { readers: Array<{ pendingLength: number }> }).readers
    pending = Math.max(pending, readers[0]!.pendingLength, readers[1]!.pendingLength)
  }
  a.finish(2)
  return { rows: rec.rows.length, pending, out: JSON.stringify(rec.rows, (_k, v: unknown) => (Array.isArray(v) && typeof v[0] === 'string' && /^F/.test(v[0]) ? v.length : v)) }
}

t.test('random bytes in both directions never throw; state stays bounded', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 3000 }), fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(),
    (q, p, cuts, gaps) => {
      const r = run(Buffer.from(q), Buffer.from(p), cuts, gaps)
      return r.pending <= LIMITS.maxLineBytes && r.rows <= q.length + p.length + 1
    }), { numRuns: 300 })
  t.pass('no exception')
})

t.test('mutated exchanges never throw and stay bounded', async (t) => {
  fc.assert(fc.property(mutate(REQ), mutate(REP), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (q, p, cuts, gaps) => {
    const r = run(q, p, cuts, gaps)
    return r.pending <= LIMITS.maxLineBytes && r.rows <= 16
  }), { numRuns: 500 })
  t.pass('no exception')
})

// (Interleaving of the two directions legitimately changes pairing, as in Zeek: each side is
// delivered whole, the originator first, cut differently.)
t.test('rows do not depend on chunking (mutated exchanges, no gaps)', async (t) => {
  fc.assert(fc.property(mutate(REQ), mutate(REP), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (q, p, cuts) => {
    return run(q, p, cuts, false, false).out === run(q, p, [], false, false).out
  }), { numRuns: 300 })
  const clean = run(Buffer.from(REQ, 'latin1'), Buffer.from(REP, 'latin1'), [], false)
  t.equal(clean.rows, 2, 'the unmutated exchange gives its two rows')
})
