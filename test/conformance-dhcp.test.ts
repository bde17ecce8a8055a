/**
 * dhcp.log conformance against Zeek's baseline for dhcp.pcap (every DHCP message type; one
 * transaction spanning four "connections" plus a RELEASE and an INFORM transaction). Rows are
 * paired on msg_types (unique here) and every column is compared except ts (masked) and uids,
 * whose values are random in Zeek: for uids we check instead that each row lists the uids of
 * the same connections (mapped to 5-tuples through our conn records and Zeek's conn.log).
 * No exceptions.
 */
import t from 'tap'
import { replayFiles } from '../agent/cli/commands/replay.js'
import { DHCP_LOG } from '../agent/app/dhcp/index.js'
import { compareAppLog } from './helpers/app-log-compare.js'
import { corpusAvailable, corpusPath, CORPUS_SKIP_MESSAGE } from './helpers/paths.js'
import { readZeekLog } from './helpers/zeek-log-reader.js'

if (!corpusAvailable()) {
  t.comment(CORPUS_SKIP_MESSAGE)
  t.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
} else {
  t.test('dhcp.dhcp.log row by row', async (t) => {
    const rows: Record<string, unknown>[] = []
    const ourTuple = new Map<string, string>()
    const services: string[] = []
    await replayFiles([corpusPath('dhcp.pcap')], { ignoreChecksums: false, quiet: true }, {
      onAppLog: (path, row) => { if (path === 'dhcp') rows.push(row) },
      onConn: (c) => {
        ourTuple.set(c.uid, `${c.origH}:${c.origP} > ${c.respH}:${c.respP}`)
        services.push(String(c.service ?? ''))
      },
    })
    const oracle = readZeekLog(corpusPath('dhcp.dhcp.log'))
    const cmp = compareAppLog(DHCP_LOG, oracle, rows, { key: (r) => r['msg_types'] ?? '' })
    t.same(cmp.missing, [], 'every Zeek row has a match')
    t.same(cmp.extra, [], 'no extra rows')
    t.same(cmp.diffs, [], 'every compared field equal')
    t.comment(`dhcp.log conformance: ${cmp.identicalRows}/${cmp.zeekRows} rows identical`)
    t.equal(cmp.zeekRows, 3)

    const zeekConn = readZeekLog(corpusPath('dhcp.conn.log'))
    const zeekTuple = new Map(zeekConn.rows.map((r) => [r['uid']!, `${r['id.orig_h']}:${r['id.orig_p']} > ${r['id.resp_h']}:${r['id.resp_p']}`]))
    for (const z of oracle.rows) {
      const ours = rows.find((r) => (r['msg_types'] as string[]).join(',') === z['msg_types'])
      const want = z['uids']!.split(',').map((u) => zeekTuple.get(u)).sort()
      const got = ((ours?.['uids'] ?? []) as string[]).map((u) => ourTuple.get(u)).sort()
      t.same(got, want, `${z['msg_types']}: uids name the same connections`)
    }
    t.same(services, ['dhcp', 'dhcp', 'dhcp', 'dhcp'], 'every DHCP connection has service dhcp')
  })
}
