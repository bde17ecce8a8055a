/**
 * Test-only: compares application-log rows we produced (JS values keyed by Zeek field name)
 * with the rows of a Zeek oracle log, column by column, after rendering ours exactly as the
 * Zeek ASCII writer would. Rows are paired by a key built from the oracle's text (id.* columns
 * by default); `ts` (masked in btest baselines) and `uid`/`uids`/`fuid` (random in Zeek) are
 * skipped unless asked for. Set-typed columns are compared as sets.
 */
import type { AppLogSpec } from '../../agent/app/app-analyzer.js'
import { formatZeekValue } from '../../agent/output/zeek-value-format.js'
import type { ZeekLog } from './zeek-log-reader.js'

export interface RowDiff { key: string; field: string; zeek: string; ours: string }

export interface AppLogComparison {
  zeekRows: number
  identicalRows: number
  missing: string[]
  extra: string[]
  diffs: RowDiff[]
}

export function renderRow(spec: AppLogSpec, row: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const f of spec.fields) out[f.name] = formatZeekValue(f.type, row[f.name])
  return out
}

const DEFAULT_SKIP = ['ts', 'uid', 'uids', 'fuid']

export function compareAppLog(
  spec: AppLogSpec,
  oracle: ZeekLog,
  ours: Record<string, unknown>[],
  opts: { key?: (r: Record<string, string>) => string; skip?: string[] } = {},
): AppLogComparison {
  const key = opts.key ?? ((r) => `${r['id.orig_h']}:${r['id.orig_p']} > ${r['id.resp_h']}:${r['id.resp_p']}`)
  const skip = new Set(opts.skip ?? DEFAULT_SKIP)
  const mine = new Map<string, Record<string, string>[]>()
  for (const r of ours) {
    const text = renderRow(spec, r)
    const k = key(text)
    mine.set(k, [...(mine.get(k) ?? []), text])
  }
  const res: AppLogComparison = { zeekRows: oracle.rows.length, identicalRows: 0, missing: [], extra: [], diffs: [] }
  for (const z of oracle.rows) {
    const k = key(z)
    const list = mine.get(k)
    const m = list?.shift()
    if (m === undefined) { res.missing.push(k); continue }
    let same = true
    for (const f of oracle.fields) {
      if (skip.has(f)) continue
      const type = oracle.types[oracle.fields.indexOf(f)] ?? ''
      const a = z[f] ?? ''
      const b = m[f] ?? '(column missing)'
      const eq = type.startsWith('set[') ? [...a.split(',')].sort().join(',') === [...b.split(',')].sort().join(',') : a === b
      if (!eq) { same = false; res.diffs.push({ key: k, field: f, zeek: a, ours: b }) }
    }
    if (same) res.identicalRows++
  }
  for (const [k, list] of mine) for (let i = 0; i < list.length; i++) res.extra.push(k)
  return res
}
