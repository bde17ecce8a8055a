/**
 * dns.log conformance against Zeek's own baselines in ../shared/corpus: every capture with a
 * `.dns.log` oracle is replayed (with the -C its MANIFEST entry lists) and every row is
 * rendered with our Zeek ASCII writer and compared column by column with Zeek's text. Rows
 * are matched as a multiset on all columns except `ts` (masked by btest) and `uid` (Zeek's
 * seeded RNG); row order is not compared (Zeek's order comes from hash-table iteration and
 * connection removal order). uids are checked through conn records instead: every dns row's
 * uid belongs to a connection with the same 5-tuple whose service includes "dns".
 *
 * Exceptions: none at present (every oracle row is matched field for field).
 */
import t from 'tap'
import { readdirSync } from 'node:fs'
import { replayFiles } from '../agent/cli/commands/replay.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { DNS_LOG } from '../agent/app/dns/index.js'
import { formatZeekRow } from '../agent/output/zeek-ascii-writer.js'
import { CORPUS_DIR, CORPUS_SKIP_MESSAGE, corpusAvailable, corpusCapture, corpusIgnoresChecksums, corpusPath } from './helpers/paths.js'
import { readZeekLog } from './helpers/zeek-log-reader.js'

if (!corpusAvailable()) {
  t.comment(CORPUS_SKIP_MESSAGE)
  t.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
} else {
  const ignoreChecksums = corpusIgnoresChecksums
  const capture = corpusCapture
  const fieldNames = DNS_LOG.fields.map((f) => f.name)
  /** Columns compared: all but the masked ts and the non-reproducible uid. */
  const compared = fieldNames.filter((f) => f !== 'ts' && f !== 'uid')

  const oracles = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.dns.log')).sort()
  let total = 0
  let matched = 0
  for (const oracle of oracles) {
    const name = oracle.replace(/\.dns\.log$/, '')
    t.test(`${oracle} row by row`, async (t) => {
      const zeek = readZeekLog(corpusPath(oracle))
      t.same(zeek.fields, fieldNames, '#fields as Zeek')
      t.same(zeek.types, DNS_LOG.fields.map((f) => f.type), '#types as Zeek')

      const rows: Record<string, unknown>[] = []
      const conns: ConnRecord[] = []
      await replayFiles([capture(name)], { ignoreChecksums: ignoreChecksums(name), quiet: true }, {
        onAppLog: (path, row) => { if (path === 'dns') rows.push(row) },
        onConn: (r) => conns.push(r),
      })
      const ours = rows.map((r) => {
        const cols = formatZeekRow(DNS_LOG.fields, DNS_LOG.fields.map((f) => r[f.name])).split('\t')
        return Object.fromEntries(fieldNames.map((f, i) => [f, cols[i]!])) as Record<string, string>
      })
      const key = (r: Record<string, string>): string => compared.map((f) => r[f]).join('\t')
      const pool = new Map<string, number>()
      for (const r of ours) pool.set(key(r), (pool.get(key(r)) ?? 0) + 1)
      const missing: Array<{ zeek: string; closest?: Record<string, [string, string]> }> = []
      for (const z of zeek.rows) {
        const k = key(z)
        const n = pool.get(k) ?? 0
        if (n > 0) {
          pool.set(k, n - 1)
          matched++
          continue
        }
        // Report field differences against the closest row of the same transaction.
        const near = ours.find((o) => ['id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'trans_id'].every((f) => o[f] === z[f]))
        const diff: Record<string, [string, string]> = {}
        if (near) for (const f of compared) if (near[f] !== z[f]) diff[f] = [near[f]!, z[f]!]
        missing.push({ zeek: k, closest: near ? diff : undefined })
      }
      total += zeek.rows.length
      const extra = [...pool.entries()].filter(([, n]) => n > 0).map(([k]) => k)
      t.same(missing, [], 'every Zeek row has an identical row of ours')
      t.same(extra, [], 'no extra rows')
      t.equal(ours.length, zeek.rows.length, `${zeek.rows.length - missing.length}/${zeek.rows.length} rows identical`)

      // uid → connection with the same 5-tuple, labelled service dns.
      const byUid = new Map(conns.map((c) => [c.uid, c]))
      for (const r of ours) {
        const c = byUid.get(r.uid!)
        t.ok(c, `uid ${r.uid} is a connection`)
        if (!c) continue
        t.same([c.origH, String(c.origP), c.respH, String(c.respP), c.proto], [r['id.orig_h'], r['id.orig_p'], r['id.resp_h'], r['id.resp_p'], r.proto])
        t.ok(c.service.split(',').includes('dns'), `service of ${c.uid} includes dns`)
      }
    })
  }
  t.test('summary', async (t) => {
    t.comment(`dns.log conformance: ${matched}/${total} rows identical across ${oracles.length} oracles`)
    t.ok(total >= 39, 'all corpus dns.log rows were compared')
    t.equal(matched, total)
  })
}
