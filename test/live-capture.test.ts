import t, { type Test } from 'tap'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { LiveCapture, DEFAULT_LIVE_BACKEND, type LiveCaptureConfig } from '../agent/capture/live-capture.js'
import { AgentErrorCode, isAgentError } from '../agent/util/errors.js'
import type { RawPacket } from '../agent/capture/raw-packet.js'
import { createVethLab, labTraffic, netnsUnavailableReason, replayInto, waitFor, type VethLab } from './helpers/netns.js'
import { writeCaptureFile } from './helpers/pcap-writer.js'
import { REPO_ROOT } from './helpers/paths.js'
import { FlowPipeline } from '../agent/pipeline/flow-pipeline.js'
import { readCaptureFile } from '../agent/capture/capture-file.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'

const log = pino({ level: 'silent' })
const labSkip = netnsUnavailableReason() ?? false
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
const rootSkip = isRoot ? false : 'opening a capture device needs root (CAP_NET_RAW)'

interface Captured { data: Buffer; origLen: number; tsSec: number; tsNsec: number; linkType: number; ifIndex: number; ifName: string }

function copyPacket(p: RawPacket): Captured {
  return { data: Buffer.from(p.data), origLen: p.origLen, tsSec: p.tsSec, tsNsec: p.tsNsec, linkType: p.linkType, ifIndex: p.ifIndex, ifName: p.ifName }
}

/** Flow records keyed by 5-tuple (+ VLAN), with the fields that must not depend on timing. */
function flowSummary(recs: ConnRecord[]): Map<string, Record<string, unknown>> {
  const m = new Map<string, Record<string, unknown>>()
  for (const r of recs) {
    m.set(`${r.proto} ${r.origH}:${r.origP} > ${r.respH}:${r.respP} vlan ${r.vlan ?? '-'}`, {
      connState: r.connState, history: r.history, origPkts: r.origPkts, respPkts: r.respPkts,
      origBytes: r.origBytes, respBytes: r.respBytes, origIpBytes: r.origIpBytes, respIpBytes: r.respIpBytes,
    })
  }
  return m
}

/**
 * Matches the captured frames against the replayed ones in order. A frame the kernel
 * dropped shows up as a skipped expected frame; anything else is a mismatch.
 */
function matchInOrder(expected: Buffer[], got: Buffer[]): { matched: number; skipped: number; unmatched: number; firstProblem: string } {
  let j = 0
  let matched = 0
  let unmatched = 0
  let firstProblem = ''
  for (let i = 0; i < got.length; i++) {
    let k = j
    while (k < expected.length && !expected[k]!.equals(got[i]!)) k++
    if (k === expected.length) {
      unmatched++
      if (!firstProblem) firstProblem = `captured #${i} (${got[i]!.length} bytes) matches no remaining replayed frame; expected #${j}: ${expected[j]?.toString('hex').slice(0, 80)} got ${got[i]!.toString('hex').slice(0, 80)}`
      continue
    }
    if (k > j && !firstProblem) firstProblem = `replayed frames #${j}..#${k - 1} missing before captured #${i}`
    j = k + 1
    matched++
  }
  return { matched, skipped: expected.length - matched, unmatched, firstProblem }
}

async function captureReplay(t: Test, labs: VethLab[], files: string[], cfg: Partial<LiveCaptureConfig>, expectedTotal: number): Promise<{ lc: LiveCapture; got: Captured[]; sent: number[]; wallStart: number; wallEnd: number }> {
  const lc = new LiveCapture({ interfaces: labs.map((l) => l.captureIf), statsIntervalMs: 200, ...cfg }, { log })
  const got: Captured[] = []
  const wallStart = Date.now() / 1000
  lc.start((p) => { got.push(copyPacket(p)) })
  t.teardown(() => lc.stop())
  const results = await Promise.all(labs.map((lab, i) => replayInto(lab, files[i]!, { timeoutMs: 60_000 })))
  const sent = results.map((r) => r.sent)
  const total = sent.reduce((a, b) => a + b, 0)
  t.equal(total, expectedTotal, 'tcpreplay sent every frame of the files')
  // Wait (bounded) until everything sent was either delivered or counted as a kernel drop.
  await waitFor(() => {
    const s = lc.stats()
    return got.length + s.reduce((a, x) => a + x.kernelDropped, 0) >= total
  }, 10_000)
  await lc.stop()
  return { lc, got, sent, wallStart, wallEnd: Date.now() / 1000 }
}

t.test(`live path (${DEFAULT_LIVE_BACKEND} backend): every replayed frame arrives byte-identical, or is counted as a kernel drop`, { skip: labSkip }, async (t) => {
  const frames = labTraffic(400)
  const file = join(t.testdir(), 'lab.pcap')
  writeCaptureFile(file, frames)
  const lab = createVethLab()
  t.teardown(() => lab.destroy())

  const { lc, got, wallStart, wallEnd } = await captureReplay(t, [lab], [file], {}, frames.length)
  const stats = lc.stats()[0]!
  t.equal(got.length + stats.kernelDropped, frames.length, `received ${got.length} + kernel drops ${stats.kernelDropped} = replayed ${frames.length}`)
  const m = matchInOrder(frames.map((f) => f.data), got.map((g) => g.data))
  t.equal(m.unmatched, 0, `no captured frame differs from the file (${m.firstProblem || 'ok'})`)
  t.equal(m.skipped, stats.kernelDropped, 'frames missing from the capture = kernel drops')
  t.ok(got.every((g) => g.linkType === 1 && g.ifIndex === 0 && g.ifName === lab.captureIf), 'Ethernet, interface 0, device name')
  t.ok(got.every((g) => g.origLen === g.data.length), 'origLen = caplen (no frame exceeds the snaplen)')
  t.ok(got.every((g) => g.tsSec >= Math.floor(wallStart) - 1 && g.tsSec <= wallEnd + 1 && g.tsNsec >= 0 && g.tsNsec < 1e9), 'timestamps are capture time (replay time, not the file\'s)')
  let monotonic = true
  for (let i = 1; i < got.length; i++) {
    if (got[i]!.tsSec * 1e9 + got[i]!.tsNsec < got[i - 1]!.tsSec * 1e9 + got[i - 1]!.tsNsec) monotonic = false
  }
  t.ok(monotonic, 'timestamps never go backwards on one interface')
  const c = lc.counters.snapshot()
  t.equal(c.capture_packets_received, got.length, 'capture_packets_received counts delivered packets')
  t.equal(c.capture_bytes_received, got.reduce((a, g) => a + g.data.length, 0), 'capture_bytes_received counts delivered bytes')
  t.equal(c.capture_kernel_received, stats.kernelReceived, 'capture_kernel_received exports pcap_stats ps_recv')
  t.equal(c.capture_kernel_dropped ?? 0, stats.kernelDropped, 'capture_kernel_dropped exports pcap_stats ps_drop')
  t.ok(stats.kernelStatsAvailable && stats.kernelReceived >= got.length, `ps_recv ${stats.kernelReceived} >= delivered ${got.length}`)

  // The same flows as the file path (timestamps differ: live packets carry replay time).
  const fileRecs: ConnRecord[] = []
  const filePipe = new FlowPipeline({}, { log, onConn: (r) => fileRecs.push(r) })
  await readCaptureFile(file, { onPacket: filePipe.handle })
  filePipe.flushAll()
  const liveRecs: ConnRecord[] = []
  const livePipe = new FlowPipeline({}, { log, onConn: (r) => liveRecs.push(r) })
  for (const g of got) livePipe.handle({ ...g })
  livePipe.flushAll()
  t.ok(fileRecs.length > 300, `the file path yields ${fileRecs.length} flows`)
  t.ok(liveRecs.every((r) => r.iface === lab.captureIf), 'live records carry the capturing interface')
  if (stats.kernelDropped === 0) {
    const want = flowSummary(fileRecs)
    const have = flowSummary(liveRecs)
    t.same([...have.keys()].sort(), [...want.keys()].sort(), 'the same 5-tuples')
    const differ = [...want].filter(([k, v]) => JSON.stringify(have.get(k)) !== JSON.stringify(v))
    t.same(differ.slice(0, 3).map(([k, v]) => ({ k, file: v, live: have.get(k) })), [],
      `conn_state, history, packets and bytes equal for all ${want.size} flows`)
  } else {
    t.pass(`flow comparison skipped: the kernel dropped ${stats.kernelDropped} packets in this run (reported, as required)`)
  }
})

t.test('two interfaces at once: each packet carries its own interface', { skip: labSkip }, async (t) => {
  const a = labTraffic(60, 1_700_000_000)
  const b = labTraffic(30, 1_700_001_000).filter((_f, i) => i % 2 === 0)
  const dir = t.testdir()
  writeCaptureFile(join(dir, 'a.pcap'), a)
  writeCaptureFile(join(dir, 'b.pcap'), b)
  const labs = [createVethLab(), createVethLab()]
  t.teardown(() => { for (const l of labs) l.destroy() })
  const { lc, got } = await captureReplay(t, labs, [join(dir, 'a.pcap'), join(dir, 'b.pcap')], {}, a.length + b.length)
  const stats = lc.stats()
  const on0 = got.filter((g) => g.ifIndex === 0)
  const on1 = got.filter((g) => g.ifIndex === 1)
  t.ok(on0.every((g) => g.ifName === labs[0]!.captureIf) && on1.every((g) => g.ifName === labs[1]!.captureIf), 'ifName matches ifIndex')
  t.equal(on0.length + stats[0]!.kernelDropped, a.length, 'interface 0 got its file')
  t.equal(on1.length + stats[1]!.kernelDropped, b.length, 'interface 1 got its file')
  t.equal(matchInOrder(a.map((f) => f.data), on0.map((g) => g.data)).unmatched, 0, 'interface 0: identical frames')
  t.equal(matchInOrder(b.map((f) => f.data), on1.map((g) => g.data)).unmatched, 0, 'interface 1: identical frames')
  t.same(stats.map((s) => s.received), [on0.length, on1.length], 'stats() reports per interface')
})

// pcap backend only: the cap binding's poll callback asserts on a poll error, so with `cap`
// a vanished device aborts the process (docs/capture.md, "A device that goes away").
t.test('pcap backend: a device that disappears is reported once, reopened when it is back, and captured again', { skip: labSkip }, async (t) => {
  const frames = labTraffic(20)
  const file = join(t.testdir(), 'r.pcap')
  writeCaptureFile(file, frames)
  const lab = createVethLab()
  t.teardown(() => lab.destroy())
  const lines: Array<{ level: number; msg: string; iface?: string }> = []
  const captureLog = pino({ level: 'info' }, { write: (l: string) => { lines.push(JSON.parse(l) as { level: number; msg: string }) } })
  const lc = new LiveCapture({ interfaces: [lab.captureIf], statsIntervalMs: 200, reopenIntervalMs: 200, backend: 'pcap' }, { log: captureLog })
  let got = 0
  lc.start(() => { got++ })
  t.teardown(() => lc.stop())
  const first = await replayInto(lab, file, { timeoutMs: 60_000 })
  t.ok(await waitFor(() => got + lc.stats()[0]!.kernelDropped >= first.sent, 10_000), 'the first replay arrived')
  const before = got
  // The interface goes away (deleting one end of a veth pair deletes both).
  execFileSync('ip', ['link', 'del', lab.captureIf])
  t.ok(await waitFor(() => lc.counters.get('capture_device_failures') === 1, 10_000), 'the failure is noticed and counted')
  t.equal(lc.stats()[0]!.up, false, 'stats() says the device is down')
  await new Promise((r) => setTimeout(r, 700)) // a few failed reopen attempts
  t.equal(lines.filter((l) => l.level === 50).length, 1, 'logged once as an error, not per reopen attempt')
  t.match(lines.find((l) => l.level === 50)?.msg ?? '', new RegExp(`capture on ${lab.captureIf} stopped: .*opening it again every 0.2 s`))
  // It is back (same names), e.g. a recreated veth or a reset NIC.
  execFileSync('ip', ['link', 'add', lab.captureIf, 'mtu', '9000', 'type', 'veth', 'peer', 'name', lab.sendIf, 'mtu', '9000', 'netns', lab.ns])
  execFileSync('ip', ['link', 'set', lab.captureIf, 'up'])
  execFileSync('ip', ['-n', lab.ns, 'link', 'set', lab.sendIf, 'up'])
  t.ok(await waitFor(() => lc.counters.get('capture_device_reopens') === 1, 10_000), 'reopened')
  t.equal(lc.stats()[0]!.up, true, 'up again')
  t.ok(lines.some((l) => l.level === 30 && l.msg === `capture on ${lab.captureIf} resumed`), 'the recovery is logged')
  const second = await replayInto(lab, file, { timeoutMs: 60_000 })
  t.ok(await waitFor(() => got - before + lc.stats()[0]!.kernelDropped >= second.sent, 10_000), `the second replay is captured too (${got - before} of ${second.sent} packets)`)
  await lc.stop()
})

t.test('a BPF filter is applied on the live path', { skip: labSkip }, async (t) => {
  const frames = labTraffic(80)
  const file = join(t.testdir(), 'f.pcap')
  writeCaptureFile(file, frames)
  const lab = createVethLab()
  t.teardown(() => lab.destroy())
  const { got } = await captureReplay(t, [lab], [file], { filter: 'icmp or icmp6' }, frames.length)
  const isIcmp = (d: Buffer): boolean => {
    let off = 12
    let et = d.readUInt16BE(off)
    if (et === 0x8100) { off += 4; et = d.readUInt16BE(off) }
    return (et === 0x0800 && d[off + 2 + 9] === 1) || (et === 0x86dd && d[off + 2 + 6] === 58)
  }
  const expected = frames.filter((f) => isIcmp(f.data))
  t.ok(expected.length > 0, 'the fixture has ICMP')
  t.ok(got.length > 0 && got.every((g) => isIcmp(g.data)), `only ICMP delivered (${got.length} packets)`)
  // libpcap's Linux kernel filter sees 802.1Q frames with the tag moved out of the
  // packet, so untagged expressions may also match tagged frames there (pcap-filter(7),
  // "vlan"); the untagged ones must all be there.
  const untagged = expected.filter((f) => f.data.readUInt16BE(12) !== 0x8100)
  t.ok(untagged.every((f) => got.some((g) => g.data.equals(f.data))), 'every untagged ICMP frame delivered')
})

t.test('capture errors are one line with a code', { skip: rootSkip }, async (t) => {
  const attempt = (cfg: Partial<LiveCaptureConfig> & { interfaces: string[] }): unknown => {
    try {
      new LiveCapture(cfg, { log }).start(() => undefined)
      return undefined
    } catch (err) {
      return err
    }
  }
  for (const backend of ['pcap', 'cap'] as const) {
    const noDev = attempt({ interfaces: ['telltale-none0'], backend })
    t.ok(isAgentError(noDev), `${backend}: no such interface is an AgentError`)
    if (isAgentError(noDev)) {
      t.equal(noDev.code, AgentErrorCode.CAPTURE_NO_SUCH_DEVICE)
      t.match(noDev.message, /^no such interface "telltale-none0": pick one of .*\blo\b/)
      t.notMatch(noDev.message, /\n/, 'one line')
    }
    const badFilter = attempt({ interfaces: ['lo'], backend, filter: 'tcp port nosuchservice' })
    t.ok(isAgentError(badFilter), `${backend}: bad filter is an AgentError`)
    if (isAgentError(badFilter)) {
      t.equal(badFilter.code, AgentErrorCode.CAPTURE_BAD_FILTER)
      t.match(badFilter.message, /tcp port nosuchservice/, 'names the filter')
      t.match(badFilter.message, /unknown port 'nosuchservice'/, 'carries libpcap\'s message')
      t.notMatch(badFilter.message, /\n/, 'one line')
    }
    const syntax = attempt({ interfaces: ['lo'], backend, filter: 'tcp and and' })
    t.ok(isAgentError(syntax) && syntax.code === AgentErrorCode.CAPTURE_BAD_FILTER && /syntax error/.test(syntax.message), `${backend}: syntax error reported as a bad filter`)
  }
  const twice = attempt({ interfaces: ['lo', 'lo'] })
  t.ok(isAgentError(twice) && twice.code === AgentErrorCode.BAD_ARGUMENT, 'the same interface twice is refused')
  const capNoPromisc = attempt({ interfaces: ['lo'], backend: 'cap', promisc: false })
  t.ok(isAgentError(capNoPromisc) && capNoPromisc.code === AgentErrorCode.BAD_ARGUMENT, 'cap refuses promisc off instead of ignoring it')
})

t.test('without CAP_NET_RAW the error says how to grant it', { skip: rootSkip }, async (t) => {
  let setpriv = true
  try { execFileSync('sh', ['-c', 'command -v setpriv'], { stdio: 'ignore' }) } catch { setpriv = false }
  if (!setpriv) { t.pass('skipped: setpriv (util-linux) not installed'); return }
  const mod = pathToFileURL(join(REPO_ROOT, 'dist', 'agent', 'capture', 'live-capture.js')).href
  const script = `import { LiveCapture } from ${JSON.stringify(mod)}
import { pino } from 'pino'
for (const backend of ['pcap', 'cap']) {
  try { new LiveCapture({ interfaces: ['lo'], backend }, { log: pino({ level: 'silent' }) }).start(() => {}); console.log('opened') }
  catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }
}`
  // Root without CAP_NET_RAW/CAP_NET_ADMIN in the bounding set: libpcap's socket() fails with EPERM.
  const out = execFileSync('setpriv', ['--bounding-set', '-net_raw,-net_admin', process.execPath, '--input-type=module', '-e', script],
    { encoding: 'utf8', cwd: join(REPO_ROOT, 'dist'), timeout: 30_000, stdio: ['ignore', 'pipe', 'ignore'] })
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { code: string; message: string })
  t.equal(lines.length, 2)
  for (const l of lines) {
    t.equal(l.code, AgentErrorCode.CAPTURE_NO_PERMISSION)
    t.match(l.message, /^capturing on lo needs CAP_NET_RAW .*setcap cap_net_raw,cap_net_admin=eip \$\(which node\).*systemd unit/)
  }
})
