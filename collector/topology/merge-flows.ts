/**
 * The per-flow part of a batch merge (pure, in memory): each stored flow record goes to the
 * /flows/top roll-ups (every record, as the raw scan counts them) and, when it has two
 * addresses, to the topology model. TopologyService calls it for every durable batch; the
 * merge bench calls it alone.
 */
import type { Flow } from '../../protocol/index.js'
import { ipText } from './addresses.js'
import { flowView } from './flow-view.js'
import type { TopRollups } from './top-rollups.js'
import type { TopologyModel } from './topology-model.js'

export function mergeFlows(m: TopologyModel, tops: TopRollups, agentId: string, flows: readonly Flow[], from = 0, to = flows.length): void {
  for (let i = from; i < to; i++) {
    const f = flows[i]!
    const v = flowView(agentId, f)
    if (v !== undefined) {
      const w = v.view
      tops.add(w.tsUs, w.orig, w.resp, w.service, f.proto, w.respPort, w.bytes, w.packets)
      m.flow(w, v.established, v.origBytes, v.respBytes)
    } else {
      tops.add(f.tsUs, ipText(f.origH), ipText(f.respH), f.service, f.proto, f.respP, f.origIpBytes + f.respIpBytes, f.origPkts + f.respPkts)
    }
  }
}
