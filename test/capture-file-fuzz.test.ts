/**
 * Property tests for the capture file readers: random bytes and mutated valid files never
 * make them throw anything but the two file-level AgentErrors, never hang, always respect
 * the packet invariants, and give the same result whatever the chunking.
 */
import t from 'tap'
import fc from 'fast-check'
import { parseCaptureBuffer, type CaptureFileStats } from '../agent/capture/capture-file.js'
import { MAX_PACKET_BYTES } from '../agent/capture/file-reader-common.js'
import type { RawPacket } from '../agent/capture/raw-packet.js'
import { AgentErrorCode, isAgentError } from '../agent/util/errors.js'
import { buildPcap, buildPcapng, type CaptureFrame } from './helpers/pcap-writer.js'
import { icmpEcho, mergeByTime, tcpConversation } from './helpers/traffic.js'

const frames: CaptureFrame[] = mergeByTime(
  tcpConversation({ client: { ip: '10.1.0.1', port: 33000 }, server: { ip: '10.1.0.2', port: 443 }, t0: 1_650_000_000.1,
    exchanges: [{ from: 'orig', bytes: 200 }, { from: 'resp', bytes: 1800 }] }),
  icmpEcho({ client: { ip: '10.1.0.1' }, server: { ip: '10.1.0.9' }, t0: 1_650_000_000.2, count: 2, intervalUs: 500 }),
).map((f, i) => ({ ...f, ifIndex: i % 2 }))

const BASES: Array<{ name: string, buf: Buffer }> = [
  { name: 'pcap-le-us', buf: buildPcap(frames) },
  { name: 'pcap-be-ns', buf: buildPcap(frames, { bigEndian: true, nanosecond: true }) },
  { name: 'pcapng-le', buf: buildPcapng(frames, { interfaces: [{ linkType: 1, name: 'a' }, { linkType: 1, tsresol: 9 }] }) },
  { name: 'pcapng-be', buf: buildPcapng(frames, { bigEndian: true, interfaces: [{ linkType: 1, tsresol: 0x80 | 24 }, { linkType: 113 }] }) },
  { name: 'pcapng-spb', buf: buildPcapng(frames, { simplePackets: true, interfaces: [{ linkType: 1, snaplen: 80 }, { linkType: 1 }] }) },
]

interface Outcome {
  error?: string
  stats?: CaptureFileStats
  digest: string[]
}

/** Parses and checks the per-packet invariants; returns a comparable outcome. */
function run(buf: Buffer, chunkSize?: number): Outcome {
  const digest: string[] = []
  const check = (p: RawPacket): void => {
    if (!(p.data.length <= MAX_PACKET_BYTES)) throw new Error(`caplen ${p.data.length} above the limit`)
    if (!(p.origLen >= p.data.length)) throw new Error(`origLen ${p.origLen} < caplen ${p.data.length}`)
    if (!(Number.isInteger(p.tsNsec) && p.tsNsec >= 0 && p.tsNsec < 1e9)) throw new Error(`tsNsec ${p.tsNsec} out of range`)
    if (!Number.isFinite(p.tsSec)) throw new Error(`tsSec ${p.tsSec}`)
    digest.push(`${p.tsSec}.${p.tsNsec}/${p.ifIndex}/${p.linkType}/${p.origLen}/${p.data.toString('hex')}`)
  }
  try {
    const stats = parseCaptureBuffer(buf, check, chunkSize === undefined ? {} : { chunkSize })
    if (stats.packets !== digest.length) throw new Error('packet count differs from packets delivered')
    return { stats, digest }
  } catch (err) {
    if (isAgentError(err) && (err.code === AgentErrorCode.FILE_NOT_A_CAPTURE || err.code === AgentErrorCode.FILE_UNSUPPORTED_LINKTYPE)) {
      return { error: err.code, digest }
    }
    throw err
  }
}

const MAGICS = [
  [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d],
  [0x34, 0xcd, 0xb2, 0xa1], [0x0a, 0x0d, 0x0d, 0x0a],
]

t.test('random bytes (bare or behind a valid magic): only file-level AgentErrors', async (t) => {
  fc.assert(fc.property(
    fc.option(fc.constantFrom(...MAGICS), { nil: undefined }),
    fc.uint8Array({ minLength: 0, maxLength: 600 }),
    fc.integer({ min: 1, max: 64 }),
    (magic, bytes, chunk) => {
      const buf = Buffer.concat([Buffer.from(magic ?? []), Buffer.from(bytes)])
      const whole = run(buf)
      const chunked = run(buf, chunk)
      t.same(chunked.digest, whole.digest)
      t.same(chunked.error, whole.error)
    },
  ), { numRuns: 400 })
  t.pass('no unexpected throw')
})

type Mutation =
  | { kind: 'flip', pos: number, bit: number }
  | { kind: 'u32', pos: number, value: number }
  | { kind: 'truncate', len: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), pos: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('u32' as const), pos: fc.nat(), value: fc.oneof(fc.nat(), fc.constantFrom(0, 1, 11, 12, 0xffffffff, 0x7fffffff, 262145, 16 << 20)) }),
  fc.record({ kind: fc.constant('truncate' as const), len: fc.nat() }),
)

function mutate(base: Buffer, muts: Mutation[]): Buffer {
  let buf = Buffer.from(base)
  for (const m of muts) {
    if (buf.length === 0) break
    if (m.kind === 'flip') buf[m.pos % buf.length]! ^= 1 << m.bit
    else if (m.kind === 'u32' && buf.length >= 4) buf.writeUInt32LE(m.value >>> 0, (m.pos % (buf.length >> 2)) * 4)
    else if (m.kind === 'truncate') buf = buf.subarray(0, m.len % (buf.length + 1))
  }
  return buf
}

t.test('mutated valid files: bit flips, length-field corruption, truncation', async (t) => {
  const anomaliesSeen = new Set<string>()
  fc.assert(fc.property(
    fc.integer({ min: 0, max: BASES.length - 1 }),
    fc.array(mutation, { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 1, max: 200 }),
    (bi, muts, chunk) => {
      const buf = mutate(BASES[bi]!.buf, muts)
      const whole = run(buf)
      const chunked = run(buf, chunk)
      t.same(chunked.digest, whole.digest, 'chunking does not change the packets')
      t.same(chunked.stats?.anomalies, whole.stats?.anomalies, 'nor the anomalies')
      t.same(chunked.error, whole.error)
      for (const k of Object.keys(whole.stats?.anomalies ?? {})) anomaliesSeen.add(k)
    },
  ), { numRuns: 300 })
  t.ok(anomaliesSeen.size >= 4, `mutations are reported as anomalies (${[...anomaliesSeen].sort().join(', ')})`)
})

/** Record ends (exclusive offsets) and whether each record is a packet, from the framing. */
function records(name: string, buf: Buffer): Array<{ end: number, packet: boolean }> {
  const out: Array<{ end: number, packet: boolean }> = []
  if (name.startsWith('pcap-')) {
    const be = name.includes('-be-')
    out.push({ end: 24, packet: false })
    for (let o = 24; o < buf.length;) {
      o += 16 + (be ? buf.readUInt32BE(o + 8) : buf.readUInt32LE(o + 8))
      out.push({ end: o, packet: true })
    }
  } else {
    const be = name.endsWith('-be')
    for (let o = 0; o < buf.length;) {
      const type = be ? buf.readUInt32BE(o) : buf.readUInt32LE(o)
      o += be ? buf.readUInt32BE(o + 4) : buf.readUInt32LE(o + 4)
      out.push({ end: o, packet: type === 6 || type === 3 || type === 2 })
    }
  }
  return out
}

t.test('truncation anywhere: every complete record delivered, the partial one counted', async (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: BASES.length - 1 }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    fc.integer({ min: 1, max: 100 }),
    (bi, frac, chunk) => {
      const { name, buf } = BASES[bi]!
      const cut = 4 + Math.floor(frac * (buf.length - 4))
      const recs = records(name, buf)
      const want = recs.filter((r) => r.packet && r.end <= cut).length
      const atBoundary = cut === buf.length || recs.some((r) => r.end === cut)
      const wantAnomalies = atBoundary ? {} : name.startsWith('pcap-') && cut < 24 ? { truncated_capture_header: 1 } : { truncated_capture_record: 1 }
      for (const cs of [undefined, chunk]) {
        const r = run(buf.subarray(0, cut), cs)
        t.equal(r.error, undefined)
        t.equal(r.digest.length, want, `${name} cut at ${cut}/${buf.length}`)
        t.same(r.stats?.anomalies, wantAnomalies)
      }
    },
  ), { numRuns: 200 })
})
