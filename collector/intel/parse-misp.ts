/**
 * MISP event JSON: `{ "Event": { "Attribute": [...], "Object": [{ "Attribute": [...] }] } }`,
 * a list of such events, or `{ "response": [...] }`. Attribute types read: ip-src, ip-dst
 * (and `|port` forms), domain, hostname, domain|ip, url, uri, ja3-fingerprint-md5, ja4,
 * x509-fingerprint-sha1/-sha256/-md5. Attributes with `to_ids: false` are skipped (MISP's
 * flag for "not for detection"). The label is the event's `info` and the attribute category.
 */
import { classify, normalise } from './classify-value.js'
import type { Indicator, IndicatorKind } from './indicator-types.js'

interface MispAttribute { type?: unknown; value?: unknown; to_ids?: unknown; category?: unknown; deleted?: unknown }
interface MispEvent { info?: unknown; Attribute?: unknown; Object?: unknown }

const SIMPLE: Record<string, IndicatorKind> = {
  'ip-src': 'ip', 'ip-dst': 'ip', domain: 'domain', hostname: 'domain', url: 'url', uri: 'url', link: 'url',
  'ja3-fingerprint-md5': 'ja3', ja4: 'ja4', 'ja4-fingerprint': 'ja4',
  'x509-fingerprint-sha1': 'cert_hash', 'x509-fingerprint-sha256': 'cert_hash', 'x509-fingerprint-md5': 'cert_hash',
}

function attribute(a: MispAttribute, info: string, sink: (ind: Indicator) => void): number {
  if (typeof a.type !== 'string' || typeof a.value !== 'string') return 0
  if (a.to_ids === false || a.deleted === true) return 0
  const label = `${info}${typeof a.category === 'string' ? ` (${a.category})` : ''}`.slice(0, 200)
  const parts = a.type.split('|')
  const values = a.value.split('|')
  let n = 0
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i]!
    if (t === 'port') continue
    const kind = SIMPLE[t]
    if (kind === undefined) continue
    const raw = values[i] ?? ''
    const ind = kind === 'ip' ? classify(raw, label) : ((v) => (v === undefined ? undefined : { kind, value: v, label }))(normalise(kind, raw))
    if (ind !== undefined) { sink(ind); n++ }
  }
  return n
}

export function parseMisp(doc: unknown, sink: (ind: Indicator) => void): { count: number; skipped: number } {
  let count = 0; let skipped = 0
  const d = doc as { Event?: MispEvent; response?: unknown }
  const events: MispEvent[] = Array.isArray(d.response) ? (d.response as Array<{ Event?: MispEvent }>).map((e) => e.Event ?? (e as MispEvent))
    : Array.isArray(doc) ? (doc as Array<{ Event?: MispEvent }>).map((e) => e.Event ?? (e as MispEvent))
      : [d.Event ?? (doc as MispEvent)]
  for (const ev of events) {
    if (ev === null || typeof ev !== 'object') continue
    const info = typeof ev.info === 'string' ? ev.info : ''
    const attrs: MispAttribute[] = Array.isArray(ev.Attribute) ? ev.Attribute as MispAttribute[] : []
    if (Array.isArray(ev.Object)) for (const o of ev.Object as Array<{ Attribute?: unknown }>) if (Array.isArray(o?.Attribute)) attrs.push(...(o.Attribute as MispAttribute[]))
    for (const a of attrs) {
      const n = attribute(a, info, sink)
      if (n === 0) skipped++
      count += n
    }
  }
  return { count, skipped }
}
