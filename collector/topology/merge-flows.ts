/**
 * The per-flow part of a batch merge (pure, in memory): each stored flow record goes to the
 * /flows/top roll-ups (every record, as the raw scan counts them) and, when it has two
 * addresses, to the topology model. TopologyService calls it for every durable batch; the
 * merge bench calls it alone.
 *
 * `notAfterUs`: no flow moves a host's or edge's first/last seen past this (the batch's
 * receive time plus a tolerance): an agent whose clock runs ahead would otherwise pin them in
 * the future. The roll-ups keep the flow's own time, as the raw /flows scan does.
 *
 * `site`: the agent's site ("" = none), which scopes the flows' private addresses.
 */
import type { FlowRecord } from '../ingest/flow-decode.js'
import { ipText } from './addresses.js'
import { flowView, newFlowParts } from './flow-view.js'
import type { TopRollups } from './top-rollups.js'
import type { TopologyModel } from './topology-model.js'

/** The one view the merge refills per flow (flowView; the merge is synchronous per slice). */
const parts = newFlowParts()

export function mergeFlows(m: TopologyModel, tops: TopRollups, agentId: string, flows: readonly FlowRecord[], from = 0, to = flows.length, notAfterUs = Number.MAX_SAFE_INTEGER, site = ''): void {
  agentId = m.agentText(agentId)
  for (let i = from; i < to; i++) {
    const f = flows[i]!
    if (flowView(agentId, f, parts)) {
      const w = parts.view
      w.site = site
      tops.add(w.tsUs, w.orig, w.resp, w.service, f.proto, w.respPort, w.bytes, w.packets)
      if (w.endUs > notAfterUs) { w.endUs = notAfterUs; if (w.tsUs > notAfterUs) w.tsUs = notAfterUs }
      m.flow(w, parts.established, parts.origBytes, parts.respBytes)
    } else {
      tops.add(f.tsUs, ipText(f.origH), ipText(f.respH), f.service, f.proto, f.respP, f.origIpBytes + f.respIpBytes, f.origPkts + f.respPkts)
    }
  }
}
