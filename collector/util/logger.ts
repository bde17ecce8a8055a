import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * The one root logger of the collector process: pino JSON to stdout (journald keeps it).
 * Components get `log.child({ component })` from the entry point. `silent` for tests.
 */
export function createRootLogger(opts: { level?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? 'info'
  if (opts.pretty) {
    return pino({ level, name: 'telltale-collector', base: undefined, timestamp: false, formatters: { level: (label) => ({ level: label }) } }, prettyStream())
  }
  return pino({ level, name: 'telltale-collector' }, pino.destination(1))
}

/** Minimal human formatter: "level component: msg key=value…". */
function prettyStream(): { write(line: string): void } {
  return {
    write(line: string) {
      try {
        const o = JSON.parse(line) as Record<string, unknown>
        const { level, msg, component, name: _n, ...rest } = o
        const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')
        process.stdout.write(`${String(level)} ${component ? `${String(component)}: ` : ''}${String(msg ?? '')}${extra ? ` ${extra}` : ''}\n`)
      } catch {
        process.stdout.write(line)
      }
    },
  }
}
