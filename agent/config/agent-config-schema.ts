/**
 * The agent's configuration (`/etc/telltale/agent.yaml`): one TypeBox schema with the
 * defaults in it, `additionalProperties: false` everywhere so a misspelt key is an error,
 * not a silently ignored line. Keys are snake_case; every leaf can be overridden by a flag
 * (`--ship-max-batch-bytes`) and an environment variable (`TELLTALE_SHIP_MAX_BATCH_BYTES`),
 * see config-overrides.ts. docs/agent.md is the reference for each key.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox'
import { APP_LOG_NAMES } from '../app/app-log-names.js'
import { LOG_TYPES } from '../logs/parse/parse-line.js'

const obj = <T extends Record<string, TSchema>>(props: T, description: string) =>
  Type.Object(props, { additionalProperties: false, default: {}, description })
const int = (def: number, min: number, max: number, description: string) =>
  Type.Integer({ default: def, minimum: min, maximum: max, description })
const str = (def: string, description: string) => Type.String({ default: def, description })
const bool = (def: boolean, description: string) => Type.Boolean({ default: def, description })
const strings = (description: string) => Type.Array(Type.String(), { default: [], description })
const oneOf = <const T extends string>(values: readonly T[], def: T, description: string) =>
  Type.Union(values.map((v) => Type.Literal(v)), { default: def, description })

const logFile = Type.Object({
  name: Type.String({ minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'names the checkpoint file' }),
  include: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'path globs' }),
  exclude: strings('globs excluded after expansion'),
  type: oneOf(LOG_TYPES, 'auto', 'log format (see docs/logs.md)'),
}, { additionalProperties: false })

export const AgentConfigSchema = Type.Object({
  state_dir: str('/var/lib/telltale-agent', 'identity, spool and log checkpoints'),
  log_level: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], 'info', 'pino log level'),
  collector: obj({
    url: str('', 'collector base URL, e.g. https://collector.example:8270'),
    enroll_token: str('', 'enrollment token, used once when the state directory holds no identity'),
    ca_file: str('', 'PEM CA bundle the collector certificate must chain to (pinned)'),
    cert_file: str('', 'client certificate (PEM) for mutual TLS'),
    key_file: str('', 'client key (PEM) for mutual TLS'),
    request_timeout_ms: int(30_000, 1000, 600_000, 'per request'),
  }, 'where to ship'),
  capture: obj({
    interfaces: strings('interfaces to capture on; empty = no packet capture'),
    filter: str('', 'BPF filter (pcap-filter(7)); reloaded on SIGHUP'),
    snaplen: int(262_144, 64, 262_144, 'bytes kept per packet'),
    promisc: bool(true, 'promiscuous mode'),
    buffer_size: int(32 * 1024 * 1024, 65_536, 2 ** 31 - 1, 'kernel buffer per interface, bytes'),
    backend: oneOf(['pcap', 'cap'], 'pcap', 'libpcap binding (docs/capture.md)'),
    ignore_checksums: bool(true, 'accept packets with bad checksums (NIC offload makes local ones look bad; docs/flows.md)'),
  }, 'live packet capture'),
  flows: obj({
    local_nets: strings('local networks (CIDR); empty = private address space'),
    max_flows: int(1_000_000, 1000, 50_000_000, 'flows tracked at once'),
    active_timeout_s: int(300, 0, 86_400, 'interim records every N s for long-lived flows (the collector replaces them by the final record); 0 = off'),
    app: bool(true, 'application-layer analysis (dns, http, tls, ssh…)'),
    observations: bool(true, 'ship host observations'),
    app_logs: Type.Array(Type.Union(APP_LOG_NAMES.map((v) => Type.Literal(v))), {
      default: [...APP_LOG_NAMES],
      description: `application logs whose rows are shipped (AppRecords): any of ${APP_LOG_NAMES.join(', ')}; default all, [] = none`,
    }),
  }, 'flow table'),
  logs: obj({
    files: Type.Array(logFile, { default: [], description: 'file log sources; reloaded on SIGHUP' }),
    journald: obj({
      enabled: bool(false, 'follow journald'),
      matches: strings('journalctl matches, e.g. _SYSTEMD_UNIT=ssh.service'),
    }, 'journald source'),
    queue_capacity: int(4096, 16, 1_000_000, 'events read ahead per source'),
  }, 'log sources'),
  ship: obj({
    max_batch_bytes: int(512 * 1024, 4096, 8 * 1024 * 1024, 'close a batch at this encoded size'),
    max_batch_records: int(20_000, 1, 1_000_000, 'close a batch at this many records'),
    max_delay_ms: int(1000, 10, 60_000, 'close a batch this long after its first record'),
    max_pending_bytes: int(64 * 1024 * 1024, 65_536, 2 ** 40, 'closed batches waiting for the spool'),
    spool_max_bytes: int(1024 * 1024 * 1024, 1024 * 1024, 2 ** 50, 'spool size limit (gzipped batches)'),
    spool_sync: bool(true, 'fsync every spool write'),
    gzip_level: int(6, 1, 9, 'compression level of the flow chunks and of the rest of each batch (1 fastest, 9 smallest)'),
    max_in_flight: int(4, 1, 64, 'batches sent at once'),
    retry_initial_ms: int(250, 1, 600_000, 'first retry delay'),
    retry_max_ms: int(30_000, 10, 3_600_000, 'retry delay cap'),
  }, 'batching, spool and transport'),
  heartbeat: obj({
    interval_s: int(30, 1, 3600, 'heartbeat (self-stats) period'),
    inventory_cron: str('0 * * * *', 'when the host inventory is sent (cron, node-cron syntax); also at start'),
  }, 'heartbeat and inventory'),
}, { additionalProperties: false })

export type AgentConfig = Static<typeof AgentConfigSchema>
