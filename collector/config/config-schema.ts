/**
 * The collector's configuration: one TypeBox schema with defaults, read from YAML
 * (`--config FILE`, default none), then `TELLTALE_…` environment variables, then flags
 * (later wins). Keys are snake_case; the environment name of a key is TELLTALE_ + its path
 * upper-cased and joined by "_" (ingest.max_body_bytes → TELLTALE_INGEST_MAX_BODY_BYTES).
 */
import { Type, type Static } from '@sinclair/typebox'
import { AlertsConfigSchema } from '../alerts/alerts-config.js'
import { DetectionConfigSchema } from '../detection/detection-config.js'
import { IntelConfigSchema } from '../intel/intel-config.js'
import { PolicyConfigSchema } from '../policy/policy-config.js'

const MiB = 1024 * 1024

export const ConfigSchema = Type.Object({
  listen: Type.String({ default: '127.0.0.1:8270', pattern: '^(\\[[0-9a-fA-F:.]+\\]|[^:\\s]+):\\d{1,5}$', description: 'HOST:PORT the API and ingest listen on ([v6]:port for IPv6)' }),
  data_dir: Type.String({ default: './data/collector', minLength: 1, description: 'directory of the level store (production: /var/lib/telltale-collector)' }),
  log: Type.Object({
    level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
    pretty: Type.Boolean({ default: false, description: 'short human log lines instead of JSON' }),
  }, { additionalProperties: false, default: {} }),
  ingest: Type.Object({
    max_body_bytes: Type.Integer({ minimum: 1024, maximum: 1024 * MiB, default: 16 * MiB, description: 'largest ingest body as sent (compressed)' }),
    max_decompressed_bytes: Type.Integer({ minimum: 1024, maximum: 1024 * MiB, default: 64 * MiB, description: 'largest ingest body after gzip decompression' }),
    max_flows_per_batch: Type.Integer({ minimum: 1, default: 200_000 }),
    max_entries_per_batch: Type.Integer({ minimum: 1, default: 500_000, description: 'flows + events + observations + app records + gaps + other top-level fields' }),
  }, { additionalProperties: false, default: {} }),
  storage: Type.Object({
    sync: Type.Boolean({ default: true, description: 'fsync every write before acking (durable acks); false only for tests and benches' }),
    write_buffer_mb: Type.Integer({ minimum: 1, maximum: 1024, default: 32, description: 'LevelDB write buffer (memtable) in MiB: larger means fewer level-0 compactions under ingest; up to two are in memory, and a crash replays up to one' }),
    cache_mb: Type.Integer({ minimum: 1, maximum: 16_384, default: 32, description: 'LevelDB block cache in MiB (reads: API queries, catching up)' }),
  }, { additionalProperties: false, default: {} }),
  // Issue 6: the REST API, retention and the topology merge.
  api: Type.Object({
    rate_limit_per_minute: Type.Integer({ minimum: 1, default: 1200, description: 'API requests per token (or address without one) per minute; ingest and enrollment are not limited here' }),
    cors_origins: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'origins allowed by CORS; empty = CORS off' }),
    max_page: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'largest JSON page of /flows and /events' }),
    max_export: Type.Integer({ minimum: 1, default: 1_000_000, description: 'most records of one NDJSON export' }),
    max_scan: Type.Integer({ minimum: 1000, default: 5_000_000, description: 'flows examined at most by /flows/top and raw /timeseries' }),
    max_streams: Type.Integer({ minimum: 1, maximum: 10_000, default: 100, description: 'concurrent /api/v1/stream clients' }),
    online_after_s: Type.Integer({ minimum: 1, default: 120, description: 'an agent silent for longer is offline' }),
    segment_cache_flows: Type.Integer({ minimum: 0, default: 300_000, description: 'decoded flows kept in memory for queries' }),
  }, { additionalProperties: false, default: {} }),
  tls: Type.Object({
    cert_file: Type.String({ default: '', description: 'PEM certificate chain; with key_file, the API and ingest listen with HTTPS' }),
    key_file: Type.String({ default: '', description: 'PEM private key' }),
    client_ca_file: Type.String({ default: '', description: 'PEM CA bundle; when set (with cert_file/key_file), every client must present a certificate chaining to it (mutual TLS; probes included)' }),
  }, { additionalProperties: false, default: {} }),
  retention: Type.Object({
    schedule: Type.String({ default: '17 * * * *', description: 'cron expression of the retention job (node-cron)' }),
    flows_days: Type.Number({ exclusiveMinimum: 0, default: 7 }),
    events_days: Type.Number({ exclusiveMinimum: 0, default: 30 }),
    app_records_days: Type.Number({ exclusiveMinimum: 0, default: 30, description: 'application-log rows (dns, http, ssl, …): an app segment goes when its newest row is older' }),
    topology_days: Type.Number({ exclusiveMinimum: 0, default: 90 }),
    alerts_days: Type.Number({ exclusiveMinimum: 0, default: 90 }),
    rollup_minute_days: Type.Number({ exclusiveMinimum: 0, default: 30 }),
    rollup_hour_days: Type.Number({ exclusiveMinimum: 0, default: 400 }),
  }, { additionalProperties: false, default: {} }),
  topology: Type.Object({
    scope_by_vlan: Type.Boolean({ default: false, description: 'key private addresses by VLAN too (overlapping address plans on several VLANs)' }),
    dedup_window_s: Type.Number({ minimum: 0, default: 60, description: 'flows of two agents with the same Community ID starting within this window are one flow' }),
    dedup_entries: Type.Integer({ minimum: 1000, default: 500_000, description: 'flows remembered for cross-agent de-duplication' }),
    max_hosts: Type.Integer({ minimum: 1, default: 1_000_000 }),
    max_edges: Type.Integer({ minimum: 1, default: 5_000_000 }),
    flush_interval_ms: Type.Integer({ minimum: 50, default: 1000, description: 'how often merged changes are written to the store' }),
    answer_max_staleness_ms: Type.Integer({ minimum: 0, default: 2000, description: '/api/v1/topology may answer from a cached answer missing changes merged at most this long ago (0 = always current)' }),
    answer_refresh_ms: Type.Integer({ minimum: 0, default: 1000, description: 'a cached /api/v1/topology answer this old is rebuilt in the background when the topology changed (capped at answer_max_staleness_ms)' }),
    answer_slice_ms: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'a /api/v1/topology build yields to the event loop after this much work' }),
    queue_batches: Type.Integer({ minimum: 1, maximum: 100_000, default: 64, description: 'acked batches waiting for the merge in memory; when full, the merge reads them back from the store until it has caught up (ingest never waits for the merge)' }),
    read_wait_ms: Type.Integer({ minimum: 0, maximum: 60_000, default: 2000, description: 'a topology read (/hosts, /topology, /stats, /flows/top) waits at most this long for the merge to hold every batch acked before it; past that it answers with x-topology-backlog-batches' }),
    merge_slice_ms: Type.Integer({ minimum: 0, maximum: 1000, default: 5, description: 'the merge of a stored batch and the topology flush yield to the event loop after this much work (0: after every 128 flows)' }),
  }, { additionalProperties: false, default: {} }),
  // Issue 7: detection, alerts, threat intel, segmentation policy (each schema lives with its component).
  detection: DetectionConfigSchema,
  alerts: AlertsConfigSchema,
  intel: IntelConfigSchema,
  policy: PolicyConfigSchema,
}, { additionalProperties: false })

export type CollectorConfig = Static<typeof ConfigSchema>
