/**
 * Does an allow rule permit an edge? Pure. The rules are compiled once (port specs parsed,
 * services in a set): the enforce mode asks for every flow, so no spec is split and no edge
 * object built per flow.
 */
import type { PolicyRule } from './policy-config.js'

/** A port spec parsed: 'any', 'icmp', or a transport with a port range (lo..hi; 'tcp/any': all ports). */
interface PortSpec { any: boolean; icmp: boolean; proto: string; lo: number; hi: number }

interface CompiledRule { from: string; to: string; all: boolean; ports: PortSpec[]; services: ReadonlySet<string> }

/** 'any' | 'icmp' | 'tcp/N' | 'udp/N-M' | 'tcp/any' (the config schema's forms). */
function parsePortSpec(spec: string): PortSpec {
  if (spec === 'any') return { any: true, icmp: false, proto: '', lo: 0, hi: 0 }
  if (spec === 'icmp') return { any: false, icmp: true, proto: '', lo: 0, hi: 0 }
  const [proto, range] = spec.split('/') as [string, string | undefined]
  if (range === 'any') return { any: false, icmp: false, proto, lo: -Infinity, hi: Infinity }
  // No port (schema-invalid): NaN, which no port equals.
  if (range === undefined) return { any: false, icmp: false, proto, lo: NaN, hi: NaN }
  const dash = range.indexOf('-')
  if (dash === -1) return { any: false, icmp: false, proto, lo: Number(range), hi: Number(range) }
  return { any: false, icmp: false, proto, lo: Number(range.slice(0, dash)), hi: Number(range.slice(dash + 1)) }
}

function portMatches(s: PortSpec, proto: string, port: number): boolean {
  if (s.any) return true
  if (s.icmp) return proto === 'icmp'
  return s.proto === proto && port >= s.lo && port <= s.hi
}

/** The allow rules of a policy, compiled for per-flow checks. */
export class AllowRules {
  private readonly rules: CompiledRule[]

  constructor(rules: readonly PolicyRule[], private readonly intraZone: boolean) {
    this.rules = rules.map((r) => ({
      from: r.from, to: r.to, all: r.ports.length === 0 && r.services.length === 0,
      ports: r.ports.map(parsePortSpec), services: new Set(r.services),
    }))
  }

  /**
   * Is the edge from → to on (proto, port), with the flow's comma-joined `service` names,
   * allowed: intra-zone when that is allowed, else by a rule whose from/to match ('*': any
   * zone) and that lists no ports nor services, or a matching port, or one of the services.
   */
  allows(from: string, to: string, proto: string, port: number, service: string): boolean {
    if (this.intraZone && from === to) return true
    const rules = this.rules
    for (let i = 0; i < rules.length; i++) if (ruleAllows(rules[i]!, from, to, proto, port, service)) return true
    return false
  }
}

function ruleAllows(r: CompiledRule, from: string, to: string, proto: string, port: number, service: string): boolean {
  if ((r.from !== '*' && r.from !== from) || (r.to !== '*' && r.to !== to)) return false
  if (r.all) return true
  const ports = r.ports
  for (let i = 0; i < ports.length; i++) if (portMatches(ports[i]!, proto, port)) return true
  if (service === '' || r.services.size === 0) return false
  if (!service.includes(',')) return r.services.has(service)
  for (const s of service.split(',')) if (r.services.has(s)) return true
  return false
}

export function portSpec(proto: string, port: number): string {
  return proto === 'icmp' ? 'icmp' : proto === 'tcp' || proto === 'udp' ? `${proto}/${port}` : 'any'
}
