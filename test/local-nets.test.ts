import t from 'tap'
import ipaddr from 'ipaddr.js'
import { readdirSync } from 'node:fs'
import { LocalNets, ZEEK_PRIVATE_ADDRESS_SPACE } from '../agent/flow/local-nets.js'
import { isAgentError, AgentErrorCode } from '../agent/util/errors.js'
import { CORPUS_DIR, CORPUS_SKIP_MESSAGE, corpusAvailable, corpusPath } from './helpers/paths.js'
import { readZeekLog } from './helpers/zeek-log-reader.js'

const ip = (s: string): Uint8Array => Uint8Array.from(ipaddr.parse(s).toByteArray())

t.test('every conn.log row of the corpus: isLocal matches local_orig / local_resp', { skip: corpusAvailable() ? false : CORPUS_SKIP_MESSAGE }, async (t) => {
  const nets = LocalNets.zeekDefault()
  const files = readdirSync(CORPUS_DIR).filter((f) => /\.conn(-[a-z0-9]+)?\.log$/.test(f))
  t.ok(files.length >= 10, `found ${files.length} conn logs`)
  let checked = 0
  for (const f of files) {
    const log = readZeekLog(corpusPath(f))
    for (const row of log.rows) {
      for (const [addrCol, localCol] of [['id.orig_h', 'local_orig'], ['id.resp_h', 'local_resp']] as const) {
        const expected = row[localCol]
        if (expected !== 'T' && expected !== 'F') continue
        const addr = row[addrCol]!
        t.equal(nets.isLocal(ip(addr)) ? 'T' : 'F', expected, `${f}: ${addr} (${localCol})`)
        checked++
      }
    }
  }
  t.ok(checked > 150, `checked ${checked} addresses`)
})

t.test('Zeek default list: boundaries and families', async (t) => {
  const nets = LocalNets.zeekDefault()
  const cases: [string, boolean][] = [
    ['10.255.255.255', true], ['11.0.0.0', false], ['9.255.255.255', false],
    ['172.16.0.1', true], ['172.31.255.255', true], ['172.32.0.0', false],
    ['100.64.0.0', true], ['100.127.255.255', true], ['100.128.0.0', false],
    ['224.0.0.251', true], ['224.0.1.1', false], ['239.255.255.250', true], ['255.255.255.255', true], ['8.8.8.8', false],
    ['::', true], ['::1', true], ['::2', false], ['fe80::1', true], ['febf::1', true], ['fec0::1', true], ['ff02::fb', false],
    ['fd00::1', true], ['2001:db8::1', true], ['2606:4700::1111', false], ['2002:c0a8:101::1', true], ['2002:808:808::1', false],
    ['::ffff:192.168.1.1', true], ['::ffff:8.8.8.8', false],
  ]
  for (const [a, want] of cases) t.equal(nets.isLocal(ip(a)), want, a)
  t.equal(nets.isLocal(new Uint8Array(5)), false, 'odd length is never local')
  t.equal(nets.cidrs.length, ZEEK_PRIVATE_ADDRESS_SPACE.length)
})

t.test('configured networks replace the default; host bits are masked; bare address = host prefix', async (t) => {
  const nets = new LocalNets(['192.0.2.77/24', '2001:db8:1::/48', '203.0.113.9'])
  t.equal(nets.isLocal(ip('192.0.2.1')), true)
  t.equal(nets.isLocal(ip('10.0.0.1')), false, 'default not merged in')
  t.equal(nets.isLocal(ip('2001:db8:1:ffff::1')), true)
  t.equal(nets.isLocal(ip('2001:db8:2::1')), false)
  t.equal(nets.isLocal(ip('203.0.113.9')), true)
  t.equal(nets.isLocal(ip('203.0.113.10')), false)
  t.equal(new LocalNets(['0.0.0.0/0']).isLocal(ip('8.8.8.8')), true)
  t.equal(new LocalNets(['::/0']).isLocal(ip('2606:4700::1')), true)
  t.equal(new LocalNets([]).isLocal(ip('10.1.1.1')), true, 'empty list = Zeek default')
})

t.test('an invalid CIDR is a CONFIG_INVALID error naming the value', async (t) => {
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'fe80::/129', 'not-an-ip', '10.0.0.0/x', '010.0.0.0/8x', '']) {
    try {
      new LocalNets(['10.0.0.0/8', bad])
      t.fail(`accepted ${bad}`)
    } catch (err) {
      t.ok(isAgentError(err) && err.code === AgentErrorCode.CONFIG_INVALID, `${bad}: code`)
      t.match((err as Error).message, `"${bad}"`, `${bad}: message names it`)
    }
  }
})

t.test('prefixes read by hand and by ipaddr.js give the same networks (fast-check)', async (t) => {
  const fc = (await import('fast-check')).default
  const v4 = fc.tuple(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 }))
  const v6 = fc.tuple(fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 128 }))
  let checked = 0
  fc.assert(fc.property(fc.oneof(v4.map(([b, n]) => ({ text: `${b.join('.')}/${n}`, bytes: b, bits: n, v6: false })),
    v6.map(([w, n]) => {
      const a = ipaddr.fromByteArray(w.flatMap((x) => [x >> 8, x & 0xff]))
      return { text: `${a.toString()}/${n}`, bytes: a.toByteArray(), bits: n, v6: true }
    })), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 16, maxLength: 16 }), (p, probe) => {
    const nets = new LocalNets([p.text])
    const [net] = ipaddr.parseCIDR(p.text)
    // The prefix's own network and a random address: same answer as ipaddr.js's match.
    for (const bytes of [p.bytes, p.v6 ? probe : probe.slice(0, 4)]) {
      const addr = ipaddr.fromByteArray(bytes)
      t.equal(nets.isLocal(Uint8Array.from(bytes)), addr.kind() === net.kind() && addr.match(net, p.bits), `${addr.toString()} in ${p.text}`)
      checked++
    }
  }), { numRuns: 300 })
  t.ok(checked >= 600)
})
