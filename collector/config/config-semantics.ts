/**
 * Checks of collector config values the schema cannot express: the retention cron, CORS
 * origins, networks and addresses the detectors and the policy use, and the zones the
 * policy rules name. Run by loadConfig once the schema is satisfied, so `check-config` and
 * `serve` report every one with its key and line. Before, a bad cron stopped `serve` with a
 * node-cron stack trace and a bad CIDR was silently left out of its set (CidrSet.add).
 */
import ipaddr from 'ipaddr.js'
import cron from 'node-cron'
import { CidrSet } from '../detection/net-match.js'
import type { CollectorConfig } from './config-schema.js'

export interface SemanticProblem { path: string[]; message: string }

function cidrs(list: readonly string[], path: string[], out: SemanticProblem[]): void {
  const set = new CidrSet([])
  list.forEach((c, i) => {
    if (!set.add(c)) out.push({ path: [...path, String(i)], message: `"${c}" is not a network (CIDR such as 10.0.0.0/8 or fd00::/8, or an address)` })
  })
}

function addresses(list: readonly string[], path: string[], out: SemanticProblem[]): void {
  list.forEach((a, i) => {
    if (!ipaddr.IPv4.isValidFourPartDecimal(a) && !(a.includes(':') && ipaddr.IPv6.isValid(a))) out.push({ path: [...path, String(i)], message: `"${a}" is not an IP address` })
  })
}

export function semanticProblems(c: CollectorConfig): SemanticProblem[] {
  const out: SemanticProblem[] = []
  if (!cron.validate(c.retention.schedule)) {
    out.push({ path: ['retention', 'schedule'], message: `"${c.retention.schedule}" is not a cron expression (minute hour day-of-month month day-of-week, e.g. "17 * * * *")` })
  }
  c.api.cors_origins.forEach((o, i) => {
    if (o !== '*' && !/^https?:\/\/[^/\s?#]+$/.test(o)) out.push({ path: ['api', 'cors_origins', String(i)], message: `"${o}" is not an origin: scheme://host[:port] without a path (e.g. https://soc.example), or "*"` })
  })
  const d = c.detection
  cidrs(d.local_nets, ['detection', 'local_nets'], out)
  cidrs(d.new_device.watched_nets, ['detection', 'new_device', 'watched_nets'], out)
  addresses(d.arp_spoof.gateways, ['detection', 'arp_spoof', 'gateways'], out)
  addresses(d.rogue_dhcp.allowed_servers, ['detection', 'rogue_dhcp', 'allowed_servers'], out)
  const zones = new Set<string>()
  c.policy.zones.forEach((z, i) => {
    if (zones.has(z.name)) out.push({ path: ['policy', 'zones', String(i), 'name'], message: `zone "${z.name}" is defined twice` })
    zones.add(z.name)
    cidrs(z.cidrs, ['policy', 'zones', String(i), 'cidrs'], out)
  })
  zones.add(c.policy.default_zone)
  c.policy.allowed.forEach((r, i) => {
    for (const k of ['from', 'to'] as const) {
      if (r[k] !== '*' && !zones.has(r[k])) out.push({ path: ['policy', 'allowed', String(i), k], message: `"${r[k]}" is no zone (zones: ${[...zones].join(', ')}, or "*")` })
    }
    r.ports.forEach((p, j) => {
      const m = /^(?:tcp|udp)\/(\d+)(?:-(\d+))?$/.exec(p)
      if (m === null) return
      const lo = Number(m[1])
      const hi = m[2] === undefined ? lo : Number(m[2])
      if (lo > 65535 || hi > 65535 || lo > hi) out.push({ path: ['policy', 'allowed', String(i), 'ports', String(j)], message: `"${p}": ports are 0-65535, low-high` })
    })
  })
  return out
}
