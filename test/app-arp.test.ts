/**
 * ARP: decoding and request/reply pairing against Zeek's arp basic.test output for
 * arp-who-has.pcap (mac_src, mac_dst, SPA, SHA, TPA, THA per event), built packets for
 * gratuitous/probe/bad cases, and fast-check fuzzing (no throw on any bytes, bounded state).
 */
import t from 'tap'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { analyzeArp, ArpTracker } from '../agent/app/arp/arp.js'
import type { HostObservation } from '../agent/app/app-analyzer.js'
import { parseCaptureBuffer } from '../agent/capture/capture-file.js'
import { decodeFrame } from '../agent/decode/decode-packet.js'
import { PacketInfo } from '../agent/decode/packet-info.js'
import { AnomalyCounters } from '../agent/decode/anomalies.js'
import { formatMac } from '../agent/flow/addr-format.js'
import { corpusAvailable, corpusPath, CORPUS_SKIP_MESSAGE } from './helpers/paths.js'

function arpBytes(op: number, sha: number[], spa: number[], tha: number[], tpa: number[]): Buffer {
  return Buffer.from([0, 1, 8, 0, 6, 4, 0, op, ...sha, ...spa, ...tha, ...tpa])
}
const MAC_A = [2, 0, 0, 0, 0, 0xa]
const MAC_B = [2, 0, 0, 0, 0, 0xb]
const ZERO = [0, 0, 0, 0, 0, 0]

t.test('arp-who-has.pcap: the fields Zeek prints, and the pair', { skip: corpusAvailable() ? false : CORPUS_SKIP_MESSAGE }, async (t) => {
  const oracle = readFileSync(corpusPath('arp-who-has.zeek-stdout.txt'), 'utf8').split('\n').filter((l) => /^[0-9a-f]{2}:/.test(l))
  const info = new PacketInfo()
  const anomalies = new AnomalyCounters()
  const tracker = new ArpTracker()
  const lines: string[] = []
  const obs: HostObservation[] = []
  const pairs: unknown[] = []
  parseCaptureBuffer(readFileSync(corpusPath('arp-who-has.pcap')), (p) => {
    decodeFrame(p.linkType, p.data, false, info, anomalies, { ignoreChecksums: true }, { v: 0 })
    if (!info.isArp) return
    const r = analyzeArp(info.buf, info.arpOff)
    if (!r.ok) return
    const a = r.arp
    lines.push(`${formatMac(info.l2Buf, info.srcMacOff)}, ${formatMac(info.l2Buf, info.dstMacOff)}, ${a.spa}, ${a.sha}, ${a.tpa}, ${a.tha}`)
    const pair = tracker.packet(info.buf, info.arpOff, p.tsSec + p.tsNsec / 1e9, (o) => obs.push(o))
    if (pair) pairs.push(pair)
  })
  t.same(lines, oracle, 'request and reply lines as Zeek prints them')
  t.equal(pairs.length, 1, 'the reply answers the request')
  t.same(obs.map((o) => `${o.ip}=${o.mac}`), ['10.0.0.2=78:31:c1:c6:3f:c2', '10.0.0.1=f8:ed:a5:c0:a4:f1'])
  t.same(tracker.counts, { requests: 1, replies: 1, paired: 1, unanswered: 0, dropped: 0, bad: 0 })
})

t.test('kinds: request, reply, gratuitous, probe, bad', async (t) => {
  const k = (b: Buffer): string => { const r = analyzeArp(b, 0); return r.ok ? String(r.arp.kind) : r.bad }
  t.equal(k(arpBytes(1, MAC_A, [10, 0, 0, 1], ZERO, [10, 0, 0, 2])), 'request')
  t.equal(k(arpBytes(2, MAC_B, [10, 0, 0, 2], MAC_A, [10, 0, 0, 1])), 'reply')
  t.equal(k(arpBytes(1, MAC_A, [10, 0, 0, 1], ZERO, [10, 0, 0, 1])), 'gratuitous')
  t.equal(k(arpBytes(1, MAC_A, [0, 0, 0, 0], ZERO, [10, 0, 0, 9])), 'probe')
  t.equal(k(arpBytes(1, MAC_A, [10, 0, 0, 1], ZERO, [10, 0, 0, 2]).subarray(0, 27)), 'truncated_ARP')
  const bad = arpBytes(1, MAC_A, [10, 0, 0, 1], ZERO, [10, 0, 0, 2]); bad[1] = 7
  t.equal(k(bad), 'unknown_arp_hw_type')
  const tracker = new ArpTracker({ maxPending: 2, replyTimeoutSec: 5 })
  const seen: HostObservation[] = []
  tracker.packet(arpBytes(1, MAC_A, [0, 0, 0, 0], ZERO, [10, 0, 0, 9]), 0, 1, (o) => seen.push(o))
  t.equal(seen.length, 0, 'a probe says nothing about its sender address')
  for (let i = 0; i < 5; i++) tracker.packet(arpBytes(1, MAC_A, [10, 0, 0, 1], ZERO, [10, 0, 1, i]), 0, 2, () => {})
  t.equal(tracker.pendingRequests, 2, 'pending requests are bounded')
  t.equal(tracker.counts.dropped, 4, "the probe and three requests were dropped")
  t.notOk(tracker.packet(arpBytes(2, MAC_B, [10, 0, 1, 4], MAC_A, [10, 0, 0, 1]), 0, 20, () => {}), 'a late reply is not paired')
})

t.test('fuzz: no throw, bounded pending state', async () => {
  const tracker = new ArpTracker({ maxPending: 64 })
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -4, max: 70 }), (b, off) => {
    analyzeArp(b, off)
    tracker.packet(b, off, 0, () => {})
    return tracker.pendingRequests <= 64
  }), { numRuns: 3000 })
})
