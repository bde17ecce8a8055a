/**
 * Learn mode's output: the allow rules observed traffic needs, as YAML for the `policy`
 * section, and a line diff against the rules configured now ("+" rules to add, "-" rules
 * no traffic used), for review before switching to enforce. Pure.
 */
import { stringify } from 'yaml'
import type { PolicyRule } from './policy-config.js'
import type { LearnedEdge } from './policy-detector.js'

const MAX_PORTS_PER_EDGE = 32

export function proposeRules(edges: readonly LearnedEdge[]): PolicyRule[] {
  const byPair = new Map<string, { from: string; to: string; ports: Map<string, number> }>()
  for (const e of edges) {
    const k = `${e.from}>${e.to}`
    let p = byPair.get(k)
    if (p === undefined) { p = { from: e.from, to: e.to, ports: new Map() }; byPair.set(k, p) }
    p.ports.set(e.port, (p.ports.get(e.port) ?? 0) + e.flows)
  }
  const rules: PolicyRule[] = []
  for (const p of [...byPair.values()].sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to))) {
    const ports = [...p.ports.keys()].sort(comparePorts)
    const flows = [...p.ports.values()].reduce((a, b) => a + b, 0)
    rules.push(ports.length > MAX_PORTS_PER_EDGE
      ? { from: p.from, to: p.to, ports: ['any'], services: [], comment: `learned: ${flows} flows on ${ports.length} ports (review: too many to list)` }
      : { from: p.from, to: p.to, ports, services: [], comment: `learned: ${flows} flows` })
  }
  return rules
}

function comparePorts(a: string, b: string): number {
  const [pa, na] = a.split('/'); const [pb, nb] = b.split('/')
  return (pa ?? '').localeCompare(pb ?? '') || Number(na ?? 0) - Number(nb ?? 0)
}

function ruleLines(r: PolicyRule): string[] {
  const ports = r.ports.length > 0 ? r.ports : ['(services) ' + r.services.join(',')]
  return ports.map((p) => `${r.from} -> ${r.to} ${p}`)
}

export interface PolicyProposal { yaml: string; diff: string; add: number; unused: number }

export function policyProposal(current: readonly PolicyRule[], edges: readonly LearnedEdge[]): PolicyProposal {
  const proposed = proposeRules(edges)
  const cur = new Set(current.flatMap(ruleLines))
  const next = new Set(proposed.flatMap(ruleLines))
  const lines: string[] = ['--- policy.allowed (configured)', '+++ policy.allowed (learned from traffic)']
  let add = 0; let unused = 0
  for (const l of [...new Set([...cur, ...next])].sort()) {
    if (cur.has(l) && next.has(l)) lines.push(`  ${l}`)
    else if (next.has(l)) { lines.push(`+ ${l}`); add++ } else { lines.push(`- ${l}`); unused++ }
  }
  return { yaml: stringify({ policy: { allowed: proposed } }), diff: lines.join('\n') + '\n', add, unused }
}
