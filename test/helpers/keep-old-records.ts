/**
 * Settings for a collector that must keep what it ingests for the whole test. Retention
 * expires records by their own time (not by arrival), and the generated captures and
 * fixtures are dated 2023: without these, a test that happens to run across the retention
 * job's minute (default `17 * * * *`) sees its flows deleted under it.
 */
const KEEP_DAYS = 36_500
const KINDS = ['flows_days', 'events_days', 'app_records_days', 'topology_days', 'alerts_days', 'rollup_minute_days', 'rollup_hour_days']

/** As `loadConfig` flags (an in-process collector). */
export const KEEP_OLD_RECORDS_FLAGS: Record<string, number> = Object.fromEntries(KINDS.map((k) => [`retention.${k}`, KEEP_DAYS]))

/** As environment variables (a `telltale-collector serve` process). */
export const KEEP_OLD_RECORDS_ENV: Record<string, string> = Object.fromEntries(KINDS.map((k) => [`TELLTALE_RETENTION_${k.toUpperCase()}`, String(KEEP_DAYS)]))
