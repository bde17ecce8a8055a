/**
 * ftp.log conformance against Zeek's baseline for ftp-ipv6.pcap (anonymous session over IPv6,
 * EPSV and EPRT data channels, two RETRs), and the `ftp` / `ftp-data` services of its
 * conn.log (data connections are recognised only through the control channel's announcements).
 * Rows are paired in order on id.* + command; every column is compared except ts (masked) and
 * uid; fuid values are random in Zeek, so only their presence is compared.
 *
 * Exception, listed: conn.log `service` is compared as "contains Zeek's service"; the baseline
 * was made in bare mode with only the FTP analyzers loaded, so services other analyzers of
 * ours add (at the time of writing the SMTP detector also claims the control connection) are
 * reported as a comment, not failed here.
 */
import t from 'tap'
import { replayFiles } from '../agent/cli/commands/replay.js'
import { FTP_LOG } from '../agent/app/ftp/index.js'
import { compareAppLog } from './helpers/app-log-compare.js'
import { corpusAvailable, corpusPath, CORPUS_SKIP_MESSAGE } from './helpers/paths.js'
import { readZeekLog } from './helpers/zeek-log-reader.js'

if (!corpusAvailable()) {
  t.comment(CORPUS_SKIP_MESSAGE)
  t.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
} else {
  t.test('ftp-ipv6: ftp.log row by row and ftp/ftp-data services', async (t) => {
    const rows: Record<string, unknown>[] = []
    const services = new Map<string, string>()
    await replayFiles([corpusPath('ftp-ipv6.pcap')], { ignoreChecksums: false, quiet: true }, {
      onAppLog: (path, row) => { if (path === 'ftp') rows.push(row) },
      onConn: (c) => { services.set(`${c.origH}:${c.origP} > ${c.respH}:${c.respP}`, String(c.service ?? '')) },
    })
    const oracle = readZeekLog(corpusPath('ftp-ipv6.ftp.log'))
    const key = (r: Record<string, string>): string => `${r['id.orig_h']}:${r['id.orig_p']} > ${r['id.resp_h']}:${r['id.resp_p']} ${r['command']}`
    const cmp = compareAppLog(FTP_LOG, oracle, rows, { key })
    t.same(cmp.missing, [], 'every Zeek row has a match')
    t.same(cmp.extra, [], 'no extra rows')
    t.same(cmp.diffs, [], 'every compared field equal')
    t.comment(`ftp.log conformance: ${cmp.identicalRows}/${cmp.zeekRows} rows identical`)
    t.equal(cmp.zeekRows, 7)
    t.same(rows.map((r) => r['fuid'] !== undefined), oracle.rows.map((r) => r['fuid'] !== '-'), 'fuid present exactly where Zeek has one')
    t.same(new Set(rows.map((r) => r['fuid']).filter((f) => f !== undefined)).size, 2, 'distinct fuids')

    const conn = readZeekLog(corpusPath('ftp-ipv6.conn.log'))
    let extra = 0
    for (const z of conn.rows) {
      const k = `${z['id.orig_h']}:${z['id.orig_p']} > ${z['id.resp_h']}:${z['id.resp_p']}`
      const ours = (services.get(k) ?? '').split(',').filter((s) => s !== '')
      t.ok(ours.includes(z['service']!), `${k}: service includes ${z['service']} (ours: ${ours.join(',')})`)
      if (ours.length > 1) extra++
    }
    if (extra > 0) t.comment(`${extra} connection(s) carry services beyond Zeek's bare-mode baseline (other analyzers)`)
  })
}
