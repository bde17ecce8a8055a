/**
 * Every capture in the shared corpus is read in place and checked against what MANIFEST.md
 * states for it: format, byte order and precision, linktype, packet count, file size and
 * the first/last packet timestamps (UTC, to the precision the manifest gives).
 */
import t from 'tap'
import { readFileSync, statSync } from 'node:fs'
import { readCaptureFile } from '../agent/capture/capture-file.js'
import { CORPUS_SKIP_MESSAGE, corpusAvailable, corpusPath } from './helpers/paths.js'

interface ManifestCapture {
  name: string
  format: 'pcap' | 'pcapng'
  precision?: 'usec' | 'nsec'
  order?: 'LE' | 'BE'
  linktype: string
  packets: number
  size: number
  first: string
  last: string
}

const LINE = /^- `([a-z0-9._-]+\.pcap(?:ng)?)` \|.*?\| (?:pcap \((usec|nsec), (LE|BE)\)|pcapng), linktype (\w+), (\d+) pkts, (\d+) B, (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) \.\. (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) \|/

function manifestCaptures(): ManifestCapture[] {
  const out: ManifestCapture[] = []
  for (const line of readFileSync(corpusPath('MANIFEST.md'), 'utf8').split('\n')) {
    const m = LINE.exec(line)
    if (!m) continue
    const c: ManifestCapture = {
      name: m[1]!, format: m[1]!.endsWith('.pcapng') ? 'pcapng' : 'pcap', linktype: m[4]!,
      packets: Number(m[5]), size: Number(m[6]), first: m[7]!, last: m[8]!,
    }
    if (m[2]) c.precision = m[2] as 'usec' | 'nsec'
    if (m[3]) c.order = m[3] as 'LE' | 'BE'
    out.push(c)
  }
  return out
}

/** "2013-03-07 21:42:06.939084" → the same text rebuilt from (sec, nsec) at that many digits. */
function formatTs(sec: number, nsec: number, digits: number): string {
  const base = new Date(sec * 1000).toISOString().slice(0, 19).replace('T', ' ')
  return digits === 0 ? base : `${base}.${String(nsec).padStart(9, '0').slice(0, digits)}`
}

const fracDigits = (s: string): number => (s.split('.')[1] ?? '').length

const LINKTYPES: Record<string, number> = { ether: 1 }

t.test('corpus captures match MANIFEST.md', { skip: corpusAvailable() ? false : CORPUS_SKIP_MESSAGE }, async (t) => {
  const caps = manifestCaptures()
  t.ok(caps.length >= 26, `manifest lists the captures (${caps.length})`)
  for (const name of ['pcapng-multi-interface.pcapng', 'http-on-irc-port-missing-syn.pcapng']) {
    t.ok(caps.some((c) => c.name === name), `${name} is in the manifest`)
  }
  for (const c of caps) {
    const path = corpusPath(c.name)
    let first: [number, number] | null = null
    let last: [number, number] = [0, 0]
    let linkTypes = new Set<number>()
    const stats = await readCaptureFile(path, {
      chunkSize: 4096, // several chunks even for small files: exercises the carry-over
      onPacket: (p) => {
        if (first === null) first = [p.tsSec, p.tsNsec]
        last = [p.tsSec, p.tsNsec]
        linkTypes.add(p.linkType)
      },
    })
    t.equal(statSync(path).size, c.size, `${c.name}: size`)
    t.equal(stats.format, c.format, `${c.name}: format`)
    t.equal(stats.packets, c.packets, `${c.name}: packets`)
    t.same(stats.anomalies, {}, `${c.name}: no anomalies`)
    t.same([...linkTypes], [LINKTYPES[c.linktype]], `${c.name}: linktype ${c.linktype}`)
    if (c.format === 'pcap') {
      const head = readFileSync(path).subarray(0, 4)
      t.equal(head.readUInt32LE(0) === 0xa1b2c3d4 || head.readUInt32LE(0) === 0xa1b23c4d ? 'LE' : 'BE', c.order, `${c.name}: byte order`)
      t.equal(stats.interfaces[0]!.tsresolNs, c.precision === 'nsec' ? 1 : 1000, `${c.name}: precision`)
    }
    const f = first ?? [0, 0]
    t.equal(formatTs(f[0], f[1], fracDigits(c.first)), c.first, `${c.name}: first timestamp`)
    t.equal(formatTs(last[0], last[1], fracDigits(c.last)), c.last, `${c.name}: last timestamp`)
    linkTypes = new Set()
  }
})

t.test('pcapng-multi-interface: interfaces with ns and µs resolution', { skip: corpusAvailable() ? false : CORPUS_SKIP_MESSAGE }, async (t) => {
  const seen: Array<[number, number]> = []
  const stats = await readCaptureFile(corpusPath('pcapng-multi-interface.pcapng'), { chunkSize: 64, onPacket: (p) => { seen.push([p.ifIndex, p.tsNsec]) } })
  t.same(stats.interfaces.map((i) => [i.linkType, i.tsresolNs]), [[1, 1], [1, 1000]])
  t.ok(seen.some(([i]) => i === 0) && seen.some(([i]) => i === 1), 'packets on both interfaces')
  t.ok(seen.filter(([i]) => i === 1).every(([, ns]) => ns % 1000 === 0), 'µs interface yields whole microseconds')
  t.ok(seen.some(([i, ns]) => i === 0 && ns % 1000 !== 0), 'ns interface keeps sub-microsecond digits')
})
