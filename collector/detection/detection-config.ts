/**
 * The `detection` section of the collector configuration (TypeBox, defaults in the schema).
 * Every threshold of every detector is here; docs/detection.md explains each.
 */
import { Type, type Static } from '@sinclair/typebox'

const obj = <T extends Parameters<typeof Type.Object>[0]>(props: T, description?: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, ...(description ? { description } : {}) })
const int = (def: number, min = 0, description?: string) => Type.Integer({ minimum: min, default: def, ...(description ? { description } : {}) })
const num = (def: number, min = 0, description?: string) => Type.Number({ minimum: min, default: def, ...(description ? { description } : {}) })
const bool = (def: boolean, description?: string) => Type.Boolean({ default: def, ...(description ? { description } : {}) })
const strings = (def: string[], description?: string) => Type.Array(Type.String(), { default: def, ...(description ? { description } : {}) })
const ints = (def: number[], description?: string) => Type.Array(Type.Integer({ minimum: 0, maximum: 65535 }), { default: def, ...(description ? { description } : {}) })

export const DetectionConfigSchema = obj({
  enabled: bool(true),
  local_nets: strings(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'],
    'networks counted as local when a flow does not carry local_orig/local_resp'),
  queue_batches: int(64, 1, 'batches waiting for detection in memory (each holds its decoded flows); when full, detection reads the batches it has not examined back from the store until it has caught up (nothing is skipped)'),
  max_keys: int(200_000, 100, 'per detector: tracked keys (hosts, pairs…); when full, the oldest-inserted tenth is evicted and counted (insertion order, not recency)'),
  state_save_interval_s: int(300, 0, 'what detectors learned (new_device devices, rogue_dhcp servers, exfiltration baselines) is saved this often and at stop, and restored at start; 0 = not kept across restarts'),
  capture_loss_confidence_factor: num(0.5, 0, 'confidence is multiplied by this when the evidence period overlaps reported capture loss or gaps'),
  port_scan: obj({
    enabled: bool(true),
    ports: int(15, 2, 'distinct failed/unanswered ports on one target'),
    window_s: int(300, 1),
    slow_ports: int(15, 2, 'same count over the slow window'),
    slow_window_s: int(6 * 3600, 1),
  }),
  address_scan: obj({
    enabled: bool(true),
    hosts: int(25, 2, 'distinct failed/unanswered targets on one port'),
    window_s: int(300, 1),
    slow_hosts: int(25, 2),
    slow_window_s: int(6 * 3600, 1),
  }),
  bruteforce: obj({
    enabled: bool(true),
    failures: int(30, 2, 'failed attempts (Zeek SSH::password_guesses_limit)'),
    window_s: int(1800, 1),
    auth_ports: ints([22, 21, 23, 3389, 110, 143, 445, 5900], 'ports of authentication services'),
    max_session_s: num(30, 0, 'a session shorter than this with little data counts as a failed attempt'),
    max_session_bytes: int(6000, 0, 'client + server payload bytes below which a short session counts as failed'),
  }),
  beaconing: obj({
    enabled: bool(true),
    min_connections: int(20, 4),
    min_span_s: int(1800, 1, 'connections must cover at least this long'),
    max_jitter: num(0.2, 0, 'largest relative spread (MAD / median interval) still called periodic'),
    min_interval_s: num(5, 0, 'intervals shorter than this are bursts, not beacons'),
    min_score: int(70, 0),
    history: int(64, 8, 'start times kept per (source, destination, port)'),
    ignore_ports: ints([53, 123, 67, 68, 137, 138, 5353, 1900], 'destination ports never called beacons (DNS, NTP, DHCP, NetBIOS, mDNS, SSDP)'),
    external_only: bool(true, 'only beacons from a local host to a non-local destination'),
  }),
  dns_tunnel: obj({
    enabled: bool(true),
    window_s: int(3600, 1),
    min_queries: int(300, 1, 'DNS flows from one host to one resolver in the window before volume counts'),
    min_query_bytes: int(90, 1, 'mean bytes per query packet (client payload / client packets) of tunnel traffic'),
    min_volume_bytes: int(100_000, 1, 'client DNS payload bytes in the window'),
    unique_subdomains: int(200, 2, 'distinct names under one registered domain in the window'),
    long_label: int(40, 1, 'label length counted as long'),
    entropy: num(3.5, 0, 'Shannon entropy (bits/char) of a long label counted as encoded data'),
    encoded_labels: int(30, 1, 'distinct long high-entropy labels under one registered domain in the window'),
    txt_queries: int(50, 1, 'TXT or NULL queries from one client for distinct names under one registered domain in the window (from the agent\'s dns rows)'),
  }),
  exfiltration: obj({
    enabled: bool(true),
    window_s: int(3600, 60, 'volume bucket (and baseline unit)'),
    absolute_bytes: int(1_000_000_000, 1, 'outbound bytes to one external destination in one window that always alert'),
    min_bytes: int(50_000_000, 1, 'smallest volume compared against the baseline'),
    baseline_factor: num(10, 1, 'alert when volume ≥ factor × the host\'s mean outbound volume per window'),
    baseline_windows: int(3, 1, 'windows of history before the baseline is trusted'),
  }),
  arp_spoof: obj({
    enabled: bool(true),
    gateways: strings([], 'gateway addresses (a second MAC for one of these is critical)'),
    rebind_grace_s: int(600, 1, 'a different MAC within this time of the previous one is a conflict; later it is a re-assignment'),
    use_flow_macs: bool(true, 'also take IP↔MAC bindings of local addresses from flows'),
  }),
  rogue_dhcp: obj({
    enabled: bool(true),
    allowed_servers: strings([], 'known DHCP servers; when empty, servers seen in the learning period are known'),
    learning_s: int(3600, 0),
  }),
  new_device: obj({
    enabled: bool(true),
    learning_s: int(86_400, 0, 'devices seen within this long after the first record are the baseline'),
    watched_nets: strings([], 'networks watched (default: local_nets)'),
    max_devices: int(1_000_000, 10),
  }),
  cleartext_credentials: obj({
    enabled: bool(true),
    ports: ints([21, 23, 110, 143, 513], 'ports of clear-text login protocols (FTP, telnet, POP3, IMAP, rlogin)'),
    services: strings(['ftp', 'telnet', 'pop3', 'imap', 'rlogin'], 'service names (from the flow) of clear-text login protocols'),
    min_client_bytes: int(8, 0, 'client payload needed to count as a login attempt'),
    http_basic_auth: bool(true, 'HTTP requests with Basic credentials (http rows with a username) count as clear-text logins'),
  }),
  intel_match: obj({ enabled: bool(true) }),
  policy_violation: obj({ enabled: bool(true) }),
})

export type DetectionConfig = Static<typeof DetectionConfigSchema>
