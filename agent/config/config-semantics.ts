/**
 * Checks of config values the schema cannot express: the collector URL, local networks,
 * the inventory cron expression and the capture filter. Run by loadConfig once the schema
 * is satisfied, so `check-config` (and the start of `run`) report them with their key and
 * line, all at once, instead of `run` failing on the first one after enrollment.
 */
import cron from 'node-cron'
import { captureFilterProblem } from '../capture/filter-check.js'
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL } from '../capture/link-types.js'
import { collectorUrlProblem } from '../ship/collector-url.js'
import { LocalNets } from '../flow/local-nets.js'
import type { AgentConfig } from './agent-config-schema.js'

/** LINKTYPE_IEEE802_11_RADIOTAP (not a link type the decoder reads; only for checking filters). */
const LINKTYPE_IEEE802_11_RADIOTAP = 127

export interface SemanticProblem { path: string[]; message: string }

export function semanticProblems(c: AgentConfig): SemanticProblem[] {
  const problems: SemanticProblem[] = []
  if (c.collector.url !== '') {
    const bad = collectorUrlProblem(c.collector.url)
    if (bad !== undefined) problems.push({ path: ['collector', 'url'], message: bad })
  }
  c.flows.local_nets.forEach((cidr, i) => {
    try {
      new LocalNets([cidr])
    } catch (err) {
      problems.push({ path: ['flows', 'local_nets', String(i)], message: (err as Error).message })
    }
  })
  if (!cron.validate(c.heartbeat.inventory_cron)) {
    problems.push({ path: ['heartbeat', 'inventory_cron'], message: `"${c.heartbeat.inventory_cron}" is not a cron expression (minute hour day-of-month month day-of-week, e.g. "0 * * * *")` })
  }
  if (c.capture.interfaces.length > 0 || c.capture.filter !== '') {
    // The interfaces' link types are only known at open: an expression is refused here only
    // when it compiles for none of Ethernet, Linux cooked (any) and 802.11 radiotap (monitor).
    const bad = captureFilterProblem(c.capture.filter, [LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_IEEE802_11_RADIOTAP], c.capture.snaplen)
    if (bad !== undefined) problems.push({ path: ['capture', 'filter'], message: `bad capture filter "${c.capture.filter}": ${bad}; check the expression against pcap-filter(7)` })
  }
  return problems
}
