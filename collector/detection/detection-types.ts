/**
 * What detectors see and what they report. Detectors are pure, bounded-state components:
 * they are fed records in time order (µs since the epoch, from the records themselves —
 * never the wall clock), keep at most a configured number of keys (oldest evicted and
 * counted), and report `Finding`s through an `emit` callback. They never do I/O.
 */

/** A flow as detectors read it: addresses as text, conn_state as Zeek's name. */
export interface DetectionFlow {
  agentId: string
  tsUs: number
  /** ts + duration. */
  endUs: number
  origH: string
  origP: number
  respH: string
  respP: number
  /** IPv4 address as an unsigned 32-bit number; -1 for IPv6 (fast CIDR checks). */
  origV4: number
  respV4: number
  /** The addresses' wire bytes when the view has them (IPv6 CIDR checks without a parse, net-match hasAddr). */
  readonly origAddr?: Uint8Array
  readonly respAddr?: Uint8Array
  /** 'tcp' | 'udp' | 'icmp' | '' */
  proto: string
  /** Zeek conn_state ('S0', 'SF', 'REJ', …; '' when unset). */
  connState: string
  history: string
  durationUs: number
  origBytes: number
  respBytes: number
  origPkts: number
  respPkts: number
  /** Comma-joined service names as Zeek writes them ('' when none). */
  service: string
  uid: string
  /** Community ID, computed lazily (it costs a SHA-1). */
  communityId: () => string
  /** 'aa:bb:…' or '' */
  origMac: string
  respMac: string
  /** The MACs as 48-bit numbers (-1 when absent): cheap map keys. */
  origMacN: number
  respMacN: number
  localOrig: boolean | undefined
  localResp: boolean | undefined
  vlan: number | undefined
  missedBytes: number
  /** An interim record of a long flow (counters are running totals). */
  interim: boolean
}

/** A log event (ECS names, as shipped in LogEvent). */
export interface DetectionEvent {
  agentId: string
  tsUs: number
  eventId: string
  dataset: string
  category: readonly string[]
  action: string
  outcome: string
  sourceIp: string
  destinationIp: string
  destinationPort: number
  userName: string
  hostName: string
  urlOriginal: string
  urlDomain: string
}

/** A host observation (asset facts: IP↔MAC, names, software). */
export interface DetectionObservation {
  agentId: string
  tsUs: number
  ip: string
  mac: string
  name: string
  /** 'dhcp' | 'dns_ptr' | 'dns_a' | 'mdns' | 'netbios' | 'ssl_sni' | 'http_host' | '' */
  nameSource: string
  iface: string
}

/**
 * An application-log row the agent's analyzers wrote (AppRecord: dns, http, ssl, x509, ssh,
 * dhcp, ftp, …). Index keys are plain fields; the row's other columns (Zeek's field names:
 * `query`, `qtype_name`, `server_name`, `ja3`, `username`, …) are read with `str`/`strs`,
 * which parse the row's Zeek JSON on first use. A value of another type reads as '' / [].
 */
export interface DetectionAppRecord {
  agentId: string
  /** Zeek log path ('dns', 'http', 'ssl', …). */
  log: string
  tsUs: number
  uid: string
  /** id.orig_h / id.resp_h as text ('' when the row has none). */
  origH: string
  respH: string
  respP: number
  /** A string column ('' when unset or not a string). */
  str(field: string): string
  /** A set/vector-of-strings column ([] when unset). */
  strs(field: string): readonly string[]
}

export type AlertType =
  | 'port_scan' | 'address_scan' | 'bruteforce' | 'beaconing' | 'dns_tunnel' | 'exfiltration'
  | 'arp_spoof' | 'rogue_dhcp' | 'new_device' | 'cleartext_credentials' | 'intel_match' | 'policy_violation'

export const ALERT_TYPES: readonly AlertType[] = [
  'port_scan', 'address_scan', 'bruteforce', 'beaconing', 'dns_tunnel', 'exfiltration',
  'arp_spoof', 'rogue_dhcp', 'new_device', 'cleartext_credentials', 'intel_match', 'policy_violation',
]

export type Severity = 'low' | 'medium' | 'high' | 'critical'
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical']

export interface Evidence {
  /** Flow uids (bounded per alert). */
  flowUids?: string[]
  communityIds?: string[]
  eventIds?: string[]
  /** Intel feed name and indicator that matched. */
  intelSource?: string
  indicator?: string
  /** Which agents saw the evidence. */
  agents?: string[]
}

/**
 * One piece of evidence for one incident. `key` names the incident within its type: the
 * alert manager merges findings with the same (type, key) into one alert while it is not
 * resolved (count and last_seen grow).
 */
export interface Finding {
  type: AlertType
  key: string
  severity: Severity
  /** 0–100. */
  score: number
  /** 0–1 before capture-loss adjustment. */
  confidence: number
  mitre: string
  src: string
  dst: string
  /** Port the incident is about (0 when none), for suppression scoping. */
  port: number
  firstSeenUs: number
  lastSeenUs: number
  /** How much this finding adds to the alert's count. */
  count: number
  summary: string
  evidence: Evidence
  /** Agents whose data this finding came from (capture-loss adjustment). */
  agents: string[]
  /** Set by the engine when the evidence period overlaps reported capture loss. */
  lossy?: boolean
}

export type Emit = (f: Finding) => void

/** The shape every detector has. All methods are optional except name/stateSize. */
export interface Detector {
  readonly name: string
  onFlow?(f: DetectionFlow, emit: Emit): void
  onEvent?(e: DetectionEvent, emit: Emit): void
  onObservation?(o: DetectionObservation, emit: Emit): void
  onAppRecord?(r: DetectionAppRecord, emit: Emit): void
  /**
   * Before a batch's records: the application logs (AppRecord.log) it carries rows of. A
   * detector that reads both rows and host observations uses it to prefer the rows.
   */
  appLogsOf?(agentId: string, logs: ReadonlySet<string>): void
  /** Called with the data time after each batch (expire windows). */
  tick?(nowUs: number, emit: Emit): void
  /**
   * What the detector learned that should outlive a restart (a learning period's baseline),
   * as JSON-able data; detector-state.ts saves it. Absent: nothing worth keeping (windows of
   * minutes refill by themselves).
   */
  saveState?(): unknown
  /** Restores saveState's data; false (nothing changed) for data it does not recognise. */
  loadState?(s: unknown): boolean
  /** Keys held now (for the bounded-state test and /metrics). */
  stateSize(): number
  /** Keys evicted because a bound was reached. */
  evictions(): number
}

/** MITRE ATT&CK technique per alert type. */
export const MITRE: Record<AlertType, string> = {
  port_scan: 'T1046',
  address_scan: 'T1046',
  bruteforce: 'T1110',
  beaconing: 'T1071',
  dns_tunnel: 'T1071.004',
  exfiltration: 'T1048',
  arp_spoof: 'T1557.002',
  rogue_dhcp: 'T1557.003',
  new_device: 'T1200',
  cleartext_credentials: 'T1040',
  intel_match: 'T1071',
  policy_violation: 'T1021',
}
