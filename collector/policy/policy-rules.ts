/** Does an allow rule permit an edge? Pure. */
import type { PolicyRule } from './policy-config.js'

export interface Edge { from: string; to: string; proto: string; port: number; service: string }

function portMatches(spec: string, proto: string, port: number): boolean {
  if (spec === 'any') return true
  if (spec === 'icmp') return proto === 'icmp'
  const [p, range] = spec.split('/') as [string, string]
  if (p !== proto) return false
  if (range === 'any') return true
  const dash = range.indexOf('-')
  if (dash === -1) return Number(range) === port
  return port >= Number(range.slice(0, dash)) && port <= Number(range.slice(dash + 1))
}

export function ruleAllows(r: PolicyRule, e: Edge): boolean {
  if ((r.from !== '*' && r.from !== e.from) || (r.to !== '*' && r.to !== e.to)) return false
  if (r.ports.length === 0 && r.services.length === 0) return true
  for (const p of r.ports) if (portMatches(p, e.proto, e.port)) return true
  if (e.service !== '') for (const s of e.service.split(',')) if (r.services.includes(s)) return true
  return false
}

export function edgeAllowed(rules: readonly PolicyRule[], e: Edge, intraZone: boolean): boolean {
  if (intraZone && e.from === e.to) return true
  for (const r of rules) if (ruleAllows(r, e)) return true
  return false
}

export function portSpec(proto: string, port: number): string {
  return proto === 'icmp' ? 'icmp' : proto === 'tcp' || proto === 'udp' ? `${proto}/${port}` : 'any'
}
