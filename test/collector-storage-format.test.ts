// Storage format 2 and the query fast paths of the performance work on issue 6: chunked
// DEFLATE flow segments round-trip byte for byte, an old-format store is refused, edges
// round-trip through their compact encoding, the busiest-edges heap equals a full sort,
// the column path of /flows/top gives exactly the general path's answer, and index queries
// that read single chunks return exactly the flows a full filter would.
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deflateRawSync } from 'node:zlib'
import { Batch, encodeBatch, PROTOCOL_VERSION, type FlowProperties } from '../protocol/index.js'
import { CollectorStore, StoreFormatError, keys } from '../collector/storage/index.js'
import { decodeFlowChunk, encodeFlowChunks, encodeFlowChunksAsync, entryOffsets, FLOW_CHUNK } from '../collector/storage/flow-chunks.js'
import { LevelDb } from '../collector/storage/level-db.js'
import { scanBatch, joinEntries } from '../collector/ingest/batch-scan.js'
import { decodeEdge, encodeEdge } from '../collector/topology/edge-codec.js'
import { decodeHost, encodeHost } from '../collector/topology/host-codec.js'
import { busiest } from '../collector/topology/topology-view.js'
import type { EdgeRecord, HostRecord } from '../collector/topology/types.js'
import { topFlows, topFlowsScan, type TopGroup, type TopMetric } from '../collector/query/top.js'
import { SegmentCache } from '../collector/query/segment-cache.js'
import { ADMIN, batch, enrollAgent, flow, post, startCollector } from './collector-fixtures.js'

function segmentOf(flows: FlowProperties[]): Buffer {
  const body = Buffer.from(encodeBatch({ protocolVersion: PROTOCOL_VERSION, agentId: 'a', epoch: 1, seq: 1, sentAtUs: 1, flows }))
  const scan = scanBatch(body, { maxFlows: 100_000, maxEntries: 100_000 })
  if (!scan.ok) throw new Error(scan.reason)
  return Buffer.from(joinEntries(body, scan.flowEntries))
}

t.test('flow chunks round-trip the segment byte for byte', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 0, max: 1000 }), (n, seed) => {
    const flows: FlowProperties[] = []
    for (let i = 0; i < n; i++) flows.push(flow(seed * 1000 + i))
    const seg = segmentOf(flows)
    const chunks = encodeFlowChunks(seg)
    if (chunks.length !== Math.ceil(n / FLOW_CHUNK)) return false
    if (entryOffsets(seg).length !== n + 1) return false
    const back = Buffer.concat(chunks.map((c) => decodeFlowChunk(c)!))
    return back.equals(seg) && Batch.decode(back).flows.length === n
  }), { numRuns: 30 })
  t.equal(decodeFlowChunk(Buffer.from([9, 1, 2, 3])), undefined, 'an unknown codec byte is not a chunk')
  t.equal(decodeFlowChunk(Buffer.from([1, 0xff, 0xff, 0xff])), undefined, 'bad DEFLATE is not a chunk')
  t.same(decodeFlowChunk(Buffer.from([0, 0x32, 0])), Buffer.from([0x32, 0]), 'raw codec')
  t.end()
})

t.test('chunks written at another DEFLATE level (level 6 before 2026-12-07) still read back', (t) => {
  const seg = segmentOf(Array.from({ length: FLOW_CHUNK + 7 }, (_, i) => flow(i)))
  const offs = entryOffsets(seg)
  const runs = [seg.subarray(0, offs[FLOW_CHUNK]), seg.subarray(offs[FLOW_CHUNK])]
  for (const level of [1, 6, 9]) {
    const old = runs.map((r) => Buffer.concat([Buffer.from([1]), deflateRawSync(r, { level })]))
    t.same(Buffer.concat(old.map((c) => decodeFlowChunk(c)!)), seg, `level ${level}`)
  }
  t.end()
})

t.test('chunks compressed in slices (ingest) are the same bytes as the synchronous ones', async (t) => {
  for (const n of [1, FLOW_CHUNK, FLOW_CHUNK + 1, 5000]) {
    const seg = segmentOf(Array.from({ length: n }, (_, i) => flow(i)))
    t.same(await encodeFlowChunksAsync(seg), encodeFlowChunks(seg), `${n} flows`)
  }
})

t.test('a store of another format is refused with an actionable message', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-format-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const s = new CollectorStore({ dataDir: dir, sync: false })
  await s.open()
  await s.close()
  const db = new LevelDb(join(dir, 'store'), false)
  await db.open()
  await db.write([{ type: 'put', key: keys.meta('format'), value: Buffer.from('1') }])
  await db.close()
  const err = await new CollectorStore({ dataDir: dir, sync: false }).open().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof StoreFormatError, 'StoreFormatError')
  await t.rejects(new CollectorStore({ dataDir: dir, sync: false }).open(), /has format 1; this collector reads format 2 .*data_dir/)
})

t.test('hosts round-trip through the compact encoding; the JSON objects of earlier builds still load', (t) => {
  const h: HostRecord = {
    id: '10.0.0.5', scope: '', ips: ['10.0.0.5'], macs: ['00:1b:21:01:02:03'], names: [{ name: 'nas "1"\n', source: 'dhcp' }],
    services: [{ port: 443, proto: 'tcp', name: 'ssl' }], os_hints: ['linux'], software: ['OpenSSH_9.6'], first_seen_us: 1_700_000_000_000_000,
    last_seen_us: 1_700_000_123_456_789, agents: ['agt_a', 'agt_b'], flows_out: 7, flows_in: 3, bytes_out: 123456789012, bytes_in: 0,
  }
  const back = decodeHost(h.id, encodeHost(h))
  t.same(back, h)
  t.equal(JSON.stringify(back), JSON.stringify(h), 'same fields in the same order')
  // Optional fields come after the others, in the order the host gained them.
  const vm: HostRecord = { ...h, id: 'mac:00:1b:21:01:02:03', vendor: 'Intel', merged: ['10.0.0.9'] }
  const mv: HostRecord = { ...h, id: 'mac:00:1b:21:01:02:03', merged: ['10.0.0.9'], vendor: 'Intel' }
  for (const x of [vm, mv]) t.equal(JSON.stringify(decodeHost(x.id, encodeHost(x))), JSON.stringify(x), Object.keys(x).slice(-2).join(' then '))
  t.equal(JSON.stringify(decodeHost('10.0.0.5%vlan7', encodeHost({ ...h, id: '10.0.0.5%vlan7', scope: 'vlan7' }))), JSON.stringify({ ...h, id: '10.0.0.5%vlan7', scope: 'vlan7' }))
  t.ok(encodeHost(h).length < JSON.stringify(h).length * 0.75, 'smaller than the JSON object')
  t.same(decodeHost(h.id, JSON.stringify(h)), h, 'the JSON object of an earlier build')
  t.same(decodeHost(vm.id, JSON.stringify(vm)), vm)
  for (const bad of ['', 'nope', '[]', '[1,2]', 'null', '{"ips":[]}', JSON.stringify([0, ...JSON.parse(encodeHost(h)).slice(1)]), encodeHost(h).replace(/0\]$/, '[1]]')]) {
    t.equal(decodeHost('x', bad), undefined, `not a host: ${bad.slice(0, 40)}`)
  }
  t.end()
})

t.test('a topology flushed in the compact form loads back the same after a restart; hosts of the earlier form load too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-hostcodec-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const s = new CollectorStore({ dataDir: dir, sync: false })
  await s.open()
  const old: HostRecord = {
    id: '192.0.2.7', scope: '', ips: ['192.0.2.7'], macs: [], names: [], services: [], os_hints: [], software: [], first_seen_us: 5,
    last_seen_us: 9, agents: ['agt_x'], flows_out: 1, flows_in: 0, bytes_out: 10, bytes_in: 0, vendor: 'Acme',
  }
  const fresh: HostRecord = { ...old, id: '192.0.2.8', ips: ['192.0.2.8'], vendor: undefined }
  delete fresh.vendor
  await s.db.write([
    { type: 'put', key: keys.host(old.id), value: Buffer.from(JSON.stringify(old)) },
    { type: 'put', key: keys.host(fresh.id), value: Buffer.from(encodeHost(fresh)) },
    { type: 'put', key: keys.host('broken'), value: Buffer.from('[1,2,3]') },
  ])
  const got = new Map<string, string>()
  for await (const [id, v] of s.topology.hosts()) { const h = decodeHost(id, v); if (h !== undefined) got.set(id, JSON.stringify(h)) }
  await s.close()
  t.same([...got.keys()].sort(), [old.id, fresh.id])
  t.equal(got.get(old.id), JSON.stringify(old))
  t.equal(got.get(fresh.id), JSON.stringify(fresh))
})

t.test('edges round-trip through the compact encoding', (t) => {
  const e: EdgeRecord = {
    id: '10.0.0.1\u001f192.0.2.1\u001ftcp\u001f443', src: '10.0.0.1', dst: '192.0.2.1', proto: 'tcp', port: 443, services: ['ssl', 'http'], flows: 7, bytes: 123456789012,
    packets: 99, first_seen_us: 1_700_000_000_000_000, last_seen_us: 1_700_000_123_456_789, agents: ['agt_a', 'agt_b'], duplicate_flows: 2, degraded_flows: 1,
  }
  t.same(decodeEdge(e.id, encodeEdge(e)), e)
  const m: EdgeRecord = { ...e, id: 'mac:00:1b:21:01:02:03\u001f2001:db8::1%vlan7\u001fudp\u001f53', src: 'mac:00:1b:21:01:02:03', dst: '2001:db8::1%vlan7', proto: 'udp', port: 53 }
  t.same(decodeEdge(m.id, encodeEdge(m)), m)
  t.equal(decodeEdge('a\u001fb\u001fxyz\u001f1', encodeEdge(e)), undefined, 'unknown proto in the id')
  t.equal(decodeEdge(e.id, '{"flows":1}'), undefined, 'an old-style record')
  t.end()
})

t.test('busiest edges: the heap gives the full sort\'s first `limit`', (t) => {
  fc.assert(fc.property(fc.array(fc.record({ bytes: fc.integer({ min: 0, max: 50 }), id: fc.string({ maxLength: 4 }) }), { maxLength: 300 }), fc.integer({ min: 1, max: 100 }), (raw, limit) => {
    const seen = new Set<string>()
    const edges = raw.filter((r) => !seen.has(r.id) && seen.add(r.id)).map((r) => ({ id: r.id, bytes: r.bytes }) as EdgeRecord)
    const sorted = [...edges].sort((a, b) => b.bytes - a.bytes || (a.id < b.id ? -1 : 1)).slice(0, limit)
    return JSON.stringify(busiest(edges, limit).map((e) => e.id)) === JSON.stringify(sorted.map((e) => e.id))
  }), { numRuns: 200 })
  t.end()
})

t.test('/flows/top column path = general path; index queries over chunks = a full filter', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  const b = await enrollAgent(c, 2)
  const t0 = 1_700_000_000_000_000
  for (let s = 1; s <= 3; s++) {
    for (const ag of [a, b]) {
      const bt = batch(ag.agentId, s, 700)
      // Interleaved times across batches and agents; some flows without a service, some UDP.
      bt.flows = (bt.flows as FlowProperties[]).map((f, i) => ({ ...f, tsUs: t0 + ((i * 7919 + s * 13) % 2100) * 1000, service: i % 5 === 0 ? '' : f.service }))
      t.equal((await post(c, ag.secret, encodeBatch(bt))).statusCode, 200)
    }
  }
  const cache = new SegmentCache(100_000)
  const windows = [[t0, t0 + 2_100_000], [t0 + 333_000, t0 + 1_000_000], [t0 + 5_000, t0 + 5_000]]
  for (const [fromUs, toUs] of windows) {
    for (const group of ['talkers', 'services', 'ports', 'pairs'] as TopGroup[]) {
      for (const by of ['bytes', 'flows', 'packets'] as TopMetric[]) {
        for (const extra of [{}, { agent: b.agentId }, { proto: 'udp' as const }]) {
          const f = { fromUs: fromUs!, toUs: toUs!, ...extra }
          const fast = await topFlows(c.store, cache, f, group, by, 25, 1_000_000)
          const slow = await topFlowsScan(c.store, new SegmentCache(100_000), f, group, by, 25, 1_000_000)
          t.same(fast, slow, `${group} by ${by} ${JSON.stringify(extra)} [${fromUs! - t0}, ${toUs! - t0}]`)
        }
      }
    }
  }
  const trunc = await topFlows(c.store, cache, { fromUs: t0, toUs: t0 + 2_100_000 }, 'talkers', 'flows', 5, 1000)
  t.same(trunc, await topFlowsScan(c.store, cache, { fromUs: t0, toUs: t0 + 2_100_000 }, 'talkers', 'flows', 5, 1000), 'the same truncation at max_scan')
  t.ok(trunc.truncated)

  // Index hits read single chunks: every flow of a host / port, across chunk boundaries and pages.
  const all: Array<{ id: string; orig_h: string; resp_h: string; resp_p: number; proto: string }> = []
  let cursor: string | null = null
  do {
    const r = await c.app.inject({ method: 'GET', url: `/api/v1/flows?limit=500${cursor === null ? '' : `&cursor=${cursor}`}`, headers: { authorization: `Bearer ${ADMIN}` } })
    const j = r.json() as { flows: typeof all; next_cursor: string | null }
    all.push(...j.flows)
    cursor = j.next_cursor
  } while (cursor !== null)
  t.equal(all.length, 4200)
  for (const q of ['host=10.0.134.160', 'host=10.0.135.204', 'host=192.0.2.3', 'port=53&proto=udp', 'service=ssh']) {
    const got: string[] = []
    cursor = null
    do {
      const r = await c.app.inject({ method: 'GET', url: `/api/v1/flows?${q}&limit=37${cursor === null ? '' : `&cursor=${cursor}`}`, headers: { authorization: `Bearer ${ADMIN}` } })
      const j = r.json() as { flows: typeof all; next_cursor: string | null }
      got.push(...j.flows.map((f) => f.id))
      cursor = j.next_cursor
    } while (cursor !== null)
    const p = new URLSearchParams(q)
    const want = all.filter((f) => (p.get('host') === null || f.orig_h === p.get('host') || f.resp_h === p.get('host')) && (p.get('port') === null || (f.resp_p === Number(p.get('port')) && f.proto === p.get('proto'))))
      .filter((f) => p.get('service') === null || (f as unknown as { service: string }).service.split(',').includes(p.get('service')!))
      .map((f) => f.id)
    t.ok(want.length > 0, `${q} matches flows`)
    t.same(got, want, `${q}: every matching flow once, in order`)
  }
})

t.test('/flows/top from hour roll-ups = from every flow (aligned and partial hours, restart, rebuild)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-tops-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  let c = await startCollector({}, dir)
  const a = await enrollAgent(c, 1)
  const b = await enrollAgent(c, 2)
  const H = 3_600_000_000
  const h0 = Math.floor(1_700_000_000_000_000 / H) * H
  let seq = 0
  for (const ag of [a, b, a]) {
    seq++
    const bt = batch(ag.agentId, seq, 900)
    // Spread over four hours; some flows without a service; the same address both ends once.
    bt.flows = (bt.flows as FlowProperties[]).map((f, i) => ({ ...f, tsUs: h0 + ((i * 104_729 + seq * 7) % 14_400) * 1_000_000, service: i % 6 === 0 ? '' : i % 6 === 1 ? 'dns,http' : f.service }))
    ;(bt.flows as FlowProperties[])[5]!.respH = (bt.flows as FlowProperties[])[5]!.origH
    t.equal((await post(c, ag.secret, encodeBatch(bt))).statusCode, 200)
  }
  const check = async (label: string): Promise<void> => {
    await c.api.topology.settle()
    const windows: Array<[number, number]> = [[h0, h0 + 4 * H - 1], [h0 + 17 * 60_000_000, h0 + 2 * H + 5 * 60_000_000], [h0 + H, h0 + 2 * H - 1], [h0 + 1, h0 + 2 * H], [0, Number.MAX_SAFE_INTEGER]]
    for (const [fromUs, toUs] of windows) {
      for (const group of ['talkers', 'services', 'ports'] as TopGroup[]) {
        for (const by of ['bytes', 'flows'] as TopMetric[]) {
          const fast = await topFlows(c.store, new SegmentCache(100_000), { fromUs, toUs }, group, by, 1000, 10_000_000, c.api.topology.tops)
          const slow = await topFlowsScan(c.store, new SegmentCache(100_000), { fromUs, toUs }, group, by, 1000, 10_000_000)
          t.same(fast.rows, slow.rows, `${label}: ${group} by ${by} [${fromUs - h0}, ${toUs - h0}]`)
          if (toUs - fromUs >= 2 * H && fromUs > 0) t.ok(fast.rollup_hours >= 1, 'whole hours came from roll-ups')
        }
      }
    }
  }
  await check('live')
  await c.app.close()
  c = await startCollector({}, dir)
  t.teardown(() => c.close())
  await check('after a restart')
  t.equal((await c.app.inject({ method: 'POST', url: '/api/v1/topology/rebuild', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 200)
  await check('after a rebuild')
})

t.test('retention deletes every chunk and posting of expired segments, and old /flows/top roll-ups', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const a = await enrollAgent(c, 1)
  for (let s = 1; s <= 2; s++) t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, s, 600)))).statusCode, 200)
  await c.api.topology.settle()
  const count = (p: 'fs' | 'fm' | 'fb' | 'fv' | 'fp' | 'rt'): Promise<number> => c.store.flows.countKeys(p)
  t.equal(await count('fs'), 6, '3 chunks per 600-flow segment')
  t.ok(await count('rt') > 0)
  t.ok(await count('fb') > 0)
  const before = (await c.app.inject({ method: 'GET', url: '/api/v1/flows?host=10.0.134.160', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { flows: unknown[] }
  t.ok(before.flows.length > 0, 'a host query reads chunks (and caches them)')
  await c.store.retention.expireFlows(Number.MAX_SAFE_INTEGER)
  for (const p of ['fs', 'fm', 'fb', 'fv', 'fp'] as const) t.equal(await count(p), 0, `${p} empty`)
  const after = (await c.app.inject({ method: 'GET', url: '/api/v1/flows?host=10.0.134.160', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { flows: unknown[] }
  t.equal(after.flows.length, 0, 'no cached chunk or meta outlives its segment')
  await c.store.retention.expireTopRollups(Number.MAX_SAFE_INTEGER)
  t.equal(await count('rt'), 0, 'rt empty')
})
