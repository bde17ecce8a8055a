/**
 * One entry point for every feed format: detects the format from the content (JSON with
 * `"type": "bundle"` or indicator objects → STIX; JSON with `Event`/`response` → MISP;
 * anything else → CSV/plain list) unless given, parses into a new sealed IndicatorIndex.
 * Never throws on bad content: bad JSON is an error result with a message.
 */
import { IndicatorIndex } from './indicator-index.js'
import type { FeedFormat } from './indicator-types.js'
import { parseCsv } from './parse-csv.js'
import { parseMisp } from './parse-misp.js'
import { parseStix } from './parse-stix.js'

export type FeedParse = { ok: true; format: FeedFormat; index: IndicatorIndex; count: number; skipped: number } | { ok: false; error: string }

export function detectFormat(text: string): FeedFormat {
  const t = text.trimStart()
  if (!t.startsWith('{') && !t.startsWith('[')) return 'csv'
  const head = t.slice(0, 4096)
  if (/"type"\s*:\s*"(bundle|indicator)"/.test(head) || /"spec_version"\s*:\s*"2\.1"/.test(head)) return 'stix'
  if (/"(Event|response|Attribute)"\s*:/.test(head)) return 'misp'
  return 'stix'
}

export function parseFeed(text: string, format?: FeedFormat): FeedParse {
  const fmt = format ?? detectFormat(text)
  const index = new IndicatorIndex()
  const sink = (ind: Parameters<IndicatorIndex['add']>[0]): void => index.add(ind)
  let r: { count: number; skipped: number }
  if (fmt === 'csv') r = parseCsv(text, sink)
  else {
    let doc: unknown
    try { doc = JSON.parse(text) } catch (err) { return { ok: false, error: `not valid JSON for a ${fmt} feed: ${(err as Error).message}` } }
    r = fmt === 'stix' ? parseStix(doc, sink) : parseMisp(doc, sink)
  }
  index.seal()
  return { ok: true, format: fmt, index, count: r.count, skipped: r.skipped }
}
