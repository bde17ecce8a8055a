/**
 * Records of the merged topology. Field names are the API's (snake_case), so records are
 * served and stored as they are. Times are integer µs since the epoch.
 */

export type L4 = 'tcp' | 'udp' | 'icmp' | 'other'

export interface HostName { name: string; source: string }
export interface HostService { port: number; proto: L4; name: string }

export interface HostRecord {
  /** Stable id: the first identity the host was known by ("10.0.0.5", "10.0.0.5%vlan7", "10.0.0.5%berlin", "mac:aa:bb:…"). */
  id: string
  /**
   * "" (global), or for a private address: "vlan<N>" when VLAN scoping is on, the reporting
   * agent's site ("berlin"), or both ("berlin/vlan7").
   */
  scope: string
  /** Addresses currently bound to this host (most recent last). */
  ips: string[]
  macs: string[]
  names: HostName[]
  vendor?: string
  services: HostService[]
  os_hints: string[]
  software: string[]
  first_seen_us: number
  last_seen_us: number
  /** Agents that saw the host (in flows or observations). */
  agents: string[]
  flows_out: number
  flows_in: number
  bytes_out: number
  bytes_in: number
  /** Ids of hosts merged into this one (an IP-only host that turned out to be this MAC). */
  merged?: string[]
}

export interface EdgeRecord {
  /** src 0x1f dst 0x1f proto 0x1f port */
  id: string
  src: string
  dst: string
  proto: L4
  port: number
  /** Services detected on the edge's flows (comma-joined per flow; most frequent first is not kept). */
  services: string[]
  flows: number
  bytes: number
  packets: number
  first_seen_us: number
  last_seen_us: number
  agents: string[]
  /** Flows also reported by another agent (counted once; the better view kept). */
  duplicate_flows: number
  /** Flows whose observing agent reported capture loss or shipping gaps around them. */
  degraded_flows: number
}

/** What the merge needs of one flow (built from the protocol Flow, see flow-view.ts). */
export interface FlowView {
  agentId: string
  tsUs: number
  endUs: number
  orig: string
  resp: string
  vlan: number | undefined
  proto: L4
  respPort: number
  service: string
  bytes: number
  packets: number
  missedBytes: number
  /** De-duplication key (flow-view.ts flowDedupKey): equal exactly when the Community IDs are; "" when none. */
  dedupKey: string
  interim: boolean
  /** The reporting agent's site ("" = none): scopes private addresses (enroll/site-name.ts). */
  site: string
}

/** What the merge needs of one host observation. */
export interface ObservationView {
  agentId: string
  /** The reporting agent's site ("" = none): scopes private addresses (enroll/site-name.ts). */
  site: string
  tsUs: number
  ip: string
  mac: string
  vlan?: number
  name: string
  nameSource: string
  software: string
  service: HostService | undefined
  osHint: string
  dhcpVendorClass: string
}

/** A period in which an agent lost records (capture drops or shipping gaps). */
export interface LossPeriod { agentId: string; fromUs: number; toUs: number; reason: string; records: number }

export const EDGE_SEP = '\u001f'
export const edgeId = (src: string, dst: string, proto: L4, port: number): string => `${src}${EDGE_SEP}${dst}${EDGE_SEP}${proto}${EDGE_SEP}${port}`
