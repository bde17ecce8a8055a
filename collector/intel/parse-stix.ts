/**
 * STIX 2.1 bundles: every `indicator` object with `pattern_type` stix (or none) whose
 * pattern holds equality (`=`) or `ISSUBSET` comparisons on ipv4-addr / ipv6-addr /
 * domain-name / url values, x509-certificate hashes, or JA3/JA4 (custom x-ja3 / x-ja4 or
 * network-traffic extension properties ending in ja3 / ja4). Revoked indicators and those
 * past `valid_until` are skipped. Each comparison becomes one indicator: AND-combined
 * observation expressions are matched as if OR-combined (a documented over-match).
 */
import { classify, normalise } from './classify-value.js'
import type { Indicator, IndicatorKind } from './indicator-types.js'

const COMPARISON = /([a-z0-9_-]+):([A-Za-z0-9_.'-]+)\s*(=|ISSUBSET)\s*'((?:[^'\\]|\\.)*)'/g

function kindOf(obj: string, path: string): IndicatorKind | undefined {
  const p = path.toLowerCase()
  if (obj === 'ipv4-addr' || obj === 'ipv6-addr') return 'ip'
  if (obj === 'domain-name') return 'domain'
  if (obj === 'url') return 'url'
  if (obj === 'x509-certificate' && p.startsWith('hashes.')) return 'cert_hash'
  if (p.endsWith('ja3') || obj === 'x-ja3' || p.includes('ja3')) return 'ja3'
  if (p.endsWith('ja4') || obj === 'x-ja4' || p.includes('ja4')) return 'ja4'
  return undefined
}

export function parseStixPattern(pattern: string, label: string, sink: (ind: Indicator) => void): number {
  let n = 0
  for (const m of pattern.matchAll(COMPARISON)) {
    const kind = kindOf(m[1]!, m[2]!)
    if (kind === undefined) continue
    const raw = m[4]!.replace(/\\(.)/g, '$1')
    let ind: Indicator | undefined
    if (kind === 'ip') ind = classify(raw, label)
    else {
      const v = normalise(kind, raw)
      if (v !== undefined) ind = { kind, value: v, label }
    }
    if (ind !== undefined) { sink(ind); n++ }
  }
  return n
}

interface StixObject { type?: unknown; pattern?: unknown; pattern_type?: unknown; name?: unknown; revoked?: unknown; valid_until?: unknown; indicator_types?: unknown; objects?: unknown }

export function parseStix(doc: unknown, sink: (ind: Indicator) => void, nowMs = Date.now()): { count: number; skipped: number } {
  let count = 0; let skipped = 0
  const objects = Array.isArray((doc as StixObject).objects) ? (doc as { objects: StixObject[] }).objects : Array.isArray(doc) ? doc as StixObject[] : [doc as StixObject]
  for (const o of objects) {
    if (o === null || typeof o !== 'object' || o.type !== 'indicator') continue
    if (typeof o.pattern !== 'string' || (o.pattern_type !== undefined && o.pattern_type !== 'stix')) { skipped++; continue }
    if (o.revoked === true) { skipped++; continue }
    if (typeof o.valid_until === 'string' && Date.parse(o.valid_until) < nowMs) { skipped++; continue }
    const label = typeof o.name === 'string' ? o.name : Array.isArray(o.indicator_types) ? o.indicator_types.join(',') : ''
    const n = parseStixPattern(o.pattern, label.slice(0, 200), sink)
    if (n === 0) skipped++
    count += n
  }
  return { count, skipped }
}
