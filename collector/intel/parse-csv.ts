/**
 * CSV and plain-list feeds: one indicator per line; `#` and `//` comments and blank lines
 * skipped. With a header row naming an indicator column (indicator, value, ioc, ip,
 * domain, url, …) that column is read, a `type` column gives the kind and a
 * description/threat/tags column the label; without one the first field of each line is
 * classified by its shape. Streaming over the text: no array of lines is built.
 */
import { classify, normalise } from './classify-value.js'
import type { IndicatorKind, Indicator } from './indicator-types.js'

const VALUE_COLS = ['indicator', 'value', 'ioc', 'observable', 'ip', 'ip_address', 'address', 'domain', 'url', 'hash', 'dst_ip', 'host']
const TYPE_COLS = ['type', 'indicator_type', 'ioc_type', 'kind']
const LABEL_COLS = ['description', 'threat', 'threat_type', 'malware', 'label', 'tags', 'comment', 'category']

const TYPE_NAMES: Record<string, IndicatorKind> = {
  ip: 'ip', ipv4: 'ip', ipv6: 'ip', 'ip-src': 'ip', 'ip-dst': 'ip', ipv4_addr: 'ip', 'ipv4-addr': 'ip', 'ipv6-addr': 'ip',
  cidr: 'cidr', network: 'cidr', netblock: 'cidr', subnet: 'cidr',
  domain: 'domain', hostname: 'domain', fqdn: 'domain', 'domain-name': 'domain',
  url: 'url', uri: 'url', ja3: 'ja3', 'ja3-fingerprint-md5': 'ja3', ja4: 'ja4',
  cert: 'cert_hash', cert_hash: 'cert_hash', 'x509-fingerprint-sha1': 'cert_hash', 'x509-fingerprint-sha256': 'cert_hash', sha1: 'cert_hash', sha256: 'cert_hash',
}

export function kindFromTypeName(t: string): IndicatorKind | undefined {
  return TYPE_NAMES[t.trim().toLowerCase()]
}

/** Splits one CSV line (double quotes, "" escapes; also tab- or semicolon-separated). */
export function splitCsv(line: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''; let q = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (q) {
      if (c === '"') { if (line[i + 1] === '"') { cur += '"'; i++ } else q = false } else cur += c
    } else if (c === '"') q = true
    else if (c === sep) { out.push(cur.trim()); cur = '' } else cur += c
  }
  out.push(cur.trim())
  return out
}

export function parseCsv(text: string, sink: (ind: Indicator) => void): { count: number; skipped: number } {
  let count = 0; let skipped = 0
  let valueCol = 0; let typeCol = -1; let labelCol = -1; let sep = ','
  let first = true
  let start = 0
  while (start <= text.length) {
    let end = text.indexOf('\n', start)
    if (end === -1) end = text.length
    let line = text.slice(start, end)
    start = end + 1
    if (line.endsWith('\r')) line = line.slice(0, -1)
    const t = line.trim()
    if (t === '' || t.startsWith('#') || t.startsWith('//')) { if (end === text.length) break; continue }
    if (first) {
      first = false
      sep = t.includes('\t') ? '\t' : t.includes(',') ? ',' : t.includes(';') ? ';' : ','
      const cols = splitCsv(t, sep).map((c) => c.toLowerCase())
      const vi = cols.findIndex((c) => VALUE_COLS.includes(c))
      if (vi !== -1) {
        valueCol = vi
        typeCol = cols.findIndex((c) => TYPE_COLS.includes(c))
        labelCol = cols.findIndex((c) => LABEL_COLS.includes(c))
        continue
      }
    }
    const fields = sep === ',' && !t.includes(',') ? [t] : splitCsv(t, sep)
    const raw = fields[valueCol] ?? ''
    const label = labelCol >= 0 ? (fields[labelCol] ?? '') : ''
    let ind: Indicator | undefined
    const kind = typeCol >= 0 ? kindFromTypeName(fields[typeCol] ?? '') : undefined
    if (kind !== undefined) {
      const v = normalise(kind, raw)
      ind = v === undefined ? classify(raw, label) : { kind, value: v, label }
    } else ind = classify(raw.split(/\s/)[0] ?? '', label)
    if (ind === undefined) skipped++
    else { sink(ind); count++ }
    if (end === text.length) break
  }
  return { count, skipped }
}
