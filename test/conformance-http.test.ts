/**
 * http.log conformance against Zeek's own baselines in ../shared/corpus (wikipedia.http.log,
 * 14 rows; http-get.http.log, 1 row): each capture is replayed (with the -C its MANIFEST
 * entry lists), every row is rendered with our Zeek ASCII writer and matched to Zeek's on
 * id.* + trans_depth, then every column is compared as text. Not compared by design: `ts`
 * (masked by btest) and `uid` (Zeek's seeded RNG; checked instead through our conn records:
 * same 5-tuple, service http). File ids are random in Zeek: `orig_fuids`/`resp_fuids` are
 * compared for presence and count only.
 *
 * Also: conn.log `service` is "http" exactly where Zeek says so, including
 * http-on-irc-port-missing-syn (no SYN, roles flipped) and the partial connection in
 * wikipedia (no SYN: Zeek's HTTP analyzer ignores it: no row, no service).
 *
 * Exceptions: none at present.
 */
import t from 'tap'
import { replayFiles } from '../agent/cli/commands/replay.js'
import type { ConnRecord } from '../agent/flow/conn-record.js'
import { HTTP_LOG } from '../agent/app/http/index.js'
import { formatZeekRow } from '../agent/output/zeek-ascii-writer.js'
import { CORPUS_SKIP_MESSAGE, corpusAvailable, corpusCapture, corpusIgnoresChecksums, corpusPath } from './helpers/paths.js'
import { readZeekLog, splitSet } from './helpers/zeek-log-reader.js'

if (!corpusAvailable()) {
  t.comment(CORPUS_SKIP_MESSAGE)
  t.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
} else {
  const ignoreChecksums = corpusIgnoresChecksums
  const capture = corpusCapture
  const fieldNames = HTTP_LOG.fields.map((f) => f.name)
  const FUIDS = new Set(['orig_fuids', 'resp_fuids'])
  const compared = fieldNames.filter((f) => f !== 'ts' && f !== 'uid')
  const rowKey = (r: Record<string, string>): string => ['id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'trans_depth'].map((f) => r[f]).join(' ')
  const tuple = (h: string, p: string | number, rh: string, rp: string | number): string => `${h}:${p} > ${rh}:${rp}`

  const replay = async (name: string): Promise<{ rows: Record<string, string>[]; raw: Record<string, unknown>[]; conns: ConnRecord[] }> => {
    const raw: Record<string, unknown>[] = []
    const conns: ConnRecord[] = []
    await replayFiles([capture(name)], { ignoreChecksums: ignoreChecksums(name), quiet: true }, {
      onAppLog: (path, row) => { if (path === 'http') raw.push(row) },
      onConn: (r) => conns.push(r),
    })
    const rows = raw.map((r) => {
      const cols = formatZeekRow(HTTP_LOG.fields, HTTP_LOG.fields.map((f) => r[f.name])).split('\t')
      return Object.fromEntries(fieldNames.map((f, i) => [f, cols[i]!])) as Record<string, string>
    })
    return { rows, raw, conns }
  }

  let total = 0
  let identical = 0
  for (const name of ['wikipedia', 'http-get']) {
    t.test(`${name}.http.log row by row`, async (t) => {
      const zeek = readZeekLog(corpusPath(`${name}.http.log`))
      t.same(zeek.fields, fieldNames, '#fields as Zeek')
      t.same(zeek.types, HTTP_LOG.fields.map((f) => f.type), '#types as Zeek')
      const { rows, conns } = await replay(name)
      const ours = new Map(rows.map((r) => [rowKey(r), r]))
      t.equal(rows.length, zeek.rows.length, `${zeek.rows.length} rows`)
      t.equal(ours.size, rows.length, 'one row per connection and depth')
      for (const z of zeek.rows) {
        total++
        const o = ours.get(rowKey(z))
        if (!o) { t.fail(`no row for ${rowKey(z)}`); continue }
        const diffs: Record<string, [string, string]> = {}
        for (const f of compared) {
          if (FUIDS.has(f)) {
            const zc = splitSet(z[f]!, zeek)?.length ?? 0
            const oc = splitSet(o[f]!)?.length ?? 0
            if (zc !== oc) diffs[f] = [o[f]!, z[f]!]
            for (const id of splitSet(o[f]!) ?? []) if (!/^F[A-Za-z0-9]{15,18}$/.test(id)) diffs[`${f} format`] = [id, 'F + base62']
          } else if (o[f] !== z[f]) diffs[f] = [o[f]!, z[f]!]
        }
        t.same(diffs, {}, `${rowKey(z)}: every column equal`)
        if (Object.keys(diffs).length === 0) identical++
        const c = conns.find((r) => r.uid === o.uid)
        t.ok(c !== undefined, 'uid joins a conn record')
        if (c) {
          t.equal(tuple(c.origH, c.origP, c.respH, c.respP), tuple(z['id.orig_h']!, z['id.orig_p']!, z['id.resp_h']!, z['id.resp_p']!), 'same 5-tuple')
          t.ok(c.service.split(',').includes('http'), 'service http')
        }
      }
    })
  }

  for (const name of ['wikipedia', 'http-get', 'http-on-irc-port-missing-syn']) {
    t.test(`${name}: conn.log service http exactly where Zeek has it`, async (t) => {
      const zeek = readZeekLog(corpusPath(`${name}.conn.log`))
      const { conns } = await replay(name)
      const want = zeek.rows.filter((r) => r.proto === 'tcp').map((r) => `${tuple(r['id.orig_h']!, r['id.orig_p']!, r['id.resp_h']!, r['id.resp_p']!)} ${r.service}`).sort()
      const got = conns.filter((r) => r.proto === 'tcp').map((r) => `${tuple(r.origH, r.origP, r.respH, r.respP)} ${r.service === '' ? '-' : r.service}`).sort()
      t.same(got, want)
    })
  }

  t.test('summary', async (t) => {
    t.comment(`http.log conformance: ${identical}/${total} rows identical (fuids: presence and count)`)
    t.equal(total, 15, 'all oracle rows compared')
  })
}
