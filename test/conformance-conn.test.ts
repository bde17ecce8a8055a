/**
 * Conformance against Zeek's own baselines in ../shared/corpus: every capture with a conn.log
 * oracle is replayed with the Zeek options its MANIFEST entry lists, and every row is compared
 * field by field (matched on 5-tuple + proto): conn_state, history, packets, ip_bytes, bytes,
 * missed_bytes, duration (to the microsecond), local_orig/resp, ip_proto, service (port and
 * content-based protocol detection), vlan columns and the presence of a tunnel parent.
 * uids and the masked ts are not comparable by design.
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { replayFiles } from '../agent/cli/commands/replay.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { compareConn } from './helpers/conn-compare.js'
import { CORPUS_DIR, CORPUS_SKIP_MESSAGE, corpusAvailable, corpusCapture, corpusIgnoresChecksums, corpusPath } from './helpers/paths.js'
import { readZeekLog } from './helpers/zeek-log-reader.js'

if (!corpusAvailable()) {
  t.comment(CORPUS_SKIP_MESSAGE)
  t.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
} else {
  /** Captures whose oracle Zeek produced with -C (from MANIFEST.md "run as" lines). */
  const ignoreChecksums = corpusIgnoresChecksums
  const capture = corpusCapture
  const replay = async (name: string): Promise<ConnRecord[]> => {
    const recs: ConnRecord[] = []
    await replayFiles([capture(name)], { ignoreChecksums: ignoreChecksums(name), quiet: true }, { onConn: (r) => recs.push(r) })
    return recs
  }

  const oracles = readdirSync(CORPUS_DIR).filter((f) => /\.conn(-vlan)?\.log$/.test(f)).sort()
  let total = 0
  let identical = 0
  for (const oracle of oracles) {
    const name = oracle.replace(/\.conn(-vlan)?\.log$/, '')
    t.test(`${oracle} row by row`, async (t) => {
      const cmp = compareConn(readZeekLog(corpusPath(oracle)), await replay(name))
      total += cmp.zeekRows
      identical += cmp.identicalRows
      t.same(cmp.missing, [], 'no Zeek row without a match')
      t.same(cmp.extra, [], 'no extra rows')
      t.same(cmp.diffs, [], 'every compared field equal')
      t.equal(cmp.identicalRows, cmp.zeekRows, `${cmp.identicalRows}/${cmp.zeekRows} rows identical`)
    })
  }
  t.test('summary', async (t) => {
    t.comment(`conn.log conformance: ${identical}/${total} rows identical across ${oracles.length} oracles`)
    t.ok(total >= 98, 'all corpus rows were compared')
  })

  // conn_state-RST-behavior.zeek prints "history, conn_state" for four traces.
  const rstOracle = readFileSync(corpusPath('tcp-single-rst.zeek-history-state.txt'), 'utf8').split('\n').filter((l) => /^[A-Za-z^]+, [A-Z0-9]+$/.test(l))
  const rstTraces = ['tcp-single-rst', 'tcp-syn-then-rst', 'tcp-syn-then-ack-then-rst', 'tcp-syn-then-stuff-then-rst']
  rstTraces.forEach((name, i) => {
    t.test(`${name}: history and conn_state as Zeek prints them`, async (t) => {
      const recs = await replay(name)
      t.equal(recs.length, 1)
      t.equal(`${recs[0]!.history}, ${recs[0]!.connState}`, rstOracle[i])
    })
  })

  // icmp-events.test prints conn_id for each ICMP event: orig_p = type, resp_p = code/counterpart.
  const icmpOracle = readFileSync(corpusPath('icmp-ping.zeek-events.txt'), 'utf8')
  const connIds = [...icmpOracle.matchAll(/conn_id: \[orig_h=([^,]+), orig_p=(\d+)\/icmp, resp_h=([^,]+), resp_p=(\d+)\/icmp/g)]
    .map((m) => `${m[1]}:${m[2]} > ${m[3]}:${m[4]}`)
  for (const name of ['icmp-destunreach-udp', 'icmp-timeexceeded', 'icmp-ping']) {
    t.test(`${name}: ICMP connection ids as Zeek's icmp events`, async (t) => {
      const recs = await replay(name)
      for (const r of recs) {
        t.equal(r.proto, 'icmp')
        t.equal(r.connState, 'OTH')
        t.ok(connIds.includes(`${r.origH}:${r.origP} > ${r.respH}:${r.respP}`), `${r.origH}:${r.origP} > ${r.respH}:${r.respP} is in the oracle`)
      }
      if (name === 'icmp-ping') t.same([recs[0]!.origPkts, recs[0]!.respPkts], [2, 2], 'requests and replies in one connection')
    })
  }

  t.test('ipv6-fragmented-dns: reassembled datagrams have the lengths Zeek printed', async (t) => {
    const stdout = readFileSync(corpusPath('ipv6-fragmented-dns.zeek-stdout.txt'), 'utf8')
    const ulens = [...stdout.matchAll(/sport=(\d+)\/udp, dport=(\d+)\/udp, ulen=(\d+)/g)]
    const recs = await replay('ipv6-fragmented-dns')
    // Sum of UDP payloads per direction must equal the sum of (ulen - 8) Zeek saw.
    const want = new Map<string, number>()
    for (const m of ulens) {
      const k = [m[1], m[2]].sort().join('/')
      want.set(k, (want.get(k) ?? 0) + Number(m[3]) - 8)
    }
    for (const r of recs) {
      const k = [String(r.origP), String(r.respP)].sort().join('/')
      t.equal((r.origBytes ?? 0) + (r.respBytes ?? 0), want.get(k), `udp ${k}: reassembled payload bytes`)
    }
  })
}
