// ConnRecord → telltale.v1.Flow bytes → ConnRecord is lossless (times at µs resolution, as
// Zeek), unset stays distinguishable from zero, and unknown fields from a newer writer are ignored.
import t from 'tap'
import fc from 'fast-check'
import protobuf from 'protobufjs'
import { resolve } from 'node:path'
import { CONN_STATES } from '../agent/flow/conn-record.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { connRecordToFlow, flowToConnRecord } from '../agent/ship/flow-encoding.js'
import type { FlowEncodingAnomaly } from '../agent/ship/flow-encoding.js'
import { Counters } from '../agent/util/counters.js'
import { communityIdV1 as agentCommunityId } from '../agent/flow/community-id.js'
import { communityIdV1, decodeFlow, encodeFlow, Flow } from '../protocol/index.js'
import { REPO_ROOT } from './helpers/paths.js'

function roundTrip(rec: ConnRecord): ConnRecord {
  return flowToConnRecord(decodeFlow(encodeFlow(connRecordToFlow(rec))))
}

const tcp: ConnRecord = {
  ts: 1700000000.123456, uid: 'CHhAvVGS1DHFjwGM9', origH: '192.168.1.10', origP: 51514, respH: '93.184.216.34', respP: 443,
  proto: 'tcp', service: 'ssl', duration: 1.204512, origBytes: 517, respBytes: 4096, connState: 'SF',
  localOrig: true, localResp: false, missedBytes: 0, history: 'ShADadFf', origPkts: 9, origIpBytes: 997,
  respPkts: 8, respIpBytes: 4516, tunnelParents: [], ipProto: 6, communityId: '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
  vlan: 10, innerVlan: undefined, origL2Addr: '00:11:22:33:44:55', respL2Addr: 'aa:bb:cc:dd:ee:ff', iface: 'eth0',
  lastTs: 1700000001.327968, interim: false, reason: 'end',
}

t.test('a full TCP record survives encode/decode', async (t) => {
  t.same(roundTrip(tcp), tcp)
  t.strictSame(roundTrip(tcp), tcp)
})

t.test('unset fields stay unset and zeros stay zero', async (t) => {
  const single: ConnRecord = {
    ...tcp, origH: '2001:db8::1', respH: 'fe80::1:2ff:fe03:405', proto: 'udp', ipProto: 17, service: '', duration: undefined,
    origBytes: undefined, respBytes: undefined, connState: 'S0', localOrig: undefined, localResp: undefined, history: 'D',
    origPkts: 1, origIpBytes: 80, respPkts: 0, respIpBytes: 0, communityId: '', vlan: undefined, origL2Addr: undefined,
    respL2Addr: undefined, iface: '', lastTs: tcp.ts, reason: 'inactive',
  }
  t.strictSame(roundTrip(single), single)
  const zeros: ConnRecord = { ...single, duration: 0, origBytes: 0, respBytes: 0, localOrig: false, localResp: false, vlan: 0, innerVlan: 0 }
  t.strictSame(roundTrip(zeros), zeros)
  const f = decodeFlow(encodeFlow(connRecordToFlow(single)))
  t.equal(f.durationUs, null, 'unset duration decodes as null')
  t.equal(decodeFlow(encodeFlow(connRecordToFlow(zeros))).durationUs, 0, 'zero duration decodes as 0')
})

t.test('tunnel parents, ICMP, interim records and a last time apart from ts + duration', async (t) => {
  const rec: ConnRecord = {
    ...tcp, proto: 'icmp', ipProto: 58, origH: '2001:db8::2', respH: '2001:db8::3', origP: 128, respP: 129, service: '',
    origBytes: 64, respBytes: 64, connState: 'OTH', history: '', tunnelParents: ['CtPZjS20MLrsMUOJi2', 'C4J4Th3PJpwUYZZ6gc'],
    interim: true, reason: 'active_timeout', lastTs: tcp.ts + 3.5,
  }
  t.strictSame(roundTrip(rec), rec)
  t.ok(connRecordToFlow(rec).lastDeltaUs !== undefined, 'last time sent when it differs from ts + duration')
  t.equal(connRecordToFlow(tcp).lastDeltaUs, undefined, 'and left out when it does not')
})

t.test('every conn_state, transport and reason maps both ways', async (t) => {
  for (const connState of CONN_STATES) t.equal(roundTrip({ ...tcp, connState }).connState, connState)
  for (const proto of ['tcp', 'udp', 'icmp', 'unknown_transport'] as const) t.equal(roundTrip({ ...tcp, proto }).proto, proto)
  for (const reason of ['end', 'inactive', 'active_timeout', 'evicted', 'flush'] as const) t.equal(roundTrip({ ...tcp, reason }).reason, reason)
})

t.test('addresses, MACs and the Community ID are compact on the wire', async (t) => {
  const f = connRecordToFlow(tcp)
  t.equal(f.origH?.length, 4)
  t.equal(f.origL2Addr?.length, 6)
  t.equal(f.communityId?.length, 20)
  t.equal(connRecordToFlow({ ...tcp, origH: '2001:db8::1' }).origH?.length, 16)
  // tag+value bytes: ts 9, addrs 6+6, ports 4+3, proto 2, state 2, history 10, duration 4, bytes 3+3,
  // pkts/ip_bytes 2+3+2+3, uid 20, community id 23, ip_proto 3, service 6, local 3+3, vlan 3, MACs 9+9,
  // iface 7, reason 3. A wire-size change shows up here first.
  t.equal(encodeFlow(connRecordToFlow(tcp)).length, 151, 'a full TCP record is 151 bytes')
})

t.test('a Community ID the reader can recompute is left off the wire', async (t) => {
  // The spec's TCP test vector: 128.232.110.120:34855 → 66.35.250.204:80.
  const rec: ConnRecord = { ...tcp, origH: '128.232.110.120', origP: 34855, respH: '66.35.250.204', respP: 80 }
  t.equal(communityIdV1(6, Buffer.from([128, 232, 110, 120]), Buffer.from([66, 35, 250, 204]), 34855, 80), tcp.communityId, 'spec vector')
  const f = connRecordToFlow(rec)
  t.equal(f.communityIdDerived, true)
  t.equal(f.communityId?.length, 0)
  t.strictSame(roundTrip(rec), rec, 'and recomputed on decode')
  const seeded = { ...rec, communityId: agentCommunityId(6, Buffer.from([128, 232, 110, 120]), Buffer.from([66, 35, 250, 204]), 34855, 80, 7) }
  t.equal(connRecordToFlow(seeded).communityIdDerived, false, 'a seeded ID is sent as is')
  t.equal(encodeFlow(connRecordToFlow(seeded)).length - encodeFlow(f).length, 20, '20-byte digest (+3 B field) replaced by a 3-byte flag')
  t.strictSame(roundTrip(seeded), seeded)
})

t.test('property: protocol/ and the agent compute the same Community ID', async (t) => {
  const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 })
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 })
  const pair = fc.oneof(fc.tuple(v4, v4), fc.tuple(v6, v6), fc.tuple(v4, v4).map(([a]) => [a, a] as [Uint8Array, Uint8Array]))
  const proto = fc.constantFrom(1, 6, 17, 58, 132, 47)
  const port = fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.constantFrom(0, 8, 128, 129, 135, 3))
  fc.assert(fc.property(proto, pair, port, port, fc.integer({ min: 0, max: 65535 }), (p, [a, b], sp, dp, seed) => {
    t.equal(communityIdV1(p, a, b, sp, dp, seed), agentCommunityId(p, a, b, sp, dp, seed))
  }), { numRuns: 500 })
})

t.test('malformed text is counted and sent empty, never thrown', async (t) => {
  const anomalies = new Counters<FlowEncodingAnomaly>()
  const f = connRecordToFlow({ ...tcp, origH: '300.1.1.1', respH: 'not-an-ip', origL2Addr: '00:11:22:33:44', communityId: '1:short' }, anomalies)
  t.equal(f.origH?.length, 0)
  t.equal(f.respH?.length, 0)
  t.equal(f.origL2Addr?.length, 0)
  t.equal(f.communityId?.length, 0)
  t.same(anomalies.snapshot(), { flow_encoding_bad_address: 2, flow_encoding_bad_mac: 1, flow_encoding_bad_community_id: 1 })
})

t.test('a newer writer\'s extra fields are ignored by our decoder', async (t) => {
  // A "future" Flow: the same .proto plus fields this version does not know.
  const future = protobuf.loadSync(resolve(REPO_ROOT, 'protocol', 'telltale', 'v1', 'flow.proto'))
  const FutureFlow = future.lookupType('telltale.v1.Flow')
  FutureFlow.add(new protobuf.Field('futureText', 900, 'string'))
  FutureFlow.add(new protobuf.Field('futureCount', 901, 'uint64'))
  FutureFlow.add(new protobuf.Field('futureList', 902, 'bytes', 'repeated'))
  const props = connRecordToFlow(tcp)
  const withExtra = FutureFlow.encode({ ...props, futureText: 'from the future', futureCount: 123456789, futureList: [Buffer.from('x')] }).finish()
  const plain = FutureFlow.encode(props).finish()
  t.ok(withExtra.length > plain.length, 'the extra fields are on the wire')
  const decoded = decodeFlow(withExtra)
  t.strictSame(flowToConnRecord(decoded), tcp, 'known fields decode as before')
  t.notOk('futureText' in decoded, 'the unknown field is not surfaced')
  t.same(Flow.toObject(decoded), Flow.toObject(decodeFlow(plain)), 'same message as without the extra fields')
})

t.test('property: any µs-exact ConnRecord round-trips', async (t) => {
  const u32 = fc.integer({ min: 0, max: 0xffffffff })
  const counter = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
  const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined })
  const micros = fc.integer({ min: 0, max: 4102444800 * 1e6 })
  const addr = fc.oneof(fc.ipV4(), fc.ipV6().map((s) => s.toLowerCase()))
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'))
  const cid = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => '1:' + Buffer.from(b).toString('base64'))
  const rec = fc.record({
    tsUs: micros, durUs: opt(fc.integer({ min: 0, max: 1e12 })), lastExtraUs: fc.integer({ min: 0, max: 1e9 }),
    uid: fc.string(), origH: addr, respH: addr, origP: fc.integer({ min: 0, max: 65535 }), respP: fc.integer({ min: 0, max: 65535 }),
    proto: fc.constantFrom('tcp', 'udp', 'icmp', 'unknown_transport' as const), service: fc.string(),
    origBytes: opt(counter), respBytes: opt(counter), connState: fc.constantFrom(...CONN_STATES), localOrig: opt(fc.boolean()),
    localResp: opt(fc.boolean()), missedBytes: counter, history: fc.string(), origPkts: counter, origIpBytes: counter,
    respPkts: counter, respIpBytes: counter, tunnelParents: fc.array(fc.string(), { maxLength: 3 }), ipProto: fc.integer({ min: 0, max: 255 }),
    communityId: fc.oneof(fc.constant(''), cid), vlan: opt(fc.integer({ min: 0, max: 4095 })), innerVlan: opt(fc.integer({ min: 0, max: 4095 })),
    origL2Addr: opt(mac), respL2Addr: opt(mac), iface: fc.string(), interim: fc.boolean(),
    reason: fc.constantFrom('end', 'inactive', 'active_timeout', 'evicted', 'flush' as const), _u: u32,
  })
  fc.assert(fc.property(rec, (r) => {
    const { tsUs, durUs, lastExtraUs, _u, ...rest } = r
    void _u
    const c: ConnRecord = {
      ...rest, ts: tsUs / 1e6, duration: durUs === undefined ? undefined : durUs / 1e6,
      lastTs: (tsUs + (durUs ?? 0) + lastExtraUs) / 1e6,
      origH: canonicalIp(rest.origH), respH: canonicalIp(rest.respH),
    }
    t.strictSame(roundTrip(c), c)
  }), { numRuns: 300 })
})

/** fast-check's IPv6 text is not always RFC 5952 (the form the agent writes and decoding returns). */
function canonicalIp(s: string): string {
  return flowToConnRecord(decodeFlow(encodeFlow(connRecordToFlow({ ...tcp, origH: s })))).origH
}
