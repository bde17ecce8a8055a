import { pino, type Logger } from 'pino'

export type { Logger }

/**
 * The one root logger of the agent process. Components receive `log.child({ component })`
 * from the entry point; nothing logs per packet or per line.
 * JSON to stderr by default (journald keeps it; stdout stays free for NDJSON output);
 * `pretty` gives short human lines.
 */
export function createRootLogger(opts: { level?: string; pretty?: boolean; name?: string } = {}): Logger {
  const level = opts.level ?? process.env.TELLTALE_LOG_LEVEL ?? 'info'
  if (opts.pretty) {
    return pino({ level, name: opts.name ?? 'telltale-agent', base: undefined, timestamp: false,
      formatters: { level: (label) => ({ level: label }) } }, prettyStream())
  }
  return pino({ level, name: opts.name ?? 'telltale-agent' }, pino.destination(2))
}

/** Minimal human formatter (no extra dependency): "level component: msg key=value…". */
function prettyStream(): { write(line: string): void } {
  return {
    write(line: string) {
      try {
        const o = JSON.parse(line) as Record<string, unknown>
        const { level, msg, component, name: _n, ...rest } = o
        const extra = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ')
        process.stderr.write(`${String(level)} ${component ? `${String(component)}: ` : ''}${String(msg ?? '')}${extra ? ` ${extra}` : ''}\n`)
      } catch {
        process.stderr.write(line)
      }
    },
  }
}
