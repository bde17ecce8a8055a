/**
 * Recency in the flow table (agent/flow/flow-table.ts): at the cap the least recently active
 * connection is evicted, and a flush emits the connections least recently active first. The
 * table stamps connections per packet and links its recency list only near the cap; these
 * tests drive random packets one at a time and check every record against a model that keeps
 * an exact least-recently-active list (a Map re-inserted on every packet).
 */
import t from 'tap'
import type { RawPacket } from '../agent/capture/raw-packet.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { FlowPipeline } from '../agent/pipeline/flow-pipeline.js'
import { Trace } from './helpers/flow-fixtures.js'

const BASE_PORT = 40000

/** One UDP packet from client port `port` at time `ts` (seconds). */
function packet(port: number, ts: number): RawPacket {
  const f = new Trace(port).udp('C', 10).frames[0]!
  const sec = Math.floor(ts)
  return { tsSec: sec, tsNsec: Math.round((ts - sec) * 1e6) * 1000, linkType: 1, data: f.data, origLen: f.data.length, ifIndex: 0, ifName: '' }
}

/**
 * Feeds `steps` random packets over `flows` client ports, with idle gaps that time every flow
 * out now and then; returns the mismatches between the records and the model.
 */
function check(seed: number, flows: number, maxFlows: number, steps: number): { mismatches: string[]; evicted: number; inactive: number } {
  let s = seed
  const rnd = (n: number): number => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return (s >>> 8) % n }
  const got: ConnRecord[] = []
  const p = new FlowPipeline({ app: false, maxFlows }, { onConn: (r) => got.push(r) })
  /** port → last packet time, least recently active first (Map order). */
  const model = new Map<number, number>()
  const mismatches: string[] = []
  let evicted = 0
  let inactive = 0
  let ts = 1_600_000_000
  const expect = (reason: ConnRecord['reason'], port: number, r: ConnRecord | undefined): void => {
    if (r === undefined || r.reason !== reason || r.origP !== port) mismatches.push(`expected ${reason} ${port}, got ${r?.reason} ${r?.origP}`)
  }
  for (let i = 0; i < steps && mismatches.length === 0; i++) {
    // Mostly 1 ms apart; now and then a pause longer than the UDP inactivity timeout (60 s).
    ts += rnd(40) === 0 ? 61 + rnd(30) : 0.001
    const port = BASE_PORT + rnd(flows)
    got.length = 0
    p.handle(packet(port, ts))
    let k = 0
    // Timers run first: flows idle for 60 s end as 'inactive' (their order is the timers').
    while (k < got.length && got[k]!.reason === 'inactive') {
      const r = got[k++]!
      const last = model.get(r.origP)
      if (last === undefined || ts - last < 60) mismatches.push(`unexpected inactive ${r.origP}`)
      model.delete(r.origP)
      inactive++
    }
    if (!model.has(port) && model.size >= maxFlows) {
      const lru = model.keys().next().value!
      expect('evicted', lru, got[k++])
      model.delete(lru)
      evicted++
    }
    if (k !== got.length) mismatches.push(`step ${i}: ${got.length - k} unexpected record(s)`)
    model.delete(port)
    model.set(port, ts)
  }
  got.length = 0
  p.flushAll()
  const order = [...model.keys()]
  if (got.length !== order.length) mismatches.push(`flush: ${got.length} records for ${order.length} flows`)
  order.forEach((port, i) => expect('flush', port, got[i]))
  return { mismatches, evicted, inactive }
}

t.test('at the cap, the least recently active flow is evicted; the table fills, drains and fills again', async (t) => {
  for (const seed of [1, 2, 3]) {
    const r = check(seed, 24, 8, 3000)
    t.same(r.mismatches, [], `seed ${seed}: every record as the model says`)
    t.ok(r.evicted > 100, `seed ${seed}: evictions happened (${r.evicted})`)
    t.ok(r.inactive > 100, `seed ${seed}: idle flows timed out, the table drained below half its cap (${r.inactive})`)
  }
})

t.test('below the cap, a flush emits flows least recently active first', async (t) => {
  for (const seed of [4, 5]) {
    const r = check(seed, 200, 1000, 2000)
    t.same(r.mismatches, [], `seed ${seed}: flush order is recency order`)
    t.equal(r.evicted, 0)
  }
})
