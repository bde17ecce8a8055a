/**
 * The collector's configuration: one TypeBox schema with defaults, read from YAML
 * (`--config FILE`, default none), then `TELLTALE_…` environment variables, then flags
 * (later wins). Keys are snake_case; the environment name of a key is TELLTALE_ + its path
 * upper-cased and joined by "_" (ingest.max_body_bytes → TELLTALE_INGEST_MAX_BODY_BYTES).
 */
import { Type, type Static } from '@sinclair/typebox'

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
    max_entries_per_batch: Type.Integer({ minimum: 1, default: 500_000, description: 'flows + events + observations + gaps + other top-level fields' }),
  }, { additionalProperties: false, default: {} }),
  storage: Type.Object({
    sync: Type.Boolean({ default: true, description: 'fsync every write before acking (durable acks); false only for tests and benches' }),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false })

export type CollectorConfig = Static<typeof ConfigSchema>
