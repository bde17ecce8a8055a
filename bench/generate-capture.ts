/**
 * Writes a large, realistic, deterministic capture for the benchmarks (classic pcap, µs,
 * Ethernet). Conversations come from test/helpers/traffic.ts (correct sequence numbers and
 * checksums); this file decides the mix, the addresses and the timeline, and interleaves
 * the conversations by timestamp with a k-way merge (a min-heap over the open ones), so
 * thousands of flows are open at once, as on a real link.
 *
 * Profiles:
 *   mix         ≥ 1M packets, ≥ 50k flows: TCP (handshake/data/FIN, RST, rejected, SYN only),
 *               DNS over UDP, one-sided UDP, ICMP echo; ~10 % IPv6, ~15 % 802.1Q-tagged;
 *               IMIX-like sizes (many 54–80 B, a share ~590 B from MSS-536 paths, a share 1514 B).
 *   concurrent  ≥ 100k TCP flows all established and open at the same time (handshakes
 *               within ~3 s, then 10–14 s idle, then data and FIN), for peak RSS of the flow table.
 *
 * Usage: node dist/bench/generate-capture.js OUT.pcap [mix|concurrent] [--flows N] [--seed S]
 */
import { pathToFileURL } from 'node:url'
import { PcapFileWriter } from '../test/helpers/pcap-writer.js'
import type { CaptureFrame } from '../test/helpers/pcap-writer.js'
import { icmpEcho, tcpConversation, udpExchange } from '../test/helpers/traffic.js'
import { dnsQuery, dnsResponse, httpRequest, httpResponse, sshBanner, tlsAppData, tlsClientFinish, tlsClientHello, tlsServerFinish, tlsServerFlight } from './app-payloads.js'
import type { Exchange } from '../test/helpers/traffic.js'

export type CaptureProfile = 'mix' | 'concurrent'

/** Bumped whenever the output for a given seed changes (benchmarks cache captures by it). */
export const GENERATOR_VERSION = 7

export interface GenerateOptions {
  profile?: CaptureProfile
  /** Conversations (= flows in Zeek's sense). Default 80 000 (mix) / 120 000 (concurrent). */
  flows?: number
  seed?: number
  /** First packet time, seconds since the epoch. */
  t0?: number
}

export type FlowKind = 'tcp_fin' | 'tcp_rst' | 'tcp_rejected' | 'tcp_syn_only' | 'udp_dns' | 'udp_one_sided' | 'icmp_echo'

export interface CaptureSummary {
  path: string
  profile: CaptureProfile
  packets: number
  /** Frame bytes (without pcap record headers). */
  bytes: number
  /** Conversations written; each is one Zeek conn.log row. */
  flows: number
  byKind: Record<FlowKind, number>
  ipv6Flows: number
  vlanFlows: number
  /** Most conversations between their first and last packet at one instant. */
  maxConcurrent: number
  /** Frame-size histogram: ≤ 80 B, 81–200, 201–700, 701–1400, > 1400. */
  sizes: { le80: number, le200: number, le700: number, le1400: number, gt1400: number }
  /** Capture span, seconds. */
  spanS: number
  generateS: number
}

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Conversation {
  frames: CaptureFrame[]
  next: number
  /** Next frame time, ns since t0 (exact for months). */
  key: number
}

/** Binary min-heap of conversations by the time of their next frame. */
class ConversationHeap {
  private readonly items: Conversation[] = []
  get size(): number { return this.items.length }
  peek(): Conversation | undefined { return this.items[0] }
  push(c: Conversation): void {
    const a = this.items
    let i = a.length
    a.push(c)
    while (i > 0) {
      const p = (i - 1) >> 1
      if (a[p]!.key <= c.key) break
      a[i] = a[p]!
      i = p
    }
    a[i] = c
  }
  /** The top's key grew: move it down to its place. */
  topKeyIncreased(): void {
    if (this.items.length > 0) this.siftDown(this.items[0]!)
  }
  popTop(): void {
    const last = this.items.pop()
    if (last !== undefined && this.items.length > 0) this.siftDown(last)
  }
  /** Places `c` starting from the root (the root slot is treated as free). */
  private siftDown(c: Conversation): void {
    const a = this.items
    const n = a.length
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      const m = r < n && a[r]!.key < a[l]!.key ? r : l
      if (a[m]!.key >= c.key) break
      a[i] = a[m]!
      i = m
    }
    a[i] = c
  }
}

const SERVER_PORTS_TCP = [443, 443, 443, 443, 80, 80, 22, 25, 993, 8080, 3306, 5432]

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)]!
}

/** Log-uniform integer in [lo, hi]. */
function logUniform(rnd: () => number, lo: number, hi: number): number {
  return Math.round(Math.exp(Math.log(lo) + rnd() * (Math.log(hi) - Math.log(lo))))
}

/** A response of `bytes` as exchanges of two segments each: the receiver ACKs every second segment. */
/** Real payloads for one request/response round on a well-known port (undefined = filler bytes). */
function appRound(port: number, round: number, req: number, resp: number, i: number): [Buffer, Buffer] | undefined {
  switch (port) {
    case 80:
    case 8080:
      return [httpRequest(`www${i % 900}.example.org`, `/page/${i}/${round}`, req), httpResponse(resp)]
    case 443:
    case 993:
      // Handshake as on the wire: ClientHello → server flight, then key exchange + finished
      // (encrypted) with the first application data, then application data only.
      return round === 0
        ? [tlsClientHello(`svc${i % 900}.example.net`), tlsServerFlight(0)]
        : round === 1 ? [tlsClientFinish(req), tlsServerFinish(resp)] : [tlsAppData(req), tlsAppData(resp)]
    case 22:
      return round === 0 ? [sshBanner(false, req - 22), sshBanner(true, resp - 40)] : undefined
    default:
      return undefined
  }
}

function segmentedResponse(from: 'orig' | 'resp', bytes: number, mss: number): Exchange[] {
  const out: Exchange[] = []
  for (let left = bytes; left > 0; left -= 2 * mss) out.push({ from, bytes: Math.min(left, 2 * mss) })
  return out
}

interface Hosts {
  client(i: number, v6: boolean): { ip: string, mac: string }
  server(rnd: () => number, v6: boolean): { ip: string, mac: string }
  /** Server `s` (< 25 000 distinct addresses per family). */
  serverByIndex(s: number, v6: boolean): { ip: string, mac: string }
  dns(v6: boolean): string
}

function hostPlan(clients: number): Hosts {
  const mac = (n: number, tag: number): string =>
    `02:${tag.toString(16).padStart(2, '0')}:${((n >> 16) & 255).toString(16).padStart(2, '0')}:${((n >> 8) & 255).toString(16).padStart(2, '0')}:${(n & 255).toString(16).padStart(2, '0')}:01`
  const ROUTER_MAC = '02:ff:00:00:00:fe'
  return {
    client: (i, v6) => {
      const c = i % clients
      return v6
        ? { ip: `fd00:10::${((c >> 8) & 255).toString(16)}:${(c & 255).toString(16)}`, mac: mac(c, 0x10) }
        : { ip: `10.${Math.floor(c / 62500) & 255}.${Math.floor(c / 250) % 250}.${(c % 250) + 1}`, mac: mac(c, 0x10) }
    },
    server: (rnd, v6) => serverByIndex(Math.floor(rnd() * rnd() * 3000), v6), // a few busy servers, a long tail
    serverByIndex,
    dns: (v6) => (v6 ? 'fd00:53::53' : '10.255.0.53'),
  }
  function serverByIndex(s: number, v6: boolean): { ip: string, mac: string } {
    return v6
      ? { ip: `2001:db8:${(s >> 8).toString(16)}::${(s & 255).toString(16)}`, mac: ROUTER_MAC }
      : { ip: `${93 + (s % 100)}.${Math.floor(s / 100) % 250}.${(s * 7) & 255}.${(s % 250) + 1}`, mac: ROUTER_MAC }
  }
}

/** Builds conversation `i` of the mix profile; `t0` in seconds. */
function mixConversation(rnd: () => number, hosts: Hosts, i: number, clients: number, t0: number, kinds: Record<FlowKind, number>): { frames: CaptureFrame[], v6: boolean, vlan: boolean } {
  const v6 = rnd() < 0.1
  const vlanTagged = rnd() < 0.15
  const vlan = vlanTagged ? 100 + Math.floor(rnd() * 8) : undefined
  const cl = hosts.client(i, v6)
  // Unique client port per conversation: each client gets consecutive ephemeral ports.
  const cport = 32768 + (Math.floor(i / clients) % 28000)
  const base = { ipv6: v6, ...(vlan !== undefined ? { vlan } : {}) }
  const r = rnd()
  let kind: FlowKind
  let frames: CaptureFrame[]
  if (r < 0.52) {
    const sv = hosts.server(rnd, v6)
    const mss = rnd() < 0.2 ? 536 : v6 ? 1440 : 1460
    // 15 % slow paths (long RTT: small exchanges that stay open for seconds), the rest LAN/WAN.
    const slow = rnd() < 0.15
    const rttUs = slow ? logUniform(rnd, 200_000, 2_000_000) : logUniform(rnd, 200, 80_000)
    const c = { client: { ip: cl.ip, port: cport, mac: cl.mac }, server: { ip: sv.ip, port: pick(rnd, SERVER_PORTS_TCP), mac: sv.mac }, ...base, t0, rttUs, mss }
    const rr = rnd()
    if (rr < 0.08) {
      kind = 'tcp_rejected'
      frames = tcpConversation({ ...c, open: 'rejected' })
    } else if (rr < 0.13) {
      kind = 'tcp_syn_only'
      frames = tcpConversation({ ...c, open: 'syn-only' })
    } else {
      const exchanges: Exchange[] = []
      const rounds = 1 + Math.floor(rnd() * rnd() * 6)
      for (let k = 0; k < rounds; k++) {
        const req = logUniform(rnd, 60, 900)
        const size = rnd()
        const resp = size < 0.6 || slow ? logUniform(rnd, 100, 1400) : size < 0.94 ? logUniform(rnd, 1400, 20_000) : logUniform(rnd, 20_000, 300_000)
        const app = appRound(c.server.port, k, req, resp, i)
        if (app === undefined) {
          exchanges.push({ from: 'orig', bytes: req })
          exchanges.push(...segmentedResponse('resp', resp, mss))
        } else {
          exchanges.push({ from: 'orig', bytes: app[0].length, data: app[0] })
          for (let at = 0; at < app[1].length; at += 2 * mss) {
            const part = app[1].subarray(at, at + 2 * mss)
            exchanges.push({ from: 'resp', bytes: part.length, data: part })
          }
        }
      }
      const rc = rnd()
      kind = rc < 0.9 ? 'tcp_fin' : 'tcp_rst'
      frames = tcpConversation({ ...c, exchanges, close: rc < 0.9 ? 'fin' : rc < 0.95 ? 'rst-orig' : 'rst-resp' })
    }
  } else if (r < 0.85) {
    kind = 'udp_dns'
    const name = `host${i % 5000}.example${i % 7}.com`
    const q = dnsQuery(i, name)
    const a = dnsResponse(i, name, 1 + (i % 4))
    const exchanges: Exchange[] = [{ from: 'orig', bytes: q.length, data: q }, { from: 'resp', bytes: a.length, data: a }]
    frames = udpExchange({ client: { ip: cl.ip, port: cport, mac: cl.mac }, server: { ip: hosts.dns(v6), port: 53, mac: '02:ff:00:00:00:53' }, ...base, t0, rttUs: logUniform(rnd, 300, 30_000), exchanges })
  } else if (r < 0.94) {
    kind = 'udp_one_sided'
    const sv = hosts.server(rnd, v6)
    const n = 1 + Math.floor(rnd() * 4)
    const bytes = rnd() < 0.5 ? 48 : logUniform(rnd, 80, 400)
    frames = udpExchange({ client: { ip: cl.ip, port: cport, mac: cl.mac }, server: { ip: sv.ip, port: rnd() < 0.5 ? 123 : 514, mac: sv.mac }, ...base, t0, gapUs: 200_000, exchanges: Array.from({ length: n }, () => ({ from: 'orig' as const, bytes })) })
  } else {
    kind = 'icmp_echo'
    // Zeek keys ICMP by the host pair (not the echo id): one server per client per conversation.
    const sv = hosts.serverByIndex((Math.floor(i / clients) * 7 + 13) % 25_000, v6)
    frames = icmpEcho({ client: cl, server: sv, ipv6: v6, ...(vlan !== undefined ? { vlan } : {}), t0, id: i & 0xffff, count: 1 + Math.floor(rnd() * 4), intervalUs: 1_000_000, rttUs: logUniform(rnd, 300, 60_000), reply: rnd() < 0.9 })
  }
  kinds[kind]++
  return { frames, v6, vlan: vlanTagged }
}

/** Shifts frames[from…] later by `delayUs` (think time: sequence numbers do not depend on time). */
function delayFrom(frames: CaptureFrame[], from: number, delayUs: number): void {
  for (let k = from; k < frames.length; k++) {
    const f = frames[k]!
    const ns = f.tsNsec + delayUs * 1000
    f.tsSec += Math.floor(ns / 1e9)
    f.tsNsec = ns % 1e9
  }
}

/**
 * Conversation `i` of the concurrent profile: a TCP handshake at a normal RTT, then 10–14 s
 * of silence (far below TCP inactivity timeouts), then a request/response and FIN — so
 * every flow is established and open at the same time.
 */
function concurrentConversation(rnd: () => number, hosts: Hosts, i: number, clients: number, t0: number, kinds: Record<FlowKind, number>): { frames: CaptureFrame[], v6: boolean, vlan: boolean } {
  const cl = hosts.client(i, false)
  const sv = hosts.server(rnd, false)
  kinds.tcp_fin++
  const frames = tcpConversation({
    client: { ip: cl.ip, port: 32768 + (Math.floor(i / clients) % 28000), mac: cl.mac },
    server: { ip: sv.ip, port: pick(rnd, SERVER_PORTS_TCP), mac: sv.mac },
    t0, rttUs: logUniform(rnd, 500, 50_000),
    exchanges: [{ from: 'orig', bytes: logUniform(rnd, 60, 500) }, { from: 'resp', bytes: logUniform(rnd, 100, 1400) }],
  })
  delayFrom(frames, 3, 10_000_000 + Math.floor(rnd() * 4_000_000))
  return { frames, v6: false, vlan: false }
}

/** Generates the capture; synchronous (a few seconds per million packets). */
export function generateCapture(path: string, opts: GenerateOptions = {}): CaptureSummary {
  const started = process.hrtime.bigint()
  const profile = opts.profile ?? 'mix'
  const flows = opts.flows ?? (profile === 'mix' ? 80_000 : 120_000)
  const rnd = prng(opts.seed ?? 0x7e11)
  const t0 = opts.t0 ?? 1_700_000_000
  const clients = profile === 'mix' ? 4000 : 20_000
  const hosts = hostPlan(clients)
  // Mean gap between conversation starts: 80k conversations over ~20 s, or all opened within ~3 s.
  const meanGapUs = profile === 'mix' ? 250 : 3_000_000 / flows
  const build = profile === 'mix' ? mixConversation : concurrentConversation
  const kinds: Record<FlowKind, number> = { tcp_fin: 0, tcp_rst: 0, tcp_rejected: 0, tcp_syn_only: 0, udp_dns: 0, udp_one_sided: 0, icmp_echo: 0 }
  const sizes = { le80: 0, le200: 0, le700: 0, le1400: 0, gt1400: 0 }
  const w = new PcapFileWriter(path)
  const heap = new ConversationHeap()
  const baseSec = Math.floor(t0)
  const keyOf = (f: CaptureFrame): number => (f.tsSec - baseSec) * 1e9 + f.tsNsec

  let made = 0
  let startUs = 0
  let ipv6Flows = 0
  let vlanFlows = 0
  let bytes = 0
  let maxConcurrent = 0
  let lastKey = 0
  const nextStartKey = (): number => startUs * 1000
  while (made < flows || heap.size > 0) {
    const top = heap.peek()
    if (made < flows && (top === undefined || nextStartKey() <= top.key)) {
      const c = build(rnd, hosts, made, clients, t0 + startUs / 1e6, kinds)
      made++
      if (c.v6) ipv6Flows++
      if (c.vlan) vlanFlows++
      startUs += Math.max(1, Math.round(-Math.log(1 - rnd()) * meanGapUs))
      if (c.frames.length > 0) heap.push({ frames: c.frames, next: 0, key: keyOf(c.frames[0]!) })
      if (heap.size > maxConcurrent) maxConcurrent = heap.size
      continue
    }
    const conv = top!
    const f = conv.frames[conv.next]!
    w.write(f)
    lastKey = conv.key
    const len = f.data.length
    bytes += len
    if (len <= 80) sizes.le80++
    else if (len <= 200) sizes.le200++
    else if (len <= 700) sizes.le700++
    else if (len <= 1400) sizes.le1400++
    else sizes.gt1400++
    conv.next++
    if (conv.next < conv.frames.length) {
      conv.key = keyOf(conv.frames[conv.next]!)
      heap.topKeyIncreased()
    } else {
      heap.popTop()
    }
  }
  w.close()
  return {
    path, profile, packets: w.packets, bytes, flows: made, byKind: kinds, ipv6Flows, vlanFlows, maxConcurrent, sizes,
    spanS: lastKey / 1e9, generateS: Number(process.hrtime.bigint() - started) / 1e9,
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const out = args[0]
  if (out === undefined) {
    process.stderr.write('usage: generate-capture OUT.pcap [mix|concurrent] [--flows N] [--seed S]\n')
    process.exit(2)
  }
  const opt = (name: string): number | undefined => {
    const i = args.indexOf(name)
    return i > 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : undefined
  }
  const profile = args[1] === 'concurrent' ? 'concurrent' : 'mix'
  const flows = opt('--flows')
  const seed = opt('--seed')
  const summary = generateCapture(out, { profile, ...(flows !== undefined ? { flows } : {}), ...(seed !== undefined ? { seed } : {}) })
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
}
