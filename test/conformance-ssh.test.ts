/**
 * ssh.log conformance against Zeek's baselines: ssh.pcap (22 SSH sessions: SSH1 and SSH2,
 * banners, negotiated algorithms, host key fingerprints, the authentication heuristic) and
 * gre-sample.pcap (one SSH session inside GRE). Rows are paired on id.* and every column is
 * compared except ts (masked in the baselines) and uid (random in Zeek). Our extra columns
 * (hassh, hasshServer) are checked to be present for every SSH2 session.
 * No exceptions: every compared field must be equal.
 */
import t from 'tap'
import { replayFiles } from '../agent/cli/commands/replay.js'
import { SSH_LOG } from '../agent/app/ssh/index.js'
import { compareAppLog } from './helpers/app-log-compare.js'
import { CORPUS_SKIP_MESSAGE, corpusAvailable, corpusIgnoresChecksums, corpusPath } from './helpers/paths.js'
import { readZeekLog } from './helpers/zeek-log-reader.js'

if (!corpusAvailable()) {
  t.comment(CORPUS_SKIP_MESSAGE)
  t.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
} else {
  const ignoreChecksums = corpusIgnoresChecksums
  let total = 0
  let identical = 0
  for (const name of ['ssh', 'gre-sample']) {
    t.test(`${name}.ssh.log row by row`, async (t) => {
      const rows: Record<string, unknown>[] = []
      const services = new Map<string, string>()
      await replayFiles([corpusPath(`${name}.pcap`)], { ignoreChecksums: ignoreChecksums(name), quiet: true }, {
        onAppLog: (path, row) => { if (path === 'ssh') rows.push(row) },
        onConn: (c) => { services.set(`${c.origH}:${c.origP} > ${c.respH}:${c.respP}`, String(c.service ?? '')) },
      })
      const oracle = readZeekLog(corpusPath(`${name}.ssh.log`))
      const cmp = compareAppLog(SSH_LOG, oracle, rows)
      total += cmp.zeekRows
      identical += cmp.identicalRows
      t.same(cmp.missing, [], 'every Zeek row has a match')
      t.same(cmp.extra, [], 'no extra rows')
      t.same(cmp.diffs, [], 'every compared field equal')
      for (const r of rows) {
        const k = `${String(r['id.orig_h'])}:${String(r['id.orig_p'])} > ${String(r['id.resp_h'])}:${String(r['id.resp_p'])}`
        t.match(services.get(k), /\bssh\b/, `${k}: conn.log service has ssh`)
        if (r['version'] === 2) {
          t.match(r['hassh'], /^[0-9a-f]{32}$/, `${k}: hassh`)
          t.match(r['hasshServer'], /^[0-9a-f]{32}$/, `${k}: hasshServer`)
        }
      }
    })
  }
  t.test('summary', async (t) => {
    t.comment(`ssh.log conformance: ${identical}/${total} rows identical`)
    t.equal(total, 23, 'all 23 oracle rows compared')
  })
}
