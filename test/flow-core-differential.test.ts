/**
 * Differential test of the two flow tables: the TypeScript FlowTable (agent/flow/flow-table.ts,
 * the reference) and the WebAssembly flow core (agent/flowcore/, WasmFlowTable + the core's own
 * classic-pcap walk in wasm-pcap-file.ts). Every input is replayed twice through replayFiles
 * (flows only, no log directory): once with flowCore 'js', once with 'wasm'. The two must give
 * the same ConnRecords, record for record and in the same order, and the same summary
 * (packets, conns, anomalies, flow counters).
 *
 * Compared: every record field but `uid` (random by design). Uids are compared structurally
 * instead: each record carries the index of the first record of its run with the same uid
 * (interim and final records of one connection share one), and each tunnel parent is resolved
 * to the 5-tuple + ts of the record of that run with that uid. A GRE / IP-in-IP tunnel has no
 * record and its uid is random per run too: it becomes "tunnel#N", N its order of first
 * appearance in the run, so that equality stays structural.
 *
 * Inputs: the shared corpus (../shared/corpus) with and without -C, file by file and all in one
 * replay; generated captures for every conn_state, TCP oddities (retransmits, zero windows,
 * gaps, SYN reuse, SYN-ACK first, flips, long histories, sequence wrap), UDP, ICMP/ICMPv6, IPv6,
 * VLAN/QinQ, fragments, tunnels (VXLAN, GRE, Teredo, IP-in-IP, nested), bad checksums at every
 * layer, time disorder and clock steps, snaplen cuts, other link types and pcapng, nanosecond /
 * big-endian pcap, broken records and files, several files in one replay; the options that
 * change what the table does (maxFlows, activeTimeout, localNets, communityId, a BPF filter,
 * which makes every packet reach the core through the TypeScript decoder), thousands of
 * concurrent flows; and two fast-check properties: random packet sequences, and realistic
 * conversations with random mutations. FLOWCORE_DIFF_RUNS / FLOWCORE_DIFF_SEED widen the
 * properties locally, FLOWCORE_DIFF_KEEP keeps the generated captures.
 */
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { replayFiles, type ReplayOptions, type ReplaySummary } from '../agent/cli/commands/replay.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import {
  LINKTYPE_IPV4, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_LOOP, LINKTYPE_NULL, LINKTYPE_RAW,
} from '../agent/capture/link-types.js'
import {
  AF_INET, arp, bsdLoop, bsdNull, ethernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_MPLS,
  ETHERTYPE_PPPOE_SESSION, ETHERTYPE_QINQ, gre, icmp, icmpv6, IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IPIP,
  IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP, ipv4, ipv4Fragments, ipv6, linuxSll, linuxSll2, mpls, PPP_IPV4,
  pppoeSession, tcp, teredoUdp, udp, vxlanUdp, type Ipv6ExtHeader, type VlanTag,
} from './helpers/packet-builder.js'
import { buildCaptureFile, buildPcap, pcapHeader, pcapRecord, type CaptureFileOptions, type CaptureFrame } from './helpers/pcap-writer.js'
import { icmpEcho, mergeByTime, tcpConversation, udpExchange } from './helpers/traffic.js'
import { CORPUS_DIR, CORPUS_SKIP_MESSAGE, corpusAvailable, corpusIgnoresChecksums } from './helpers/paths.js'

const dir = mkdtempSync(join(tmpdir(), 'telltale-flowcore-diff-'))
// FLOWCORE_DIFF_KEEP=1 keeps the generated captures (to replay a failing one by hand).
t.teardown(() => { if (process.env.FLOWCORE_DIFF_KEEP === undefined) rmSync(dir, { recursive: true, force: true }) })
let fileSeq = 0

/** Writes a capture into the temp directory; returns its path. */
function writeTemp(name: string, bytes: Buffer): string {
  const p = join(dir, `${fileSeq++}-${name.replace(/[^A-Za-z0-9_.-]+/g, '_')}`)
  writeFileSync(p, bytes)
  return p
}

// ------------------------------------------------------------------ running and comparing

interface Outcome {
  recs: ConnRecord[]
  summary?: ReplaySummary
  error?: string
}

async function replayWith(files: string[], opts: ReplayOptions, flowCore: 'js' | 'wasm'): Promise<Outcome> {
  const recs: ConnRecord[] = []
  try {
    const summary = await replayFiles(files, { ...opts, app: false, quiet: true, flowCore }, { onConn: (r) => recs.push(r) })
    return { recs, summary }
  } catch (err) {
    return { recs, error: err instanceof Error ? err.message : String(err) }
  }
}

/** A value as comparable, printable text: keys sorted, undefined / non-finite numbers spelled out. */
function canon(v: unknown): unknown {
  if (v === undefined) return '<undefined>'
  if (typeof v === 'number' && !Number.isFinite(v)) return `<${v}>`
  if (Array.isArray(v)) return v.map(canon)
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) o[k] = canon((v as Record<string, unknown>)[k])
    return o
  }
  return v
}

/** The records with uids replaced by their structure (see the top of this file). */
function structural(recs: readonly ConnRecord[]): string[] {
  const firstIndex = new Map<string, number>()
  recs.forEach((r, i) => { if (!firstIndex.has(r.uid)) firstIndex.set(r.uid, i) })
  const tunnels = new Map<string, string>()
  const parentOf = (uid: string): string => {
    const i = firstIndex.get(uid)
    if (i !== undefined) {
      const p = recs[i]!
      return `${p.proto} ${p.origH}:${p.origP} > ${p.respH}:${p.respP} ts=${p.ts}`
    }
    let n = tunnels.get(uid)
    if (n === undefined) { n = `tunnel#${tunnels.size}`; tunnels.set(uid, n) }
    return n
  }
  return recs.map((r) => {
    const { uid, tunnelParents, ...rest } = r
    return JSON.stringify(canon({ ...rest, sameUidAs: firstIndex.get(uid), tunnelParents: tunnelParents.map(parentOf) }))
  })
}

interface Difference {
  what: string
  detail: string
}

/** The first difference between two outcomes, or undefined when they are equal. */
function firstDifference(js: Outcome, wasm: Outcome): Difference | undefined {
  if (js.error !== wasm.error) return { what: 'error', detail: `js: ${js.error ?? 'none'}\n  wasm: ${wasm.error ?? 'none'}` }
  const a = structural(js.recs)
  const b = structural(wasm.recs)
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < n && a[i] === b[i]) continue
    return {
      what: `record ${i} (js ${a.length} records, wasm ${b.length})`,
      detail: `js:   ${a[i] ?? '<no record>'}\n  wasm: ${b[i] ?? '<no record>'}`,
    }
  }
  if (js.summary === undefined || wasm.summary === undefined) return undefined
  for (const k of ['packets', 'conns', 'anomalies', 'flowCounters'] as const) {
    const x = JSON.stringify(canon(js.summary[k]))
    const y = JSON.stringify(canon(wasm.summary[k]))
    if (x !== y) return { what: `summary.${k}`, detail: `js:   ${x}\n  wasm: ${y}` }
  }
  return undefined
}

function describe(d: Difference): string {
  return `${d.what} differs\n  ${d.detail}`
}

/** Replays both ways; returns the difference (undefined: equal) and both outcomes. */
async function differential(files: string[], opts: ReplayOptions = {}): Promise<{ diff: Difference | undefined; js: Outcome; wasm: Outcome }> {
  const js = await replayWith(files, opts, 'js')
  const wasm = await replayWith(files, opts, 'wasm')
  return { diff: firstDifference(js, wasm), js, wasm }
}

/** One tap assertion per input: equal, or the first differing record of each side. */
async function check(tt: Test, label: string, files: string[], opts: ReplayOptions = {}, expectRecords = true): Promise<void> {
  const { diff, js } = await differential(files, opts)
  tt.ok(diff === undefined, diff === undefined ? `${label}: ${js.recs.length} records equal` : `${label}: ${describe(diff)}`)
  if (expectRecords && diff === undefined && js.error === undefined) tt.ok(js.recs.length > 0, `${label}: the input produced records`)
}

// ------------------------------------------------------------------ capture building

const T0_US = 1_700_000_000_000_000

interface Ep { ip: string, port: number, mac?: string }

interface FrameOpts {
  vlans?: Array<number | VlanTag>
  /** Cut the frame to this many bytes (origLen stays the full length). */
  snap?: number
  /** Wire length override. */
  origLen?: number
}

/** A capture under construction: frames with a clock in integer microseconds. */
class Cap {
  readonly frames: CaptureFrame[] = []
  us = T0_US

  wait(sec: number): this {
    this.us += Math.round(sec * 1e6)
    return this
  }

  /** Appends a frame at the current time, then advances the clock by 1 ms. */
  frame(data: Buffer, o: FrameOpts = {}): this {
    const sec = Math.floor(this.us / 1e6)
    const f: CaptureFrame = { tsSec: sec, tsNsec: (this.us - sec * 1e6) * 1000, data }
    if (o.snap !== undefined && o.snap < data.length) { f.data = data.subarray(0, o.snap); f.origLen = data.length }
    if (o.origLen !== undefined) f.origLen = o.origLen
    this.frames.push(f)
    this.us += 1000
    return this
  }

  /** An IP packet in an Ethernet frame (MACs derived from the addresses). */
  ip(pkt: Buffer, src: string, dst: string, o: FrameOpts = {}): this {
    const v6 = (pkt[0]! >> 4) === 6
    return this.frame(ethernet({ src: macOf(src), dst: macOf(dst), etherType: v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, vlans: o.vlans }, pkt), o)
  }

  tcp(from: Ep, to: Ep, flags: string, seq: number, ack: number, len = 0, o: FrameOpts & { window?: number, bad?: boolean, badIp?: boolean } = {}): this {
    return this.ip(tcpPacket(from, to, flags, seq, ack, len, o), from.ip, to.ip, o)
  }

  udp(from: Ep, to: Ep, len: number, o: FrameOpts & { bad?: boolean, badIp?: boolean, noChecksum?: boolean } = {}): this {
    return this.ip(udpPacket(from, to, len, o), from.ip, to.ip, o)
  }

  icmp(from: string, to: string, type: number, code: number, o: FrameOpts & { id?: number, seq?: number, len?: number, bad?: boolean } = {}): this {
    return this.ip(icmpPacket(from, to, type, code, o), from, to, o)
  }
}

function macOf(ip: string): string {
  const b = Buffer.from(ip)
  let h = 0
  for (const x of b) h = (Math.imul(h, 31) + x) >>> 0
  const hex = h.toString(16).padStart(8, '0')
  return `02:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}:${hex.slice(6, 8)}`
}

function ipPacket(src: string, dst: string, proto: number, l4: Buffer, o: { badIp?: boolean, ext?: Ipv6ExtHeader[] } = {}): Buffer {
  return src.includes(':')
    ? ipv6({ src, dst, nextHeader: proto, extHeaders: o.ext }, l4)
    : ipv4({ src, dst, protocol: proto, badChecksum: o.badIp, id: 0x100 }, l4)
}

const PAYLOAD = Buffer.from(Array.from({ length: 70000 }, (_v, i) => 0x41 + (i % 26)))

function tcpPacket(from: Ep, to: Ep, flags: string | number, seq: number, ack: number, len: number,
  o: { window?: number, bad?: boolean, badIp?: boolean, ext?: Ipv6ExtHeader[] } = {}): Buffer {
  const seg = tcp({ src: from.ip, dst: to.ip, sport: from.port, dport: to.port, flags, seq, ack, window: o.window ?? 65535, badChecksum: o.bad },
    PAYLOAD.subarray(0, len))
  return ipPacket(from.ip, to.ip, IPPROTO_TCP, seg, o)
}

function udpPacket(from: Ep, to: Ep, len: number, o: { bad?: boolean, badIp?: boolean, noChecksum?: boolean, ext?: Ipv6ExtHeader[] } = {}): Buffer {
  const d = udp({ src: from.ip, dst: to.ip, sport: from.port, dport: to.port, badChecksum: o.bad, noChecksum: o.noChecksum }, PAYLOAD.subarray(0, len))
  return ipPacket(from.ip, to.ip, IPPROTO_UDP, d, o)
}

function icmpPacket(from: string, to: string, type: number, code: number, o: { id?: number, seq?: number, len?: number, bad?: boolean, badIp?: boolean } = {}): Buffer {
  const body = PAYLOAD.subarray(0, o.len ?? 32)
  const io = { type, code, id: o.id ?? 7, seq: o.seq ?? 1, badChecksum: o.bad }
  return from.includes(':')
    ? ipPacket(from, to, IPPROTO_ICMPV6, icmpv6({ ...io, src: from, dst: to }, body))
    : ipPacket(from, to, IPPROTO_ICMP, icmp(io, body), o)
}

const C4 = '10.0.0.1'
const S4 = '192.0.2.9'
const X4 = '198.51.100.7'
const C6 = '2001:db8::1'
const S6 = '2001:db8:1::9'

function ep(ip: string, port: number): Ep {
  return { ip, port }
}

/** A TCP exchange between c and s written as a script: each step one packet. */
type Step = [from: 'C' | 'S', flags: string, seq: number, ack: number, len?: number, o?: { window?: number, bad?: boolean, dt?: number, snap?: number }]

function script(cap: Cap, c: Ep, s: Ep, steps: Step[], vlans?: Array<number | VlanTag>): Cap {
  for (const [from, flags, seq, ack, len, o] of steps) {
    if (o?.dt !== undefined) cap.wait(o.dt)
    const [a, b] = from === 'C' ? [c, s] : [s, c]
    cap.tcp(a, b, flags, seq, ack, len ?? 0, { ...o, ...(vlans ? { vlans } : {}) })
  }
  return cap
}

// ------------------------------------------------------------------ generated captures

interface Fixture {
  name: string
  frames: CaptureFrame[]
  file?: CaptureFileOptions
  /** Raw file bytes instead of frames. */
  bytes?: Buffer
}

function fixtures(): Fixture[] {
  const out: Fixture[] = []
  const add = (name: string, cap: Cap | CaptureFrame[], file?: CaptureFileOptions): void => {
    out.push({ name, frames: Array.isArray(cap) ? cap : cap.frames, ...(file ? { file } : {}) })
  }

  // ---- every conn_state (one connection each, time spaced so that timers fire in between) ----
  {
    const cap = new Cap()
    let port = 41000
    const conn = (steps: Step[], gap = 1): void => { script(cap, ep(C4, port++), ep(S4, 80), steps); cap.wait(gap) }
    conn([['C', 'S', 100, 0]]) // S0
    conn([['C', 'S', 100, 0], ['S', 'RA', 0, 101]]) // REJ
    conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501]]) // S1
    conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501], ['C', 'PA', 101, 501, 20], ['S', 'PA', 501, 121, 300],
      ['C', 'FA', 121, 801], ['S', 'FA', 801, 122], ['C', 'A', 122, 802]]) // SF
    conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501], ['C', 'FA', 101, 501]]) // S2
    conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501], ['S', 'FA', 501, 101]]) // S3
    conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501], ['C', 'R', 101, 0]]) // RSTO
    conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501], ['S', 'R', 501, 0]]) // RSTR
    conn([['C', 'S', 100, 0], ['C', 'R', 101, 0]]) // RSTOS0
    conn([['C', 'S', 100, 0], ['C', 'A', 101, 0], ['C', 'R', 101, 0]]) // SaR
    conn([['C', 'S', 100, 0], ['C', 'A', 101, 0], ['C', 'F', 101, 0], ['C', 'R', 102, 0]]) // SaFR / OTH
    conn([['S', 'SA', 500, 101], ['S', 'R', 501, 0]]) // RSTRH
    conn([['C', 'S', 100, 0], ['C', 'F', 101, 0]]) // SH
    conn([['S', 'SA', 500, 101], ['S', 'F', 501, 0]]) // SHR
    conn([['C', 'A', 100, 500], ['S', 'A', 500, 100]]) // OTH (midstream)
    conn([['C', 'R', 100, 0]]) // lone RST
    conn([['S', 'R', 100, 0]], 10)
    // The same set again with long pauses between them: the attempt, partial-close, session,
    // handshake-inactivity and TCP-inactivity timers fire inside the capture.
    for (const gap of [4, 6, 70, 301]) {
      conn([['C', 'S', 100, 0]], gap)
      conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501]], gap)
      conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501], ['C', 'FA', 101, 501]], gap)
      conn([['C', 'S', 100, 0], ['S', 'SA', 500, 101], ['C', 'A', 101, 501], ['C', 'FA', 101, 501], ['S', 'FA', 501, 102]], gap)
      conn([['C', 'A', 100, 500], ['C', 'F', 100, 500]], gap)
    }
    add('conn-states-tcp', cap)
    // All of them at once (interleaved in time).
    const all = out[out.length - 1]!.frames.map((f, i) => ({ ...f, tsSec: 1_700_000_000 + (i % 7), tsNsec: (i * 37_000) % 1e9 }))
    add('conn-states-tcp-interleaved', mergeByTime(all))
  }

  // ---- TCP oddities ----
  {
    const cap = new Cap()
    const c = ep(C4, 42000)
    const s = ep(S4, 8080)
    const hs: Step[] = [['C', 'S', 1000, 0], ['S', 'SA', 9000, 1001], ['C', 'A', 1001, 9001]]
    // Retransmissions (T at the 1st and 10th), zero windows (W/w), both directions.
    const rxmt: Step[] = [...hs]
    for (let i = 0; i < 12; i++) rxmt.push(['C', 'PA', 1001, 9001, 100])
    for (let i = 0; i < 11; i++) rxmt.push(['S', 'A', 9001, 1101, 0, { window: 0 }], ['C', 'A', 1101, 9001, 0, { window: 0 }])
    for (let i = 0; i < 3; i++) rxmt.push(['S', 'PA', 9001, 1101, 50])
    rxmt.push(['C', 'FA', 1101, 9051], ['S', 'FA', 9051, 1102], ['C', 'A', 1102, 9052])
    script(cap, c, s, rxmt)
    // Content gaps: data skipped in both directions, then acked (missed_bytes, G/g).
    script(cap, ep(C4, 42001), s, [...hs, ['C', 'PA', 1001, 9001, 100], ['C', 'PA', 1201, 9001, 100], ['S', 'A', 9001, 1301],
      ['S', 'PA', 9001, 1301, 10], ['S', 'PA', 9111, 1301, 10], ['C', 'A', 1301, 9121], ['C', 'PA', 1301, 9121, 5],
      ['C', 'PA', 1401, 9121, 5], ['C', 'PA', 1501, 9121, 5], ['S', 'A', 9121, 1506], ['C', 'FA', 1506, 9121], ['S', 'FA', 9121, 1507]])
    // SYN reuse: a finished connection, then a new SYN with another ISN on the same 5-tuple;
    // a SYN with another ISN on an open connection; a retransmitted SYN (same ISN, no reuse).
    script(cap, ep(C4, 42002), s, [...hs, ['C', 'FA', 1001, 9001], ['S', 'FA', 9001, 1002], ['C', 'A', 1002, 9002],
      ['C', 'S', 5000, 0, 0, { dt: 1 }], ['S', 'SA', 7000, 5001], ['C', 'A', 5001, 7001], ['C', 'S', 6000, 0], ['C', 'S', 6000, 0],
      ['S', 'SA', 8000, 6001], ['S', 'SA', 8000, 6001], ['C', 'S', 6000, 0, 0, { dt: 2 }]])
    // SYN-ACK first, then the ACK (Zeek PR #2191 flip) and data.
    script(cap, ep(C4, 42003), s, [['S', 'SA', 9000, 1001], ['C', 'A', 1001, 9001], ['C', 'PA', 1001, 9001, 10], ['S', 'A', 9001, 1011]])
    // SYN-ACK first then a SYN from the other side with the ISN acked (SYN/SYN-ACK reversal).
    script(cap, ep(C4, 42004), s, [['C', 'SA', 1000, 9001], ['S', 'S', 9000, 0], ['S', 'A', 9001, 1001]])
    // Flips on likely server ports: from 80 without SYN; 80 <-> 443 without SYN; SYN to 80 from 443.
    script(cap, ep(S4, 80), ep(C4, 42005), [['C', 'A', 100, 200], ['S', 'A', 200, 100], ['C', 'PA', 100, 200, 30]])
    script(cap, ep(S4, 443), ep(C4, 80), [['C', 'A', 100, 200], ['S', 'A', 200, 100]])
    script(cap, ep(S4, 80), ep(C4, 443), [['C', 'A', 100, 200], ['S', 'A', 200, 100]])
    script(cap, ep(C4, 443), ep(S4, 80), [['C', 'S', 100, 0], ['S', 'SA', 200, 101]])
    script(cap, ep(S4, 22), ep(C4, 42006), [['C', 'SA', 100, 201], ['S', 'A', 201, 101], ['S', 'PA', 201, 101, 9]])
    // Multi-flag packets (Q, I), SYN with data, FIN with data, RST with data, FIN retransmits at other seqs.
    script(cap, ep(C4, 42007), s, [['C', 'S', 1000, 0, 20], ['S', 'SA', 9000, 1021], ['C', 'SF', 1021, 9001], ['S', 'FR', 9001, 1022],
      ['C', 'FPA', 1021, 9001, 33], ['C', 'FA', 1060, 9001], ['C', 'FA', 1070, 9001], ['S', 'RA', 9001, 1071, 12], ['S', 'R', 9050, 0]])
    // Many distinct RSTs and FINs: a history longer than 40 letters.
    const long: Step[] = [...hs, ['C', 'PA', 1001, 9001, 10]]
    for (let i = 0; i < 30; i++) long.push(['C', 'R', 2000 + i * 7, 0], ['S', 'R', 9100 + i * 3, 0])
    script(cap, ep(C4, 42008), s, long)
    const fins: Step[] = [...hs]
    for (let i = 0; i < 25; i++) fins.push(['C', 'FA', 1001 + i, 9001], ['S', 'FA', 9001 + i * 2, 1002])
    script(cap, ep(C4, 42009), s, fins)
    // Sequence numbers wrapping past 2^32, with a gap across the wrap.
    script(cap, ep(C4, 42010), s, [['C', 'S', 0xffffff00, 0], ['S', 'SA', 0xfffffff0, 0xffffff01], ['C', 'A', 0xffffff01, 0xfffffff1],
      ['C', 'PA', 0xffffff01, 0xfffffff1, 1000], ['C', 'PA', (0xffffff01 + 1000) >>> 0, 0xfffffff1, 1000],
      ['S', 'PA', 0xfffffff1, (0xffffff01 + 2000) >>> 0, 100], ['S', 'PA', (0xfffffff1 + 300) >>> 0, (0xffffff01 + 2000) >>> 0, 100],
      ['C', 'A', (0xffffff01 + 2000) >>> 0, (0xfffffff1 + 400) >>> 0], ['C', 'FA', (0xffffff01 + 2000) >>> 0, (0xfffffff1 + 400) >>> 0],
      ['S', 'FA', (0xfffffff1 + 400) >>> 0, (0xffffff01 + 2001) >>> 0]])
    // Huge sequence jumps on SYN / RST, acks below the ISN, ack 0.
    script(cap, ep(C4, 42011), s, [...hs, ['C', 'PA', 1001, 9001, 10], ['C', 'R', 1001 + 5_000_000, 0], ['S', 'A', 9001, 500],
      ['S', 'A', 9001, 0], ['C', 'S', 1000, 0], ['S', 'SA', 9000 + 3_000_000, 1001]])
    // Data acked before it is seen; data cut by the snaplen (captured < length): gaps.
    script(cap, ep(C4, 42012), s, [...hs, ['S', 'A', 9001, 3001], ['C', 'PA', 1001, 9001, 1000, { snap: 80 }],
      ['C', 'PA', 2001, 9001, 1000], ['S', 'A', 9001, 3001], ['C', 'FA', 3001, 9001], ['S', 'FA', 9001, 3002]])
    // Out-of-order segments filled in later; many small holes (block list bounded at 64).
    const ooo: Step[] = [...hs]
    for (let i = 70; i >= 0; i--) ooo.push(['C', 'PA', 1001 + i * 20, 9001, 10])
    ooo.push(['S', 'A', 9001, 1001 + 71 * 20])
    script(cap, ep(C4, 42013), s, ooo)
    // An eccentric responder acking the SYN before answering; a second SYN-ACK with another ISN.
    script(cap, ep(C4, 42014), s, [['C', 'S', 1000, 0], ['S', 'A', 9000, 1001], ['S', 'SA', 9000, 1001], ['S', 'SA', 9500, 1001],
      ['C', 'A', 1001, 9501]])
    // Handshake with a partial originator (first packet a pure ACK), then SYN on partial.
    script(cap, ep(C4, 42015), s, [['C', 'A', 1000, 9000], ['C', 'S', 999, 0], ['S', 'A', 9000, 1000], ['S', 'SA', 8999, 1000]])
    add('tcp-oddities', cap)
  }

  // ---- bulk TCP from the traffic generator (v4/v6, VLAN, every close) ----
  {
    const lists: CaptureFrame[][] = []
    const closes = ['fin', 'rst-orig', 'rst-resp', 'none'] as const
    const opens = ['handshake', 'none', 'syn-only', 'rejected'] as const
    for (let i = 0; i < 16; i++) {
      const v6 = i % 3 === 0
      lists.push(tcpConversation({
        client: { ip: v6 ? `2001:db8::${i + 10}` : `10.1.0.${i + 10}`, port: 50000 + i },
        server: { ip: v6 ? '2001:db8:2::1' : '10.2.0.1', port: [80, 443, 22, 5555][i % 4]! },
        ipv6: v6, ...(i % 4 === 1 ? { vlan: 100 + i } : {}), t0: 1_700_000_100 + i * 0.37,
        open: opens[(i >> 2) % 4], close: closes[i % 4], isnOrig: (i * 0x3fffffff) >>> 0, isnResp: (0xfffff000 + i * 1000) >>> 0,
        exchanges: [{ from: 'orig', bytes: 100 + i * 37 }, { from: 'resp', bytes: 3000 + i * 999 }, { from: 'orig', bytes: i * 3 }],
      }))
    }
    add('tcp-conversations', mergeByTime(...lists))
  }

  // ---- UDP ----
  {
    const cap = new Cap()
    cap.udp(ep(C4, 5000), ep(S4, 53), 40).udp(ep(S4, 53), ep(C4, 5000), 120) // SF
    cap.udp(ep(C4, 5001), ep(S4, 9999), 10) // S0
    cap.udp(ep(S4, 53), ep(C4, 5002), 10) // flipped: SHR
    cap.udp(ep(S4, 53), ep(C4, 53), 10).udp(ep(C4, 53), ep(S4, 53), 10) // both likely servers
    cap.udp(ep(C4, 68), ep('255.255.255.255', 67), 300).udp(ep(S4, 67), ep('255.255.255.255', 68), 300) // broadcast: no flip
    cap.udp(ep(C4, 123), ep(S4, 123), 48, { noChecksum: true }).udp(ep(S4, 123), ep(C4, 123), 48)
    cap.udp(ep(C4, 5003), ep(S4, 5004), 0).udp(ep(S4, 5004), ep(C4, 5003), 0) // empty datagrams (no duration: same µs? no, 1 ms apart)
    cap.udp(ep(C6, 5353), ep('ff02::fb', 5353), 60).udp(ep(S6, 5353), ep('ff02::fb', 5353), 80)
    cap.udp(ep(C6, 40000), ep(S6, 53), 30).udp(ep(S6, 53), ep(C6, 40000), 90)
    cap.udp(ep(C4, 5005), ep(X4, 161), 20, { vlans: [7] }).udp(ep(X4, 161), ep(C4, 5005), 20, { vlans: [7] })
    // A UDP length field that disagrees with the IP length (host decoder; anomaly).
    {
      const d = udp({ src: C4, dst: S4, sport: 5006, dport: 5007 }, PAYLOAD.subarray(0, 20))
      d.writeUInt16BE(12, 4)
      cap.ip(ipv4({ src: C4, dst: S4, protocol: IPPROTO_UDP }, d), C4, S4)
    }
    // The same flows again after their inactivity timeout.
    cap.wait(61).udp(ep(C4, 5000), ep(S4, 53), 40).udp(ep(C4, 5001), ep(S4, 9999), 10).wait(59.999).udp(ep(C4, 5001), ep(S4, 9999), 10)
    add('udp', cap)
    const lists: CaptureFrame[][] = []
    for (let i = 0; i < 20; i++) {
      lists.push(udpExchange({ client: { ip: `10.3.0.${i + 1}`, port: 30000 + i }, server: { ip: '10.3.1.1', port: [53, 123, 9000, 5353][i % 4]! },
        t0: 1_700_000_000 + i * 4.1, exchanges: [{ from: 'orig', bytes: 30 + i }, { from: 'resp', bytes: 200 + i * 5 }, { from: 'orig', bytes: i }] }))
    }
    add('udp-exchanges', mergeByTime(...lists))
  }

  // ---- ICMP / ICMPv6 ----
  {
    const cap = new Cap()
    cap.icmp(C4, S4, 8, 0).icmp(S4, C4, 0, 0).icmp(C4, S4, 8, 0, { seq: 2 }).icmp(S4, C4, 0, 0, { seq: 2 })
    cap.icmp(S4, C4, 3, 3, { len: 28 }).icmp(X4, C4, 11, 0).icmp(C4, S4, 13, 0).icmp(S4, C4, 14, 0)
    cap.icmp(C4, S4, 42, 5).icmp(C4, S4, 5, 1).icmp(C4, X4, 9, 0).icmp(X4, C4, 10, 0).icmp(C4, S4, 17, 0).icmp(S4, C4, 18, 0)
    cap.icmp(C6, S6, 128, 0).icmp(S6, C6, 129, 0).icmp(C6, 'ff02::1:ff00:9', 135, 0).icmp(S6, C6, 136, 0)
    cap.icmp(C6, 'ff02::2', 133, 0).icmp('fe80::1', C6, 134, 0).icmp(C6, 'ff02::16', 143, 0).icmp(S6, C6, 1, 4).icmp(C6, S6, 200, 9)
    cap.icmp(C6, S6, 130, 0).icmp(S6, C6, 131, 0).icmp(C4, S4, 8, 0, { len: 0 }).icmp(C4, S4, 0, 0, { len: 1400 })
    cap.wait(61).icmp(C4, S4, 8, 0, { seq: 3 })
    const echo = icmpEcho({ client: { ip: '10.4.0.1' }, server: { ip: '10.4.0.2' }, t0: 1_700_000_000.5, count: 5, intervalUs: 30_000_000, vlan: 44 })
    const echo6 = icmpEcho({ client: { ip: 'fd00::1' }, server: { ip: 'fd00::2' }, t0: 1_700_000_000.25, count: 3, ipv6: true, reply: false })
    add('icmp', mergeByTime(cap.frames, echo, echo6))
  }

  // ---- IPv6 details, VLAN / QinQ, other ethertypes and IPv4 quirks ----
  {
    const cap = new Cap()
    const c = ep(C6, 43000)
    const s = ep(S6, 443)
    script(cap, c, s, [['C', 'S', 1, 0], ['S', 'SA', 1, 2], ['C', 'A', 2, 2], ['C', 'PA', 2, 2, 500], ['S', 'FA', 2, 502], ['C', 'FA', 502, 3]])
    // Extension headers (left to the host decoder): hop-by-hop + destination options, routing.
    for (const ext of [[{ type: 'hop-by-hop' }, { type: 'destination' }], [{ type: 'routing', addresses: [] }],
      [{ type: 'fragment', offset: 0, more: false, id: 5 }]] as Ipv6ExtHeader[][]) {
      cap.ip(tcpPacket(c, s, 'A', 502, 3, 10, { ext }), C6, S6)
      cap.ip(udpPacket(ep(C6, 999), ep(S6, 53), 10, { ext }), C6, S6)
    }
    // ICMP (type 1) inside IPv6, ICMPv6 (58) inside IPv4: both decoded by the host.
    cap.ip(ipv6({ src: C6, dst: S6, nextHeader: IPPROTO_ICMP }, icmp({ type: 8, id: 1, seq: 1 }, PAYLOAD.subarray(0, 8))), C6, S6)
    cap.ip(ipv4({ src: C4, dst: S4, protocol: IPPROTO_ICMPV6 }, icmp({ type: 128, id: 1, seq: 1 }, PAYLOAD.subarray(0, 8))), C4, S4)
    // Unknown transports (SCTP 132, 253) on both families; an IPv6 "no next header".
    cap.ip(ipv4({ src: C4, dst: S4, protocol: 132 }, PAYLOAD.subarray(0, 40)), C4, S4).ip(ipv4({ src: S4, dst: C4, protocol: 132 }, PAYLOAD.subarray(0, 60)), S4, C4)
    cap.ip(ipv6({ src: C6, dst: S6, nextHeader: 253 }, PAYLOAD.subarray(0, 10)), C6, S6).ip(ipv6({ src: C6, dst: S6, nextHeader: 59 }, Buffer.alloc(0)), C6, S6)
    // VLAN, QinQ (802.1ad outer), 0x9100 outer, three tags (host decoder).
    const v = ep(C4, 44000)
    const w = ep(S4, 80)
    script(cap, v, w, [['C', 'S', 1, 0], ['S', 'SA', 1, 2], ['C', 'A', 2, 2]], [10])
    script(cap, ep(C4, 44001), w, [['C', 'S', 1, 0], ['S', 'SA', 1, 2]], [{ id: 20, tpid: ETHERTYPE_QINQ }, 30])
    script(cap, ep(C4, 44002), w, [['C', 'S', 1, 0], ['S', 'SA', 1, 2]], [{ id: 21, tpid: 0x9100 }, 31])
    script(cap, ep(C4, 44003), w, [['C', 'S', 1, 0], ['S', 'SA', 1, 2]], [22, 32, 42])
    cap.udp(ep(C6, 1), ep(S6, 2), 5, { vlans: [{ id: 4095, pcp: 7, dei: true }] })
    // VLAN tag only on one direction (first packet decides).
    script(cap, ep(C4, 44004), w, [['C', 'S', 1, 0]], [50])
    script(cap, ep(C4, 44004), w, [['S', 'SA', 1, 2]])
    // IPv4 options, Ethernet padding, total length 0 (TSO), DF set.
    cap.ip(ipv4({ src: C4, dst: S4, protocol: IPPROTO_UDP, options: Buffer.from([1, 1, 1, 0]) }, udp({ src: C4, dst: S4, sport: 7, dport: 7 }, PAYLOAD.subarray(0, 3))), C4, S4)
    cap.frame(Buffer.concat([ethernet({ etherType: ETHERTYPE_IPV4 }, udpPacket(ep(C4, 8), ep(S4, 8), 2)), Buffer.alloc(16)]))
    cap.ip(ipv4({ src: C4, dst: S4, protocol: IPPROTO_UDP, totalLength: 0 }, udp({ src: C4, dst: S4, sport: 9, dport: 9 }, PAYLOAD.subarray(0, 10))), C4, S4)
    cap.ip(ipv4({ src: C4, dst: S4, protocol: IPPROTO_UDP, totalLength: 10 }, udp({ src: C4, dst: S4, sport: 9, dport: 10 }, PAYLOAD.subarray(0, 10))), C4, S4)
    cap.ip(ipv4({ src: C4, dst: S4, protocol: IPPROTO_UDP, totalLength: 200 }, udp({ src: C4, dst: S4, sport: 9, dport: 11 }, PAYLOAD.subarray(0, 10))), C4, S4)
    // ARP, MPLS, PPPoE, an unknown ethertype, a runt frame, a truncated IPv6 header.
    cap.frame(ethernet({ etherType: ETHERTYPE_ARP }, arp({ op: 'request', senderMac: '02:00:00:00:00:01', senderIp: C4, targetIp: S4 })))
    cap.frame(ethernet({ etherType: ETHERTYPE_MPLS }, mpls([100, 200], udpPacket(ep(C4, 11), ep(S4, 12), 5))))
    cap.frame(ethernet({ etherType: ETHERTYPE_PPPOE_SESSION }, pppoeSession({ pppProtocol: PPP_IPV4 }, udpPacket(ep(C4, 13), ep(S4, 14), 5))))
    cap.frame(ethernet({ etherType: 0x88b5 }, Buffer.alloc(40))).frame(Buffer.alloc(10))
    cap.frame(ethernet({ etherType: ETHERTYPE_IPV6 }, Buffer.from([0x60, 0, 0, 0])))
    // Same address both ends, same ports; port 0.
    cap.udp(ep(C4, 7000), ep(C4, 7000), 4).udp(ep(C4, 7000), ep(C4, 7001), 4).udp(ep(C4, 7001), ep(C4, 7000), 4).udp(ep(C4, 0), ep(S4, 0), 4)
    add('ipv6-vlan-ethertypes', cap)
  }

  // ---- fragments ----
  {
    const cap = new Cap()
    const big = udp({ src: C4, dst: S4, sport: 6000, dport: 53 }, PAYLOAD.subarray(0, 3000))
    const f4 = ipv4Fragments({ src: C4, dst: S4, protocol: IPPROTO_UDP, id: 77 }, big, 1480)
    for (const f of f4) cap.ip(f, C4, S4)
    // Out of order, with a duplicate and a retransmitted overlap.
    const g4 = ipv4Fragments({ src: S4, dst: C4, protocol: IPPROTO_UDP, id: 78 }, udp({ src: S4, dst: C4, sport: 53, dport: 6000 }, PAYLOAD.subarray(0, 2500)), 800)
    for (const i of [2, 0, 0, 3, 1]) cap.ip(g4[i]!, S4, C4)
    // TCP in fragments (the SYN carries data) with a full handshake around it.
    const syn = tcp({ src: C4, dst: S4, sport: 6001, dport: 80, flags: 'S', seq: 10 }, PAYLOAD.subarray(0, 600))
    for (const f of ipv4Fragments({ src: C4, dst: S4, protocol: IPPROTO_TCP, id: 79 }, syn, 256)) cap.ip(f, C4, S4)
    cap.tcp(ep(S4, 80), ep(C4, 6001), 'SA', 50, 611).tcp(ep(C4, 6001), ep(S4, 80), 'A', 611, 51)
    // A fragment that never completes (expired 30 s later, with normal traffic in between).
    cap.ip(ipv4Fragments({ src: C4, dst: X4, protocol: IPPROTO_UDP, id: 80 }, udp({ src: C4, dst: X4, sport: 6002, dport: 7 }, PAYLOAD.subarray(0, 2000)), 1000)[0]!, C4, X4)
    for (let i = 0; i < 40; i++) cap.wait(1).udp(ep(C4, 6003), ep(S4, 9), 10)
    // ICMP fragmented; a fragment with a bad IP checksum.
    for (const f of ipv4Fragments({ src: C4, dst: S4, protocol: IPPROTO_ICMP, id: 81 }, icmp({ type: 8, id: 3, seq: 3 }, PAYLOAD.subarray(0, 1800)), 1000)) cap.ip(f, C4, S4)
    const h4 = ipv4Fragments({ src: C4, dst: S4, protocol: IPPROTO_UDP, id: 82 }, udp({ src: C4, dst: S4, sport: 6004, dport: 9 }, PAYLOAD.subarray(0, 1600)), 1000)
    cap.ip(h4[0]!, C4, S4).ip(ipv4({ src: C4, dst: S4, protocol: IPPROTO_UDP, id: 82, fragOffset: 1000, badChecksum: true }, h4[1]!.subarray(20)), C4, S4)
    // IPv6 fragments (two datagrams interleaved, one with a bad UDP checksum inside).
    const d6 = udp({ src: C6, dst: S6, sport: 6005, dport: 53 }, PAYLOAD.subarray(0, 3000))
    const e6 = udp({ src: S6, dst: C6, sport: 53, dport: 6005, badChecksum: true }, PAYLOAD.subarray(0, 1500))
    const frag6 = (src: string, dst: string, l4: Buffer, id: number, size: number): Buffer[] => {
      const out6: Buffer[] = []
      for (let off = 0; off < l4.length; off += size) {
        const end = Math.min(l4.length, off + size)
        out6.push(ipv6({ src, dst, nextHeader: IPPROTO_UDP, extHeaders: [{ type: 'fragment', offset: off, more: end < l4.length, id }] }, l4.subarray(off, end)))
      }
      return out6
    }
    const a6 = frag6(C6, S6, d6, 9, 1232)
    const b6 = frag6(S6, C6, e6, 10, 1000)
    cap.ip(a6[0]!, C6, S6).ip(b6[1]!, S6, C6).ip(a6[1]!, C6, S6).ip(b6[0]!, S6, C6).ip(a6[2]!, C6, S6)
    // Fragments inside a VLAN, then normal packets of the same flow.
    for (const f of ipv4Fragments({ src: X4, dst: S4, protocol: IPPROTO_UDP, id: 83 }, udp({ src: X4, dst: S4, sport: 6006, dport: 9 }, PAYLOAD.subarray(0, 1200)), 600)) cap.ip(f, X4, S4, { vlans: [5] })
    cap.udp(ep(X4, 6006), ep(S4, 9), 3, { vlans: [5] })
    add('fragments', cap)
  }

  // ---- tunnels ----
  {
    const cap = new Cap()
    const outerA = '203.0.113.1'
    const outerB = '203.0.113.2'
    const innerFrame = (pkt: Buffer, v6 = false): Buffer => ethernet({ src: '02:aa:00:00:00:01', dst: '02:aa:00:00:00:02', etherType: v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4 }, pkt)
    const vx = (inner: Buffer, rev = false, vni = 42, sport = 49152): Buffer =>
      ipv4({ src: rev ? outerB : outerA, dst: rev ? outerA : outerB, protocol: IPPROTO_UDP },
        vxlanUdp({ src: rev ? outerB : outerA, dst: rev ? outerA : outerB, vni, sport }, inner))
    const ic = ep('172.16.0.1', 45000)
    const is = ep('172.16.0.2', 80)
    // VXLAN: a TCP handshake + data inside one outer UDP flow; a second inner flow; a v6 inner flow.
    cap.ip(vx(innerFrame(tcpPacket(ic, is, 'S', 1, 0, 0))), outerA, outerB)
    cap.ip(vx(innerFrame(tcpPacket(is, ic, 'SA', 1, 2, 0))), outerA, outerB)
    cap.ip(vx(innerFrame(tcpPacket(ic, is, 'A', 2, 2, 0))), outerA, outerB)
    cap.ip(vx(innerFrame(tcpPacket(ic, is, 'PA', 2, 2, 100))), outerA, outerB)
    cap.ip(vx(innerFrame(udpPacket(ep('172.16.0.3', 53), ep('172.16.0.1', 3333), 50)), true), outerB, outerA)
    cap.ip(vx(innerFrame(icmpPacket('fd00::a', 'fd00::b', 128, 0), true), false, 43), outerA, outerB)
    // The same inner flow through another VXLAN outer flow (another source port).
    cap.ip(vx(innerFrame(tcpPacket(is, ic, 'A', 2, 102, 0)), false, 42, 50000), outerA, outerB)
    // GRE: plain IPv4 inner, with key and sequence; GRE carrying Ethernet (TEB); an unknown GRE protocol.
    const greOuter = (inner: Buffer, o: { protocol?: number, key?: number, seq?: number, checksum?: boolean } = {}): Buffer =>
      ipv4({ src: outerA, dst: '203.0.113.3', protocol: IPPROTO_GRE }, gre(o, inner))
    cap.ip(greOuter(udpPacket(ep('172.17.0.1', 1111), ep('172.17.0.2', 53), 30)), outerA, '203.0.113.3')
    cap.ip(greOuter(udpPacket(ep('172.17.0.2', 53), ep('172.17.0.1', 1111), 60), { key: 5, seq: 1, checksum: true }), outerA, '203.0.113.3')
    cap.ip(greOuter(icmpPacket('172.17.0.1', '172.17.0.9', 8, 0)), outerA, '203.0.113.3')
    cap.ip(greOuter(innerFrame(tcpPacket(ep('172.17.1.1', 1234), ep('172.17.1.2', 22), 'S', 5, 0, 0)), { protocol: 0x6558 }), outerA, '203.0.113.3')
    cap.ip(greOuter(Buffer.alloc(30), { protocol: 0x1234 }), outerA, '203.0.113.3')
    // IP-in-IP and 6in4.
    cap.ip(ipv4({ src: outerA, dst: outerB, protocol: IPPROTO_IPIP }, udpPacket(ep('172.18.0.1', 5), ep('172.18.0.2', 6), 9)), outerA, outerB)
    cap.ip(ipv4({ src: outerA, dst: outerB, protocol: IPPROTO_IPV6 }, udpPacket(ep('fd01::1', 5), ep('fd01::2', 6), 9)), outerA, outerB)
    // Teredo: IPv6 in UDP/3544, both directions.
    const tin = udpPacket(ep('2001:0::1', 7000), ep('2001:db8:5::1', 53), 20)
    cap.ip(ipv4({ src: C4, dst: X4, protocol: IPPROTO_UDP }, teredoUdp({ src: C4, dst: X4 }, tin)), C4, X4)
    const tout = udpPacket(ep('2001:db8:5::1', 53), ep('2001:0::1', 7000), 40)
    cap.ip(ipv4({ src: X4, dst: C4, protocol: IPPROTO_UDP }, teredoUdp({ src: X4, dst: C4, sport: 3544, dport: 49153 }, tout)), X4, C4)
    // Nested: GRE inside VXLAN inside GRE; and deeper than the decoder follows.
    let nested = udpPacket(ep('172.19.0.1', 1), ep('172.19.0.2', 2), 8)
    for (let depth = 0; depth < 5; depth++) {
      nested = depth % 2 === 0
        ? ipv4({ src: `203.0.114.${depth}`, dst: '203.0.114.100', protocol: IPPROTO_GRE }, gre({}, nested))
        : ipv4({ src: `203.0.114.${depth}`, dst: '203.0.114.100', protocol: IPPROTO_UDP }, vxlanUdp({ src: `203.0.114.${depth}`, dst: '203.0.114.100', vni: depth }, innerFrame(nested)))
      if (depth >= 1) cap.ip(nested, `203.0.114.${depth}`, '203.0.114.100')
    }
    // VXLAN outer flow with a bad UDP checksum (no decapsulation), then good again.
    {
      const inner = innerFrame(udpPacket(ep('172.16.9.1', 1), ep('172.16.9.2', 2), 4))
      const seg = vxlanUdp({ src: outerA, dst: outerB, vni: 1, sport: 51000 }, inner)
      seg[7] = seg[7]! ^ 0xff
      cap.ip(ipv4({ src: outerA, dst: outerB, protocol: IPPROTO_UDP }, seg), outerA, outerB)
      cap.ip(vx(inner, false, 1, 51000), outerA, outerB)
    }
    // A TCP connection reused (SYN with another ISN) inside a GRE tunnel and inside a VXLAN flow.
    for (const [seq, flags] of [[100, 'S'], [100, 'S'], [5000, 'S'], [5001, 'A'], [9000, 'S']] as const) {
      cap.ip(greOuter(tcpPacket(ep('172.17.2.1', 1234), ep('172.17.2.2', 22), flags, seq, 0, 0)), outerA, '203.0.113.3')
      cap.ip(vx(innerFrame(tcpPacket(ep('172.16.2.1', 1234), ep('172.16.2.2', 22), flags, seq, 0, 0)), false, 42, 53000), outerA, outerB)
    }
    // Fragmented VXLAN outer datagram.
    for (const f of ipv4Fragments({ src: outerA, dst: outerB, protocol: IPPROTO_UDP, id: 99 },
      vxlanUdp({ src: outerA, dst: outerB, vni: 7, sport: 52000 }, innerFrame(udpPacket(ep('172.16.8.1', 1), ep('172.16.8.2', 2), 1800))), 800)) cap.ip(f, outerA, outerB)
    add('tunnels', cap)
  }

  // ---- bad checksums (every layer, first packet and mid-flow) ----
  {
    const cap = new Cap()
    const c = ep(C4, 46000)
    const s = ep(S4, 80)
    script(cap, c, s, [['C', 'S', 1, 0, 0, { bad: true }], ['C', 'S', 1, 0], ['S', 'SA', 1, 2, 0, { bad: true }], ['S', 'SA', 1, 2],
      ['C', 'A', 2, 2], ['C', 'PA', 2, 2, 50, { bad: true }], ['C', 'PA', 2, 2, 50], ['S', 'PA', 2, 52, 20, { bad: true }],
      ['S', 'FA', 2, 52], ['C', 'FA', 52, 3, 0, { bad: true }]])
    for (let i = 0; i < 11; i++) cap.tcp(ep(C4, 46001), s, 'A', 5, 5, 0, { bad: true }) // C at 1 and 10, never a real packet
    cap.tcp(ep(C4, 46002), ep(S4, 443), 'SA', 5, 5, 0, { bad: true }) // would flip if the checksum were good
    cap.tcp(ep(S4, 443), ep(C4, 46003), 'A', 5, 5, 0, { bad: true }).tcp(ep(S4, 443), ep(C4, 46003), 'A', 5, 5, 0)
    cap.tcp(ep(C4, 46004), s, 'S', 1, 0, 0, { badIp: true }).tcp(ep(C4, 46004), s, 'S', 1, 0, 0)
    cap.udp(ep(C4, 46005), ep(S4, 53), 10, { bad: true }).udp(ep(S4, 53), ep(C4, 46005), 10).udp(ep(C4, 46005), ep(S4, 53), 10, { bad: true })
    cap.udp(ep(S4, 53), ep(C4, 46006), 10, { bad: true }).udp(ep(C4, 46006), ep(S4, 53), 10, { badIp: true })
    cap.udp(ep(C6, 46007), ep(S6, 53), 10, { bad: true }).udp(ep(S6, 53), ep(C6, 46007), 10)
    {
      const zero = udp({ src: C6, dst: S6, sport: 46008, dport: 53 }, PAYLOAD.subarray(0, 4))
      zero.writeUInt16BE(0, 6) // IPv6 forbids a zero UDP checksum
      cap.ip(ipv6({ src: C6, dst: S6, nextHeader: IPPROTO_UDP }, zero), C6, S6)
    }
    cap.icmp(C4, S4, 8, 0, { bad: true }).icmp(S4, C4, 0, 0).icmp(C6, S6, 128, 0, { bad: true }).icmp(S6, C6, 129, 0, { bad: true })
    cap.ip(ipv4({ src: C4, dst: S4, protocol: 132, badChecksum: true }, PAYLOAD.subarray(0, 8)), C4, S4)
    script(cap, ep(C6, 46009), ep(S6, 80), [['C', 'S', 1, 0, 0, { bad: true }], ['S', 'SA', 1, 2, 0, { bad: true }]])
    add('bad-checksums', cap)
  }

  // ---- time: disorder, equal stamps, clock steps back (> 60 s flushes, = 60 s clamps) ----
  {
    const cap = new Cap()
    const c = ep(C4, 47000)
    const s = ep(S4, 80)
    script(cap, c, s, [['C', 'S', 1, 0], ['S', 'SA', 1, 2, 0, { dt: -0.5 }], ['C', 'A', 2, 2, 0, { dt: -0.001 }], ['C', 'PA', 2, 2, 10, { dt: 2 }],
      ['S', 'A', 2, 12, 0, { dt: -0.0011 }]])
    cap.udp(ep(C4, 47001), ep(S4, 53), 10).wait(-0.001).udp(ep(S4, 53), ep(C4, 47001), 10) // equal stamps
    cap.wait(-30).udp(ep(C4, 47002), ep(S4, 53), 10).wait(-61).udp(ep(C4, 47002), ep(S4, 53), 10) // small back, then a step back
    script(cap, ep(C4, 47003), s, [['C', 'S', 1, 0], ['S', 'SA', 1, 2], ['C', 'A', 2, 2, 0, { dt: -60.001 }], ['C', 'PA', 2, 2, 5, { dt: 0 }]])
    cap.wait(-70).udp(ep(C4, 47004), ep(S4, 53), 10).wait(-59).udp(ep(C4, 47004), ep(S4, 53), 10) // exactly 60 s back: clamped
    cap.wait(1000).udp(ep(C4, 47005), ep(S4, 53), 10).wait(-2000).udp(ep(C4, 47006), ep(S4, 53), 10)
    // Fragments pending across a step back.
    const fr = ipv4Fragments({ src: C4, dst: S4, protocol: IPPROTO_UDP, id: 5 }, udp({ src: C4, dst: S4, sport: 47007, dport: 9 }, PAYLOAD.subarray(0, 1600)), 1000)
    cap.ip(fr[0]!, C4, S4).wait(-100).udp(ep(C4, 47008), ep(S4, 9), 1).ip(fr[1]!, C4, S4).wait(0.5).ip(fr[0]!, C4, S4).wait(31).ip(fr[1]!, C4, S4)
    // Sub-microsecond stamps (nanosecond files keep them, time truncates to µs).
    const cap2 = [...cap.frames]
    cap2.push({ tsSec: 1_700_000_100, tsNsec: 999_999_999, data: cap.frames[0]!.data }, { tsSec: 1_700_000_100, tsNsec: 999_999_001, data: cap.frames[1]!.data })
    add('time-disorder', cap2)
    add('time-disorder-ns', cap2, { nanosecond: true })
  }

  // ---- snaplen: cut records (host decoder), header snaplen, caplen above the snaplen ----
  {
    const cap = new Cap()
    const c = ep(C4, 48000)
    const s = ep(S4, 80)
    script(cap, c, s, [['C', 'S', 1, 0], ['S', 'SA', 1, 2], ['C', 'A', 2, 2], ['C', 'PA', 2, 2, 1400, { snap: 96 }], ['S', 'PA', 2, 1402, 900, { snap: 54 }],
      ['S', 'PA', 902, 1402, 900, { snap: 20 }], ['C', 'A', 1402, 1802, 0, { snap: 40 }], ['C', 'FA', 1402, 1802], ['S', 'FA', 1802, 1403, 0, { snap: 60 }]])
    cap.udp(ep(C4, 48001), ep(S4, 53), 500, { snap: 70 }).udp(ep(S4, 53), ep(C4, 48001), 500, { snap: 40 })
    cap.icmp(C4, S4, 8, 0, { len: 500, snap: 50 }).icmp(S4, C4, 0, 0, { len: 500, snap: 36 })
    cap.udp(ep(C6, 48002), ep(S6, 53), 500, { snap: 80 }).tcp(ep(C6, 48003), ep(S6, 80), 'S', 1, 0, 0, { snap: 70 })
    add('snaplen-cut', cap)
    add('snaplen-cut-header-96', cap, { snaplen: 96 })
    // Every record above a small header snaplen: the whole file goes through the host reader.
    add('caplen-above-snaplen', cap, { snaplen: 64 })
  }

  // ---- file formats: other link types, pcapng, ns, big-endian ----
  {
    const base = new Cap()
    script(base, ep(C4, 49000), ep(S4, 80), [['C', 'S', 1, 0], ['S', 'SA', 1, 2], ['C', 'A', 2, 2], ['C', 'PA', 2, 2, 10], ['S', 'FA', 2, 12], ['C', 'FA', 12, 3]])
    base.udp(ep(C6, 49001), ep(S6, 53), 10).udp(ep(S6, 53), ep(C6, 49001), 10).icmp(C4, S4, 8, 0).icmp(S4, C4, 0, 0)
    base.udp(ep(C4, 49002), ep(S4, 53), 10, { vlans: [9] }).udp(ep(C4, 49003), ep(S4, 53), 10, { bad: true })
    const frames = base.frames
    add('pcap-ethernet', frames)
    add('pcap-ns', frames, { nanosecond: true })
    add('pcap-big-endian', frames, { bigEndian: true })
    add('pcap-big-endian-ns', frames, { bigEndian: true, nanosecond: true })
    const l3 = (f: CaptureFrame): Buffer => {
      const d = f.data
      const type = d.readUInt16BE(12)
      return type === 0x8100 ? d.subarray(18) : d.subarray(14)
    }
    add('linktype-raw', frames.map((f) => ({ ...f, data: l3(f) })), { linkType: LINKTYPE_RAW })
    add('linktype-ipv4', frames.filter((f) => (l3(f)[0]! >> 4) === 4).map((f) => ({ ...f, data: l3(f) })), { linkType: LINKTYPE_IPV4 })
    add('linktype-sll', frames.map((f) => ({ ...f, data: linuxSll({ protocol: (l3(f)[0]! >> 4) === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, addr: '02:00:00:00:00:07' }, l3(f)) })), { linkType: LINKTYPE_LINUX_SLL })
    add('linktype-sll2', frames.map((f) => ({ ...f, data: linuxSll2({ protocol: (l3(f)[0]! >> 4) === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4 }, l3(f)) })), { linkType: LINKTYPE_LINUX_SLL2 })
    add('linktype-null', frames.map((f) => ({ ...f, data: bsdNull((l3(f)[0]! >> 4) === 6 ? 30 : AF_INET, l3(f)) })), { linkType: LINKTYPE_NULL })
    add('linktype-loop', frames.map((f) => ({ ...f, data: bsdLoop((l3(f)[0]! >> 4) === 6 ? 24 : AF_INET, l3(f)) })), { linkType: LINKTYPE_LOOP })
    add('pcapng', frames, { format: 'pcapng' })
    add('pcapng-two-interfaces', frames.map((f, i) => ({ ...f, ifIndex: i % 2 })),
      { format: 'pcapng', interfaces: [{ linkType: 1, name: 'eth0' }, { linkType: 1, name: 'eth1', tsresol: 9 }] })
    add('pcapng-big-endian-sll', frames.map((f) => ({ ...f, data: linuxSll({ protocol: (l3(f)[0]! >> 4) === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4 }, l3(f)) })),
      { format: 'pcapng', bigEndian: true, interfaces: [{ linkType: LINKTYPE_LINUX_SLL, name: 'any' }] })
    add('pcapng-simple-packets', frames, { format: 'pcapng', simplePackets: true })
  }
  return out
}

/** Captures built byte by byte: broken records in otherwise good classic pcap files. */
function brokenFiles(): Array<{ name: string, bytes: Buffer }> {
  const cap = new Cap()
  for (let i = 0; i < 6; i++) {
    script(cap, ep(C4, 50000 + i), ep(S4, 80), [['C', 'S', 1, 0], ['S', 'SA', 1, 2], ['C', 'A', 2, 2], ['C', 'PA', 2, 2, 100 + i], ['S', 'A', 2, 102 + i]])
    cap.udp(ep(C4, 51000 + i), ep(S4, 53), 20)
  }
  const frames = cap.frames
  const recs = frames.map((f) => pcapRecord(f))
  const head = pcapHeader()
  const mid = Math.floor(recs.length / 2)
  const out: Array<{ name: string, bytes: Buffer }> = []
  // A truncated last record (header complete, data cut; and header cut).
  out.push({ name: 'truncated-last-record', bytes: Buffer.concat([head, ...recs.slice(0, -1), recs.at(-1)!.subarray(0, 30)]) })
  out.push({ name: 'truncated-last-header', bytes: Buffer.concat([head, ...recs.slice(0, -1), recs.at(-1)!.subarray(0, 9)]) })
  // An implausible caplen in the middle: the reader stops there.
  const bad = Buffer.from(recs[mid]!)
  bad.writeUInt32LE(0x7fffffff, 8)
  out.push({ name: 'implausible-caplen-mid', bytes: Buffer.concat([head, ...recs.slice(0, mid), bad, ...recs.slice(mid + 1)]) })
  // A fraction >= 1 s, and caplen > origLen, in the middle: the host reader takes over.
  const frac = Buffer.from(recs[mid]!)
  frac.writeUInt32LE(1_500_000, 4)
  out.push({ name: 'bad-fraction-mid', bytes: Buffer.concat([head, ...recs.slice(0, mid), frac, ...recs.slice(mid + 1)]) })
  const orig = Buffer.from(recs[mid]!)
  orig.writeUInt32LE(20, 12)
  out.push({ name: 'caplen-above-wire-length-mid', bytes: Buffer.concat([head, ...recs.slice(0, mid), orig, ...recs.slice(mid + 1)]) })
  // Not a capture; an unsupported link type; the "modified" pcap magic (both replays fail or read alike).
  out.push({ name: 'not-a-capture', bytes: Buffer.from('this is not a capture file, just text\n') })
  out.push({ name: 'unsupported-linktype', bytes: buildPcap(frames.slice(0, 4), { linkType: 147 }) })
  {
    const modified = Buffer.concat([head, ...frames.slice(0, 6).map((f) => Buffer.concat([pcapRecord(f).subarray(0, 16), Buffer.alloc(8), f.data]))])
    modified.writeUInt32LE(0xa1b2cd34, 0)
    out.push({ name: 'modified-pcap', bytes: modified })
  }
  // Only a header; a header cut short; a zero-length record.
  out.push({ name: 'header-only', bytes: head })
  out.push({ name: 'header-cut', bytes: head.subarray(0, 20) })
  out.push({ name: 'zero-length-record', bytes: Buffer.concat([head, ...recs.slice(0, 3), pcapRecord({ tsSec: frames[3]!.tsSec, tsNsec: 0, data: Buffer.alloc(0) }), ...recs.slice(3)]) })
  // FCS bits in the linktype field (host reader, frames keep 4 trailing bytes).
  out.push({ name: 'fcs-linktype', bytes: buildPcap(frames.map((f) => ({ ...f, data: Buffer.concat([f.data, Buffer.from([1, 2, 3, 4])]) })), { linkTypeField: 0x14000001 }) })
  // A file of many records crossing the 512 KiB read chunks, with large frames.
  const bigCap = new Cap()
  for (let i = 0; i < 300; i++) bigCap.udp(ep(C4, 52000 + (i % 37)), ep(S4, 9), 1400 + (i % 13) * 7).tcp(ep(C4, 53000 + (i % 11)), ep(S4, 80), 'PA', 1 + i * 1000, 1, 1000)
  out.push({ name: 'chunk-crossing', bytes: buildPcap(bigCap.frames) })
  // Records of every size up to the largest caplen accepted (262144), headers straddling the
  // read chunks anywhere; then one record just above it (implausible: the reader stops).
  const sizes = new Cap()
  let n = 0
  for (let size = 60; n < 90; n++, size = (size * 1.9 + 97) % 262_000 + 42) {
    sizes.frame(Buffer.concat([ethernet({ etherType: ETHERTYPE_IPV4 }, udpPacket(ep(C4, 56000 + (n % 5)), ep(S4, 9), 20)), Buffer.alloc(Math.floor(size))]))
  }
  sizes.frame(Buffer.concat([ethernet({ etherType: 0x88b5 }, Buffer.alloc(0)), Buffer.alloc(262_144 - 14)])).udp(ep(C4, 56000), ep(S4, 9), 20)
  out.push({ name: 'record-sizes', bytes: buildPcap(sizes.frames) })
  out.push({ name: 'record-above-max', bytes: Buffer.concat([buildPcap(sizes.frames.slice(0, 20)), pcapRecord({ tsSec: T0_US / 1e6 + 9, tsNsec: 0, data: Buffer.alloc(262_145) }), ...sizes.frames.slice(20, 25).map((f) => pcapRecord(f))]) })
  // A jumbo frame (65 KB payload, IPv6) near a chunk boundary.
  const jumbo = new Cap()
  for (let i = 0; i < 9; i++) jumbo.udp(ep(C6, 54000), ep(S6, 9), 60000)
  out.push({ name: 'jumbo', bytes: buildPcap(jumbo.frames) })
  return out
}

// ------------------------------------------------------------------ the tests

const corpusFiles = corpusAvailable()
  ? readdirSync(CORPUS_DIR).filter((f) => /\.pcap(ng)?$/.test(f)).sort()
  : []

t.test('shared corpus: every capture, with its -C setting and with it flipped', async (tt) => {
  if (!corpusAvailable()) {
    tt.comment(CORPUS_SKIP_MESSAGE)
    tt.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
    return
  }
  tt.ok(corpusFiles.length >= 20, `${corpusFiles.length} corpus captures`)
  for (const f of corpusFiles) {
    const ic = corpusIgnoresChecksums(f.replace(/\.pcap(ng)?$/, ''))
    const path = join(CORPUS_DIR, f)
    await check(tt, `${f} ignoreChecksums=${ic}`, [path], { ignoreChecksums: ic }, f !== 'arp-who-has.pcap')
    // Flipped, a capture may give no records at all (every checksum offloaded): no such expectation.
    await check(tt, `${f} ignoreChecksums=${!ic}`, [path], { ignoreChecksums: !ic }, false)
  }
  // All of them in one replay (time steps back between files; mixed formats).
  await check(tt, 'the whole corpus in one replay', corpusFiles.map((f) => join(CORPUS_DIR, f)), {})
  await check(tt, 'the whole corpus in one replay, -C, maxFlows 3', corpusFiles.map((f) => join(CORPUS_DIR, f)), { ignoreChecksums: true, maxFlows: '3' })
})

const generated = fixtures()
const fixturePaths = new Map<string, string>()
for (const fx of generated) fixturePaths.set(fx.name, writeTemp(`${fx.name}.${fx.file?.format === 'pcapng' ? 'pcapng' : 'pcap'}`, buildCaptureFile(fx.frames, fx.file)))
const broken = brokenFiles()
for (const b of broken) fixturePaths.set(b.name, writeTemp(`${b.name}.pcap`, b.bytes))

t.test('generated captures, with and without ignoreChecksums', async (tt) => {
  for (const fx of generated) {
    for (const ic of [false, true]) await check(tt, `${fx.name} ignoreChecksums=${ic}`, [fixturePaths.get(fx.name)!], { ignoreChecksums: ic })
  }
})

t.test('broken and unusual classic pcap files', async (tt) => {
  for (const b of broken) {
    for (const ic of [false, true]) {
      const none = ['header-only', 'header-cut', 'not-a-capture', 'unsupported-linktype']
      await check(tt, `${b.name} ignoreChecksums=${ic}`, [fixturePaths.get(b.name)!], { ignoreChecksums: ic }, !none.includes(b.name))
    }
  }
})

t.test('several files in one replay (state carries over; the clock steps back between files)', async (tt) => {
  const p = (n: string): string => fixturePaths.get(n)!
  await check(tt, 'pcap + pcapng + ns', [p('conn-states-tcp'), p('pcapng-two-interfaces'), p('time-disorder-ns')])
  await check(tt, 'tunnels + fragments + broken', [p('tunnels'), p('fragments'), p('implausible-caplen-mid'), p('udp')], { ignoreChecksums: true })
  await check(tt, 'the same file twice', [p('tcp-oddities'), p('tcp-oddities')])
})

t.test('options that change what the table does', async (tt) => {
  // Many concurrent flows for eviction: 60 UDP and TCP flows touched in a shuffled order.
  const cap = new Cap()
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 60; i++) {
      const k = (i * 37 + round * 11) % 60
      if (k % 3 === 0) cap.tcp(ep(`10.9.0.${k}`, 40000 + k), ep(S4, 80), round === 0 ? 'S' : 'A', 1 + round, 1)
      else if (k % 3 === 1) cap.udp(ep(`10.9.0.${k}`, 40000 + k), ep(S4, 53), 10 + round)
      else cap.icmp(`10.9.0.${k}`, S4, 8, 0, { seq: round })
    }
    cap.wait(5)
  }
  const many = writeTemp('many-flows.pcap', buildPcap(cap.frames))
  for (const maxFlows of ['1', '2', '5', '17', '59', '60', '61']) await check(tt, `many flows, maxFlows ${maxFlows}`, [many], { maxFlows })
  for (const name of ['conn-states-tcp', 'tcp-oddities', 'tunnels', 'fragments', 'time-disorder', 'icmp', 'corpus']) {
    const files = name === 'corpus' ? corpusFiles.map((f) => join(CORPUS_DIR, f)) : [fixturePaths.get(name)!]
    if (files.length === 0) continue
    for (const maxFlows of ['1', '2', '5']) await check(tt, `${name}, maxFlows ${maxFlows}`, files, { maxFlows })
  }
  // Thousands of concurrent flows (the core's index and timer heap grow, rows span segments,
  // deletions shift index entries back), created and expiring over 10 minutes, touched at random.
  const scale = new Cap()
  let x = 12345
  const rnd = (n: number): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % n }
  for (let i = 0; i < 12_000; i++) {
    const k = i < 9000 ? i : rnd(9000)
    const host = `10.${20 + (k >> 16)}.${(k >> 8) & 0xff}.${k & 0xff}`
    if (k % 4 === 0) scale.tcp(ep(host, 20000 + (k % 1000)), ep(S4, 443), i < 9000 ? 'S' : 'A', 7, 1)
    else if (k % 4 === 3) scale.icmp(host, S4, 8, 0, { seq: i })
    else scale.udp(ep(host, 20000 + (k % 1000)), ep(S4, 53), 12)
    if (i === 7000 || i === 10_000) scale.wait(45)
    else if (rnd(200) === 0) scale.wait(rnd(4))
  }
  const scalePath = writeTemp('scale.pcap', buildPcap(scale.frames))
  for (const maxFlows of [undefined, '1025']) await check(tt, `12000 packets over 9000 flows, maxFlows ${maxFlows ?? 'default'}`, [scalePath], maxFlows ? { maxFlows } : {})
  // Active timeout: interim records (long flows, a history spilling past 40 letters).
  const long = new Cap()
  script(long, ep(C4, 55000), ep(S4, 80), [['C', 'S', 1, 0], ['S', 'SA', 1, 2], ['C', 'A', 2, 2]])
  for (let i = 0; i < 50; i++) {
    long.wait(3).tcp(ep(C4, 55000), ep(S4, 80), 'PA', 2 + i * 10, 2, 10).udp(ep(C4, 55001), ep(S4, 53), 5).icmp(C4, S4, 8, 0, { seq: i })
    long.tcp(ep(C4, 55002), ep(S4, 80), 'R', 100 + i * 3, 0)
  }
  const longPath = writeTemp('long-flows.pcap', buildPcap(long.frames))
  for (const activeTimeout of ['1', '10', '60']) {
    await check(tt, `long flows, activeTimeout ${activeTimeout}`, [longPath], { activeTimeout })
    await check(tt, `long flows, activeTimeout ${activeTimeout}, maxFlows 2`, [longPath], { activeTimeout, maxFlows: '2' })
  }
  for (const name of ['tcp-oddities', 'tunnels', 'time-disorder', 'udp-exchanges']) {
    await check(tt, `${name}, activeTimeout 1`, [fixturePaths.get(name)!], { activeTimeout: '1' })
  }
  // Local networks, Community ID, json (no log directory: irrelevant to records).
  const nets = ['192.0.2.0/24', '2001:db8:1::/48', '172.16.0.0/12']
  for (const name of ['conn-states-tcp', 'ipv6-vlan-ethertypes', 'tunnels', 'icmp']) {
    await check(tt, `${name}, localNets`, [fixturePaths.get(name)!], { localNets: nets })
    await check(tt, `${name}, communityId, json`, [fixturePaths.get(name)!], { communityId: true, json: true, vlanColumns: true })
  }
  // A BPF filter: no core walk, every packet reaches the WebAssembly table through the TypeScript decoder.
  for (const filter of ['ip or ip6 or vlan', 'not port 80']) {
    for (const name of ['conn-states-tcp', 'tcp-oddities', 'udp', 'icmp', 'ipv6-vlan-ethertypes', 'fragments', 'tunnels', 'bad-checksums', 'time-disorder', 'snaplen-cut']) {
      await check(tt, `${name}, filter '${filter}'`, [fixturePaths.get(name)!], { filter }, false)
    }
  }
  await check(tt, 'corpus, localNets', corpusFiles.map((f) => join(CORPUS_DIR, f)), { localNets: ['10.0.0.0/8', '::/0'] }, corpusFiles.length > 0)
})

// ------------------------------------------------------------------ property

interface PktSpec {
  kind: 'tcp' | 'udp' | 'icmp'
  v6: boolean
  from: number
  to: number
  sport: number
  dport: number
  flags: number
  seq: number
  ack: number
  len: number
  zeroWindow: boolean
  dtUs: number
  vlan: number
  corrupt: { at: number, xor: number } | null
  snap: number | null
}

const HOSTS4 = ['10.0.0.1', '10.0.0.2', '192.0.2.9', '255.255.255.255']
const HOSTS6 = ['2001:db8::1', '2001:db8::2', 'fe80::9', 'ff02::1']
const PORTS = [80, 443, 53, 4789, 3544, 40000, 40001]
const SEQ_BASES = [0, 1000, 5000, 0xfffffff0]
const SEQ_OFFSETS = [0, 1, 2, 10, 11, 100, 101, 1460, 1_100_000]

const pktSpec: fc.Arbitrary<PktSpec> = fc.record({
  kind: fc.constantFrom<PktSpec['kind']>('tcp', 'tcp', 'tcp', 'udp', 'icmp'),
  v6: fc.boolean(),
  from: fc.nat(3),
  to: fc.nat(3),
  sport: fc.constantFrom(...PORTS),
  dport: fc.constantFrom(...PORTS),
  flags: fc.oneof(
    fc.constantFrom(0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x01, 0x03, 0x05, 0x19),
    fc.integer({ min: 0, max: 255 })),
  seq: fc.tuple(fc.constantFrom(...SEQ_BASES), fc.constantFrom(...SEQ_OFFSETS)).map(([b, o]) => (b + o) >>> 0),
  ack: fc.tuple(fc.constantFrom(...SEQ_BASES), fc.constantFrom(...SEQ_OFFSETS)).map(([b, o]) => (b + o) >>> 0),
  len: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 40 }), fc.constant(1460)),
  zeroWindow: fc.boolean(),
  dtUs: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: 2000 }) },
    { weight: 2, arbitrary: fc.constant(0) },
    { weight: 2, arbitrary: fc.integer({ min: 1_000_000, max: 8_000_000 }) },
    { weight: 1, arbitrary: fc.integer({ min: -3_000_000, max: -1 }) },
    { weight: 1, arbitrary: fc.constantFrom(-61_000_000, -60_000_000, 61_000_000, 301_000_000) }),
  vlan: fc.constantFrom(-1, -1, -1, 10, 20),
  corrupt: fc.option(fc.record({ at: fc.nat(90), xor: fc.integer({ min: 1, max: 255 }) }), { freq: 8 }),
  snap: fc.option(fc.integer({ min: 10, max: 90 }), { freq: 12 }),
})

const runSpec = fc.record({
  pkts: fc.array(pktSpec, { minLength: 1, maxLength: 60 }),
  ignoreChecksums: fc.boolean(),
  maxFlows: fc.constantFrom<string | undefined>(undefined, undefined, '1', '2', '3'),
  activeTimeout: fc.constantFrom<string | undefined>(undefined, undefined, '1', '4'),
  filter: fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'ip or ip6 or vlan'),
  file: fc.constantFrom<CaptureFileOptions>({}, {}, { nanosecond: true }, { bigEndian: true }, { format: 'pcapng' }),
})

function specFrames(pkts: readonly PktSpec[]): CaptureFrame[] {
  const cap = new Cap()
  for (const p of pkts) {
    cap.us += p.dtUs
    const hosts = p.v6 ? HOSTS6 : HOSTS4
    const from = ep(hosts[p.from]!, p.sport)
    const to = ep(hosts[p.to === p.from && p.from === 3 ? 0 : p.to]!, p.dport)
    let pkt: Buffer
    if (p.kind === 'tcp') pkt = tcpPacket(from, to, p.flags, p.seq, p.ack, p.len, { window: p.zeroWindow ? 0 : 65535 })
    else if (p.kind === 'udp') pkt = udpPacket(from, to, p.len)
    else pkt = icmpPacket(from.ip, to.ip, [8, 0, 3, 11, 128, 129, 135, 136, 13][p.flags % 9]!, p.flags >> 4, { len: p.len })
    const data = ethernet({ src: macOf(from.ip), dst: macOf(to.ip), etherType: p.v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4, vlans: p.vlan >= 0 ? [p.vlan] : [] }, pkt)
    if (p.corrupt !== null && p.corrupt.at < data.length) data[p.corrupt.at] = data[p.corrupt.at]! ^ p.corrupt.xor
    cap.us -= 1000
    cap.frame(data, p.snap !== null ? { snap: p.snap } : {})
  }
  return cap.frames
}

/** FLOWCORE_DIFF_RUNS / FLOWCORE_DIFF_SEED widen or vary the search locally; the suite runs 60. */
const NUM_RUNS = Number(process.env.FLOWCORE_DIFF_RUNS ?? 60)

/** One generated capture replayed by both tables with the run's options; throws the first difference. */
async function replayBothOrThrow(name: string, bytes: Buffer, r: { ignoreChecksums: boolean; maxFlows?: string | undefined; activeTimeout?: string | undefined; filter?: string | undefined }): Promise<void> {
  const path = writeTemp(name, bytes)
  const opts: ReplayOptions = { ignoreChecksums: r.ignoreChecksums }
  if (r.maxFlows !== undefined) opts.maxFlows = r.maxFlows
  if (r.activeTimeout !== undefined) opts.activeTimeout = r.activeTimeout
  if (r.filter !== undefined) opts.filter = r.filter
  try {
    const { diff } = await differential([path], opts)
    if (diff !== undefined) throw new Error(describe(diff))
  } finally {
    rmSync(path, { force: true })
  }
}

t.test('property: random TCP/UDP/ICMP packet sequences give the same records', async (tt) => {
  let runs = 0
  await fc.assert(fc.asyncProperty(runSpec, async (r) => {
    runs++
    await replayBothOrThrow(`prop.${r.file.format === 'pcapng' ? 'pcapng' : 'pcap'}`, buildCaptureFile(specFrames(r.pkts), r.file), r)
  }), { numRuns: NUM_RUNS, seed: Number(process.env.FLOWCORE_DIFF_SEED ?? 20261208), includeErrorInReport: true })
  tt.ok(runs >= NUM_RUNS, `${runs} random captures replayed both ways`)
})

// A second property: realistic conversations (handshakes, data, closes; TCP, UDP, ICMP; v4/v6,
// VLAN, through GRE or VXLAN) mutated: packets dropped, duplicated, swapped, retimed, bytes
// corrupted, frames cut short.

interface ConvSpec {
  kind: 'tcp' | 'udp' | 'icmp'
  v6: boolean
  vlan: boolean
  tunnel: 'none' | 'gre' | 'vxlan'
  open: 'handshake' | 'none' | 'syn-only' | 'rejected'
  close: 'fin' | 'rst-orig' | 'rst-resp' | 'none'
  serverPort: number
  startMs: number
  bytes: number[]
  isn: number
  host: number
}

interface Mutation { op: 'drop' | 'dup' | 'swap' | 'shift' | 'corrupt' | 'snap', at: number, arg: number }

const convSpec: fc.Arbitrary<ConvSpec> = fc.record({
  kind: fc.constantFrom<ConvSpec['kind']>('tcp', 'tcp', 'tcp', 'udp', 'icmp'),
  v6: fc.boolean(),
  vlan: fc.boolean(),
  tunnel: fc.constantFrom<ConvSpec['tunnel']>('none', 'none', 'none', 'gre', 'vxlan'),
  open: fc.constantFrom<ConvSpec['open']>('handshake', 'handshake', 'none', 'syn-only', 'rejected'),
  close: fc.constantFrom<ConvSpec['close']>('fin', 'fin', 'rst-orig', 'rst-resp', 'none'),
  serverPort: fc.constantFrom(80, 443, 22, 53, 8080, 40001),
  startMs: fc.integer({ min: 0, max: 400_000 }),
  bytes: fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 4 }),
  isn: fc.constantFrom(1, 0x7fffffff, 0xfffff000, 0xffffffff),
  host: fc.nat(3),
})

const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom<Mutation['op']>('drop', 'dup', 'swap', 'shift', 'corrupt', 'snap'),
  at: fc.nat(1000),
  arg: fc.integer({ min: -70_000_000, max: 70_000_000 }),
})

function tunnelled(f: CaptureFrame, how: ConvSpec['tunnel'], i: number): CaptureFrame {
  if (how === 'none') return f
  const outerA = `203.0.113.${10 + (i % 3)}`
  const outerB = '203.0.113.99'
  const type = f.data.readUInt16BE(12)
  const inner = f.data.subarray(type === 0x8100 ? 18 : 14)
  const outer = how === 'gre'
    ? ipv4({ src: outerA, dst: outerB, protocol: IPPROTO_GRE }, gre({}, inner))
    : ipv4({ src: outerA, dst: outerB, protocol: IPPROTO_UDP }, vxlanUdp({ src: outerA, dst: outerB, vni: 5, sport: 49152 + (i % 2) }, f.data))
  return { ...f, data: ethernet({ etherType: ETHERTYPE_IPV4 }, outer) }
}

function convFrames(convs: readonly ConvSpec[], muts: readonly Mutation[]): CaptureFrame[] {
  const lists: CaptureFrame[][] = convs.map((c, i) => {
    const client = { ip: c.v6 ? `2001:db8::${c.host + 1}` : `10.5.0.${c.host + 1}`, port: 30000 + i }
    const server = { ip: c.v6 ? '2001:db8:9::1' : '10.6.0.1', port: c.serverPort }
    const t0 = 1_700_000_000 + c.startMs / 1000
    const flow = { client, server, ipv6: c.v6, ...(c.vlan ? { vlan: 30 + i } : {}), t0 }
    const exchanges = c.bytes.map((b, k) => ({ from: (k % 2 === 0 ? 'orig' : 'resp') as 'orig' | 'resp', bytes: b }))
    let frames: CaptureFrame[]
    if (c.kind === 'tcp') frames = tcpConversation({ ...flow, open: c.open, close: c.close, isnOrig: c.isn, isnResp: (c.isn * 7) >>> 0, exchanges, mss: 1200 })
    else if (c.kind === 'udp') frames = udpExchange({ ...flow, exchanges: exchanges.map((e) => ({ ...e, bytes: Math.min(e.bytes, 1400) })) })
    else frames = icmpEcho({ client: { ip: client.ip }, server: { ip: server.ip }, t0, ipv6: c.v6, count: 1 + c.bytes.length, intervalUs: 700_000, reply: c.close !== 'none' })
    return frames.map((f) => tunnelled(f, c.tunnel, i))
  })
  const frames = mergeByTime(...lists)
  for (const m of muts) {
    if (frames.length === 0) break
    const i = m.at % frames.length
    const f = frames[i]!
    switch (m.op) {
      case 'drop': frames.splice(i, 1); break
      case 'dup': frames.splice(i, 0, { ...f }); break
      case 'swap': if (i + 1 < frames.length) { frames[i] = frames[i + 1]!; frames[i + 1] = f } break
      case 'shift': {
        const us = f.tsSec * 1e6 + Math.floor(f.tsNsec / 1000) + m.arg
        frames[i] = { ...f, tsSec: Math.floor(us / 1e6), tsNsec: (us % 1e6) * 1000 }
        break
      }
      case 'corrupt': {
        const d = Buffer.from(f.data)
        const k = Math.abs(m.arg) % d.length
        d[k] = d[k]! ^ (1 + (Math.abs(m.arg >> 8) % 255))
        frames[i] = { ...f, data: d }
        break
      }
      case 'snap': frames[i] = { ...f, data: f.data.subarray(0, Math.max(1, Math.abs(m.arg) % f.data.length)), origLen: f.origLen ?? f.data.length }; break
    }
  }
  return frames
}

const convRun = fc.record({
  convs: fc.array(convSpec, { minLength: 1, maxLength: 7 }),
  muts: fc.array(mutation, { maxLength: 12 }),
  ignoreChecksums: fc.boolean(),
  maxFlows: fc.constantFrom<string | undefined>(undefined, undefined, '1', '2', '4'),
  activeTimeout: fc.constantFrom<string | undefined>(undefined, undefined, '2'),
  filter: fc.constantFrom<string | undefined>(undefined, undefined, undefined, 'ip or ip6 or vlan'),
  file: fc.constantFrom<CaptureFileOptions>({}, {}, { nanosecond: true }, { bigEndian: true }, { format: 'pcapng' }),
})

t.test('property: mutated realistic conversations give the same records', async (tt) => {
  let runs = 0
  await fc.assert(fc.asyncProperty(convRun, async (r) => {
    runs++
    await replayBothOrThrow(`conv.${r.file.format === 'pcapng' ? 'pcapng' : 'pcap'}`, buildCaptureFile(convFrames(r.convs, r.muts), r.file), r)
  }), { numRuns: Math.ceil(NUM_RUNS * 2 / 3), seed: Number(process.env.FLOWCORE_DIFF_SEED ?? 20261208) + 1, includeErrorInReport: true })
  tt.ok(runs >= Math.ceil(NUM_RUNS * 2 / 3), `${runs} mutated captures replayed both ways`)
})
