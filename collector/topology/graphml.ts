/** GraphML of a topology selection (opens in Gephi, Cytoscape, yEd). Pure. */
import type { TopologyJson } from './topology-view.js'

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
// XML 1.0 forbids most control characters even escaped.
// eslint-disable-next-line no-control-regex -- removing control characters is the point
const clean = (s: string): string => esc(s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, ' '))

const NODE_KEYS: Array<[string, string]> = [['label', 'string'], ['ips', 'string'], ['macs', 'string'], ['names', 'string'], ['vendor', 'string'], ['services', 'int'], ['first_seen_us', 'long'], ['last_seen_us', 'long']]
const EDGE_KEYS: Array<[string, string]> = [['proto', 'string'], ['port', 'int'], ['services', 'string'], ['flows', 'long'], ['bytes', 'long'], ['packets', 'long'], ['first_seen_us', 'long'], ['last_seen_us', 'long'], ['agents', 'string'], ['confidence', 'string']]

export function toGraphml(t: TopologyJson): string {
  const out: string[] = []
  out.push('<?xml version="1.0" encoding="UTF-8"?>')
  out.push('<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">')
  for (const [k, ty] of NODE_KEYS) out.push(`  <key id="n_${k}" for="node" attr.name="${k}" attr.type="${ty}"/>`)
  for (const [k, ty] of EDGE_KEYS) out.push(`  <key id="e_${k}" for="edge" attr.name="${k}" attr.type="${ty}"/>`)
  out.push('  <graph id="telltale" edgedefault="directed">')
  for (const n of t.nodes) {
    out.push(`    <node id="${clean(n.id)}">`)
    const v: Record<string, string | number> = { label: n.label, ips: n.ips.join(' '), macs: n.macs.join(' '), names: n.names.join(' '), vendor: n.vendor ?? '', services: n.services, first_seen_us: n.first_seen_us, last_seen_us: n.last_seen_us }
    for (const [k] of NODE_KEYS) out.push(`      <data key="n_${k}">${clean(String(v[k]))}</data>`)
    out.push('    </node>')
  }
  for (const e of t.edges) {
    out.push(`    <edge id="${clean(e.id)}" source="${clean(e.source)}" target="${clean(e.target)}">`)
    const v: Record<string, string | number> = { proto: e.proto, port: e.port, services: e.services.join(','), flows: e.flows, bytes: e.bytes, packets: e.packets, first_seen_us: e.first_seen_us, last_seen_us: e.last_seen_us, agents: e.agents.join(' '), confidence: e.confidence }
    for (const [k] of EDGE_KEYS) out.push(`      <data key="e_${k}">${clean(String(v[k]))}</data>`)
    out.push('    </edge>')
  }
  out.push('  </graph>')
  out.push('</graphml>')
  return `${out.join('\n')}\n`
}
