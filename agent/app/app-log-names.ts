/**
 * The names (Zeek paths) of the application logs the analyzers write, without loading the
 * analyzers: the config schema (flows.app_logs) needs them, and loading registry.ts costs
 * ~0.17 s of CPU. test/app-record-wire.test.ts checks it against registry.ts APP_LOGS.
 */
export const APP_LOG_NAMES = ['dns', 'http', 'ssl', 'x509', 'ssh', 'dhcp', 'ftp'] as const

export type AppLogName = typeof APP_LOG_NAMES[number]
