/**
 * Dispatcher and detection buffer: port attach, content detection over the growing prefix
 * of a direction with the earlier chunks replayed in arrival order, the dpd_buffer_size
 * bound, no detection state for UDP, confirmation ending detection, the live-analyzer count
 * behind active(), exceptions detaching, flips.
 */
import t from 'tap'
import { AppDispatcher } from '../agent/app/app-dispatcher.js'
import { DpdBuffer } from '../agent/app/dpd-buffer.js'
import type { AppAnalyzerFactory, AppConnInfo, AppOutput, AppTransport } from '../agent/app/app-analyzer.js'

const conn = (proto: AppTransport, respP: number): AppConnInfo => ({ uid: 'C1', ts: 1, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP, proto })

interface Seen { events: string[]; outs: AppOutput[] }

function factory(name: string, opts: { ports?: number[]; transports?: AppTransport[]; detect?: (isOrig: boolean, b: Buffer) => boolean; onData?: (out: AppOutput, isOrig: boolean, d: Buffer) => void }, seen: Seen): AppAnalyzerFactory {
  return {
    name,
    transports: opts.transports ?? ['tcp'],
    ports: opts.ports ?? [],
    ...(opts.detect ? { detect: opts.detect } : {}),
    create: (_c, out) => {
      seen.outs.push(out)
      return {
        deliver: (isOrig, data) => { seen.events.push(`${name}:${isOrig ? 'o' : 'r'}:${data.toString('latin1')}`); opts.onData?.(out, isOrig, data) },
        finish: () => { seen.events.push(`${name}:finish`) },
      }
    },
  }
}

t.test('DpdBuffer keeps one prefix per direction, replays in arrival order, flips', async (t) => {
  const b = new DpdBuffer(8)
  const p1 = b.add(true, Buffer.from('abc'), 1)
  b.add(false, Buffer.from('XY'), 2)
  const p2 = b.add(true, Buffer.from('defghij'), 3)
  t.equal(p1.toString(), 'abc', 'a prefix handed out is never rewritten')
  t.equal(p2.toString(), 'abcdefgh', 'bounded at the limit')
  t.equal(b.bytes(true), 8)
  t.notOk(b.full)
  const got: string[] = []
  b.replay((o, d, ts) => got.push(`${o ? 'o' : 'r'}${ts}:${d.toString()}`), 0, () => false)
  t.same(got, ['o1:abc', 'r2:XY', 'o3:defgh'])
  const some: string[] = []
  b.replay((o, d) => some.push(`${o ? 'o' : 'r'}:${d.toString()}`), 1, () => false)
  t.same(some, ['o:abc', 'r:XY'], 'the latest chunk left out')
  b.flip()
  t.equal(b.bytes(false), 8)
  const flipped: string[] = []
  b.replay((o, d) => flipped.push(`${o ? 'o' : 'r'}:${d.toString()}`), 0, () => false)
  t.same(flipped, ['r:abc', 'o:XY', 'r:defgh'])
  b.add(true, Buffer.from('0123456789'), 4)
  t.ok(b.full)
})

t.test('detection attaches on a later chunk and replays what came before', async (t) => {
  const seen: Seen = { events: [], outs: [] }
  const calls: string[] = []
  const f = factory('proto', { detect: (isOrig, b) => { calls.push(`${isOrig ? 'o' : 'r'}:${b.toString()}`); return !isOrig && b.toString().startsWith('HELLO') } }, seen)
  const d = new AppDispatcher({ dpdBufferBytes: 64 }, { factories: [f], onLog: () => {} })
  const s = d.open(conn('tcp', 9999), 1)
  t.ok(d.active(s), 'detection looking')
  d.tcpPayload(s, true, 1, Buffer.from('req'), 1)
  d.tcpPayload(s, false, 1, Buffer.from('HEL'), 2)
  d.tcpPayload(s, false, 4, Buffer.from('LO!'), 3)
  d.tcpPayload(s, true, 4, Buffer.from('more'), 4)
  t.same(calls, ['o:req', 'r:HEL', 'r:HELLO!'], 'growing prefix per direction; not tried again once attached')
  t.same(seen.events, ['proto:o:req', 'proto:r:HEL', 'proto:r:LO!', 'proto:o:more'])
  seen.outs[0]!.confirm('proto')
  t.ok(s.dpdDone, 'a confirmation ends detection')
  t.same(s.services, ['proto'])
  t.ok(d.active(s), 'analyzer still live')
  seen.outs[0]!.done!()
  t.notOk(d.active(s), 'done: nothing left to feed')
  d.close(s, 5)
  t.same(seen.events.slice(-1), ['proto:finish'], 'done analyzers still finish')
})

t.test('detection ends at dpd_buffer_size in both directions, or when no detector can still say yes', async (t) => {
  const seen: Seen = { events: [], outs: [] }
  let detects = 0
  const p = factory('p', { ports: [80], detect: () => { detects++; return true } }, seen)
  const q = factory('q', { detect: () => { detects++; return false } }, seen)
  const d = new AppDispatcher({ dpdBufferBytes: 4 }, { factories: [p, q], onLog: () => {} })
  const s = d.open(conn('tcp', 80), 1)
  d.tcpPayload(s, true, 1, Buffer.from('abcdef'), 1)
  t.equal(detects, 1, 'p attached by port: never detected; q asked')
  t.equal(seen.outs.length, 1)
  t.notOk(s.dpdDone, 'one direction full: still looking at the other')
  d.tcpPayload(s, false, 1, Buffer.from('xyzw'), 2)
  t.ok(s.dpdDone, 'both directions hold dpd_buffer_size bytes: detection over')
  // Only p, attached by port: nothing left to detect from the start.
  const d2 = new AppDispatcher({ dpdBufferBytes: 4 }, { factories: [p], onLog: () => {} })
  const s2 = d2.open(conn('tcp', 80), 1)
  d2.tcpPayload(s2, true, 1, Buffer.from('a'), 1)
  t.ok(s2.dpdDone)
})

t.test('settled detectors: not asked again, and detection ends (bytes freed) once all are settled both ways', async (t) => {
  const seen: Seen = { events: [], outs: [] }
  const asked: string[] = []
  const f: AppAnalyzerFactory = {
    ...factory('x', {}, seen),
    detect: (isOrig, b) => { asked.push(`${isOrig ? 'o' : 'r'}${b.length}`); return false },
    detectSettled: (_o, b) => b.length >= 3,
  }
  const d = new AppDispatcher({ dpdBufferBytes: 100 }, { factories: [f], onLog: () => {} })
  const s = d.open(conn('tcp', 9999), 1)
  d.tcpPayload(s, true, 1, Buffer.from('ab'), 1)
  d.tcpPayload(s, true, 3, Buffer.from('cd'), 2)
  d.tcpPayload(s, true, 5, Buffer.from('ef'), 3)
  t.same(asked, ['o2', 'o4'], 'settled after 4 bytes: not asked on the third chunk')
  t.notOk(s.dpdDone, 'the responder direction is not settled yet')
  t.ok(d.active(s))
  d.tcpPayload(s, false, 1, Buffer.from('xyz'), 4)
  t.ok(s.dpdDone)
  t.notOk(d.active(s), 'no analyzer and nothing to detect: the session can go')
})

t.test('a session keeps its own detection bytes only from its first kept chunk; the shared empty buffer is never written', async (t) => {
  const seen: Seen = { events: [], outs: [] }
  const got: string[] = []
  const f = factory('late', { detect: (isOrig, b) => !isOrig && b.toString().startsWith('OK') }, seen)
  const d = new AppDispatcher({ dpdBufferBytes: 64 }, { factories: [f], onLog: () => {} })
  const a = d.open(conn('tcp', 7000), 1)
  const b = d.open(conn('tcp', 7001), 1)
  const c = d.open(conn('tcp', 7002), 1)
  t.notOk(a.dpdDone, 'detection is on from the start')
  t.equal(a.dpd, b.dpd, 'no payload yet: one shared (empty) buffer')
  c.flip()
  t.equal(c.dpd, a.dpd, 'a flip before any payload changes nothing')
  d.tcpPayload(a, true, 1, Buffer.from('hello'), 2)
  t.not(a.dpd, b.dpd, 'a chunk kept for detection: the session has its own buffer now')
  t.equal(a.dpd!.bytes(true), 5)
  t.equal(b.dpd!.bytes(true), 0, 'the shared buffer kept nothing')
  t.equal(b.dpd!.bytes(false), 0)
  d.tcpPayload(b, false, 1, Buffer.from('xyz'), 3)
  t.equal(c.dpd!.bytes(false) + c.dpd!.bytes(true), 0, 'still nothing in the shared one')
  // The earlier originator chunk is replayed to the analyzer detection attaches later.
  d.tcpPayload(a, false, 1, Buffer.from('OK go'), 4)
  got.push(...seen.events)
  t.same(got, ['late:o:hello', 'late:r:OK go'])
  t.ok(a.dpdDone)
})

t.test('UDP: no detection state; a violation detaches and the session goes inactive', async (t) => {
  const seen: Seen = { events: [], outs: [] }
  const f = factory('u', { ports: [53], transports: ['udp'], onData: (out) => out.violation('no') }, seen)
  const d = new AppDispatcher({}, { factories: [f], onLog: () => {} })
  const s = d.open(conn('udp', 53), 1)
  t.ok(s.dpdDone, 'nothing to detect on UDP')
  t.ok(d.active(s))
  d.udpPayload(s, true, Buffer.from('q'), 1)
  t.notOk(d.active(s))
  t.equal(d.counters.get('violations'), 1)
  const none = d.open(conn('udp', 9), 1)
  t.notOk(d.active(none), 'no analyzer and nothing to detect: inactive at once')
})

t.test('an analyzer that throws is detached and counted, the others keep going', async (t) => {
  const seen: Seen = { events: [], outs: [] }
  const bad = factory('bad', { ports: [25], onData: () => { throw new Error('boom') } }, seen)
  const good = factory('good', { ports: [25] }, seen)
  const d = new AppDispatcher({}, { factories: [bad, good], onLog: () => {} })
  const s = d.open(conn('tcp', 25), 1)
  d.tcpPayload(s, true, 1, Buffer.from('a'), 1)
  d.tcpPayload(s, true, 2, Buffer.from('b'), 2)
  t.same(seen.events, ['bad:o:a', 'good:o:a', 'good:o:b'])
  t.equal(d.counters.get('analyzer_exceptions'), 1)
  d.close(s, 3)
  t.same(seen.events.slice(-1), ['good:finish'], 'a detached analyzer gets no finish')
})
