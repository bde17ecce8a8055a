// The benchmark's capture generator must keep producing valid captures: tcpdump reads every
// packet, the flows in the file are exactly the conversations it says it wrote, checksums
// are right, and the output is deterministic for a seed. (The benchmark itself never runs here.)
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateCapture } from '../bench/generate-capture.js'

const tcpdump = spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0
const dir = mkdtempSync(join(tmpdir(), 'telltale-bench-gen-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))

/** Unordered conversation keys from `tcpdump -nn -q` lines (ICMP: the host pair). */
function conversations(lines: string[]): Set<string> {
  const keys = new Set<string>()
  for (const line of lines) {
    const m = /^\S+ (IP6?) (\S+) > (\S+): (\S+)/.exec(line)
    if (m === null) continue
    const kind = m[4]!.replace(/,$/, '')
    const a = m[2]!
    const b = m[3]!.replace(/:$/, '')
    keys.add(`${kind.startsWith('ICMP') ? 'icmp' : kind.toLowerCase()} ${[a, b].sort().join(' ')}`)
  }
  return keys
}

t.test('a small mixed capture is valid and matches its summary', { skip: tcpdump ? false : 'tcpdump not installed' }, async (t) => {
  const path = join(dir, 'mix.pcap')
  const s = generateCapture(path, { profile: 'mix', flows: 700, seed: 42 })
  t.ok(s.packets >= 7000, `enough packets (${s.packets})`)
  const sizeTotal = s.sizes.le80 + s.sizes.le200 + s.sizes.le700 + s.sizes.le1400 + s.sizes.gt1400
  t.equal(sizeTotal, s.packets, 'size histogram covers every packet')
  t.equal(Object.values(s.byKind).reduce((a, b) => a + b, 0), s.flows, 'kinds add up to the flows')
  t.ok(s.ipv6Flows > 0 && s.vlanFlows > 0, 'IPv6 and VLAN-tagged flows present')
  t.ok(s.sizes.le80 > 0 && s.sizes.le700 > 0 && s.sizes.gt1400 > 0, 'small, medium and full-size frames present')
  t.ok(s.maxConcurrent > 10, `conversations interleave (max ${s.maxConcurrent} open at once)`)

  const out = execFileSync('tcpdump', ['-nn', '-q', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 })
  const lines = out.split('\n').filter((l) => l !== '')
  t.equal(lines.length, s.packets, 'tcpdump reads every packet')
  t.equal(conversations(lines).size, s.flows, 'one conversation per flow written')

  const verbose = execFileSync('tcpdump', ['-nn', '-vv', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 })
  t.notMatch(verbose, /incorrect|bad (udp|tcp|icmp) ?cksum|bad cksum/i, 'no bad checksum anywhere')
  t.match(verbose, /cksum 0x[0-9a-f]+ \(correct\)/, 'tcpdump verified TCP checksums')

  let prev = -1
  let ordered = true
  for (const l of lines) {
    const [h, m, sec] = l.slice(0, 15).split(':').map(Number)
    const v = h! * 3600 + m! * 60 + sec!
    if (v < prev) ordered = false
    prev = v
  }
  t.ok(ordered, 'timestamps never go backwards')
})

t.test('the same seed gives the same bytes; another seed does not', async (t) => {
  const a = join(dir, 'a.pcap'); const b = join(dir, 'b.pcap'); const c = join(dir, 'c.pcap')
  generateCapture(a, { flows: 200, seed: 7 })
  generateCapture(b, { flows: 200, seed: 7 })
  generateCapture(c, { flows: 200, seed: 8 })
  t.ok(readFileSync(a).equals(readFileSync(b)), 'deterministic')
  t.notOk(readFileSync(a).equals(readFileSync(c)), 'seed matters')
})

t.test('the concurrent profile keeps every flow open at once', { skip: tcpdump ? false : 'tcpdump not installed' }, async (t) => {
  const path = join(dir, 'conc.pcap')
  const s = generateCapture(path, { profile: 'concurrent', flows: 1000, seed: 1 })
  t.equal(s.maxConcurrent, 1000)
  const lines = execFileSync('tcpdump', ['-nn', '-q', '-r', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }).split('\n').filter((l) => l !== '')
  t.equal(lines.length, s.packets)
  t.equal(conversations(lines).size, 1000)
})
