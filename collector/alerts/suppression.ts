/** Suppression rules: a finding matching every field a live rule sets is not alerted. Pure. */
import type { Finding } from '../detection/detection-types.js'
import type { SuppressionRule } from './alert-types.js'

export function ruleMatches(r: SuppressionRule, f: Pick<Finding, 'type' | 'src' | 'dst' | 'port'>, nowMs: number): boolean {
  if (Date.parse(r.expires_at) <= nowMs) return false
  if (r.type !== undefined && r.type !== f.type) return false
  if (r.src !== undefined && r.src !== f.src) return false
  if (r.dst !== undefined && r.dst !== f.dst) return false
  if (r.port !== undefined && r.port !== f.port) return false
  return true
}

export function suppressedBy(rules: Iterable<SuppressionRule>, f: Pick<Finding, 'type' | 'src' | 'dst' | 'port'>, nowMs: number): SuppressionRule | undefined {
  for (const r of rules) if (ruleMatches(r, f, nowMs)) return r
  return undefined
}
