import t from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseCaptureBuffer, readCaptureFile } from '../agent/capture/capture-file.js'
import { MAX_PACKET_BYTES } from '../agent/capture/file-reader-common.js'
import type { RawPacket } from '../agent/capture/raw-packet.js'
import { AgentErrorCode, isAgentError } from '../agent/util/errors.js'
import { collect, CHUNK_SIZES, copyPacket, type CollectedPacket } from './helpers/capture-collect.js'
import * as pb from './helpers/packet-builder.js'
import { buildPcap, pcapHeader, writeCaptureFile, type CaptureFrame } from './helpers/pcap-writer.js'
import { icmpEcho, mergeByTime, tcpConversation } from './helpers/traffic.js'

const dir = mkdtempSync(join(tmpdir(), 'telltale-pcap-reader-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

const frames: CaptureFrame[] = mergeByTime(
  tcpConversation({ client: { ip: '10.0.0.1', port: 40000 }, server: { ip: '10.0.0.2', port: 80 }, t0: 1_700_000_000.25,
    exchanges: [{ from: 'orig', bytes: 300 }, { from: 'resp', bytes: 5000 }] }),
  icmpEcho({ client: { ip: '2001:db8::1' }, server: { ip: '2001:db8::2' }, t0: 1_700_000_000.5, ipv6: true, count: 3, intervalUs: 1000 }),
)
// A nanosecond-precise timestamp and a snaplen-cut frame.
frames[1] = { ...frames[1]!, tsNsec: frames[1]!.tsNsec + 789 }
frames[2] = { ...frames[2]!, data: frames[2]!.data.subarray(0, 40), origLen: frames[2]!.data.length }

function expected(nano: boolean): CollectedPacket[] {
  return frames.map((f) => ({
    tsSec: f.tsSec, tsNsec: nano ? f.tsNsec : Math.floor(f.tsNsec / 1000) * 1000, linkType: 1, ifIndex: 0, ifName: '',
    origLen: f.origLen ?? f.data.length, data: f.data.toString('hex'),
  }))
}

function codeOf(fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return isAgentError(err) ? err.code : `not an AgentError: ${String(err)}` }
  return undefined
}

t.test('both byte orders and precisions, every chunk size', async (t) => {
  for (const bigEndian of [false, true]) {
    for (const nanosecond of [false, true]) {
      const buf = buildPcap(frames, { bigEndian, nanosecond })
      const want = expected(nanosecond)
      const whole = collect(buf)
      t.same(whole.pkts, want, `be=${bigEndian} ns=${nanosecond}: packets`)
      t.same(whole.stats.anomalies, {}, 'no anomalies')
      t.equal(whole.stats.format, 'pcap')
      t.equal(whole.stats.packets, frames.length)
      t.equal(whole.stats.bytes, frames.reduce((n, f) => n + f.data.length, 0))
      t.same(whole.stats.interfaces.map((i) => [i.linkType, i.snaplen, i.tsresolNs, i.unitsPerSecond]),
        [[1, 262144, nanosecond ? 1 : 1000, nanosecond ? 1e9 : 1e6]])
      for (const cs of CHUNK_SIZES) {
        const r = collect(buf, cs)
        t.same(r.pkts, want, `chunk ${cs}`)
        t.same(r.stats.anomalies, {})
      }
    }
  }
})

t.test('one reused RawPacket, zero-copy data views', async (t) => {
  const buf = buildPcap(frames)
  const seen = new Set<RawPacket>()
  let views = 0
  parseCaptureBuffer(buf, (p) => {
    seen.add(p)
    if (p.data.buffer === buf.buffer) views++
  })
  t.equal(seen.size, 1, 'the same object every time')
  t.equal(views, frames.length, 'data is a view into the input, not a copy')
})

t.test('linktype: FCS bits masked, other linktypes, unsupported linktype', async (t) => {
  const data = [{ tsSec: 1, tsNsec: 0, data: Buffer.alloc(64) }]
  const fcs = collect(buildPcap(data, { linkTypeField: 1 | 0x04000000 | (2 << 28) }))
  t.equal(fcs.pkts[0]!.linkType, 1)
  t.equal(fcs.stats.interfaces[0]!.fcsBytes, 4)
  t.equal(fcs.stats.anomalies.pcap_fcs_bits_in_linktype, 1)
  const sll = collect(buildPcap([{ tsSec: 1, tsNsec: 0, data: pb.linuxSll({ protocol: 0x0800 }, Buffer.alloc(20)) }], { linkType: 113 }))
  t.equal(sll.pkts[0]!.linkType, 113)
  t.equal(codeOf(() => parseCaptureBuffer(buildPcap(data, { linkType: 105 }), () => {})), AgentErrorCode.FILE_UNSUPPORTED_LINKTYPE)
})

t.test('modified (Kuznetzov) pcap with 24-byte record headers', async (t) => {
  const hdr = pcapHeader()
  hdr.writeUInt32LE(0xa1b2cd34, 0)
  const rec = Buffer.alloc(24 + 4)
  rec.writeUInt32LE(5, 0); rec.writeUInt32LE(6, 4); rec.writeUInt32LE(4, 8); rec.writeUInt32LE(60, 12)
  rec.write('abcd', 24)
  const r = collect(Buffer.concat([hdr, rec, rec]), 5)
  t.same(r.pkts.map((p) => [p.tsSec, p.tsNsec, p.origLen, p.data]), [[5, 6000, 60, '61626364'], [5, 6000, 60, '61626364']])
})

t.test('malformed records are anomalies, never throws', async (t) => {
  const good = buildPcap(frames)
  const lastLen = 16 + frames[frames.length - 1]!.data.length
  for (const cut of [1, 10, lastLen - 1]) {
    for (const cs of [undefined, 1, 64]) {
      const r = collect(good.subarray(0, good.length - cut), cs)
      t.equal(r.stats.packets, frames.length - 1, `cut ${cut} chunk ${cs}: last record dropped`)
      t.same(r.stats.anomalies, { truncated_capture_record: 1 })
    }
  }
  const hdrOnly = collect(good.subarray(0, 10), 3)
  t.same([hdrOnly.stats.packets, hdrOnly.stats.anomalies], [0, { truncated_capture_header: 1 }])

  // caplen beyond any sane size: the framing is lost, the reader stops after the good records.
  const bad = Buffer.from(good)
  const third = 24 + (16 + frames[0]!.data.length) + (16 + frames[1]!.data.length)
  bad.writeUInt32LE(MAX_PACKET_BYTES + 1, third + 8)
  for (const cs of [undefined, 1]) {
    const r = collect(bad, cs)
    t.equal(r.stats.packets, 2)
    t.same(r.stats.anomalies, { implausible_caplen: 1, capture_parse_stopped: 1 })
  }

  // Wire length below caplen, caplen above snaplen, a µs fraction of a second or more.
  const odd = buildPcap([
    { tsSec: 10, tsNsec: 0, data: Buffer.alloc(100), origLen: 50 },
    { tsSec: 10, tsNsec: 0, data: Buffer.alloc(100) },
  ], { snaplen: 64 })
  odd.writeUInt32LE(2_500_000, 24 + 4)
  const r = collect(odd)
  t.same(r.pkts.map((p) => [p.tsSec, p.tsNsec, p.origLen]), [[12, 500_000_000, 100], [10, 0, 100]])
  t.same(r.stats.anomalies, { pcap_bad_timestamp_fraction: 1, caplen_exceeds_wire_length: 1, caplen_exceeds_snaplen: 2 })
})

t.test('not a capture: empty, short, compressed, text', async (t) => {
  t.equal(codeOf(() => parseCaptureBuffer(Buffer.alloc(0), () => {})), AgentErrorCode.FILE_NOT_A_CAPTURE)
  t.equal(codeOf(() => parseCaptureBuffer(Buffer.from([0xd4, 0xc3]), () => {})), AgentErrorCode.FILE_NOT_A_CAPTURE)
  t.equal(codeOf(() => parseCaptureBuffer(Buffer.from('hello world, not a pcap'), () => {})), AgentErrorCode.FILE_NOT_A_CAPTURE)
  try {
    parseCaptureBuffer(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]), () => {})
    t.fail('should throw')
  } catch (err) {
    t.match((err as Error).message, /gzip-compressed.*supported formats are pcap .* and pcapng.*editcap -F pcap/)
  }
})

t.test('readCaptureFile: streams from disk with small chunks, errors say what to do', async (t) => {
  const file = join(dir, 'a.pcap')
  writeCaptureFile(file, frames, { nanosecond: true, bigEndian: true })
  for (const chunkSize of [undefined, 64, 1000]) {
    const got: CollectedPacket[] = []
    const stats = await readCaptureFile(file, { onPacket: (p) => { got.push(copyPacket(p)) }, ...(chunkSize ? { chunkSize } : {}) })
    t.same(got, expected(true), `chunk ${chunkSize}`)
    t.equal(stats.packets, frames.length)
    t.equal(stats.aborted, false)
  }
  const ac = new AbortController()
  let n = 0
  const partial = await readCaptureFile(file, { chunkSize: 64, signal: ac.signal, onPacket: () => { if (++n === 2) ac.abort() } })
  t.equal(partial.aborted, true)
  t.ok(partial.packets < frames.length, 'stopped early')

  const missing = join(dir, 'nope.pcap')
  await t.rejects(readCaptureFile(missing, { onPacket: () => {} }), {
    code: AgentErrorCode.FILE_UNREADABLE, message: new RegExp(`${missing}: no such file or directory \\(ENOENT\\)`),
  })
  await t.rejects(readCaptureFile(dir, { onPacket: () => {} }), { code: AgentErrorCode.FILE_UNREADABLE, message: /EISDIR/ })
  const text = join(dir, 'notes.txt')
  writeFileSync(text, 'just some text\n')
  await t.rejects(readCaptureFile(text, { onPacket: () => {} }), { code: AgentErrorCode.FILE_NOT_A_CAPTURE, message: /notes\.txt is not a capture file/ })
  const empty = join(dir, 'empty.pcap')
  writeFileSync(empty, '')
  await t.rejects(readCaptureFile(empty, { onPacket: () => {} }), { code: AgentErrorCode.FILE_NOT_A_CAPTURE, message: /empty/ })
  const wifi = join(dir, 'wifi.pcap')
  writeCaptureFile(wifi, frames, { linkType: 105 })
  await t.rejects(readCaptureFile(wifi, { onPacket: () => {} }), { code: AgentErrorCode.FILE_UNSUPPORTED_LINKTYPE, message: /linktype 105/ })
})
