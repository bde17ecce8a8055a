/**
 * `telltale-collector status`: asks the running collector over HTTP (/healthz: the process
 * answers; /readyz: the store is open and ingest is accepted).
 * Exit codes: 0 ready, 1 answering but not ready, 3 not running (no answer).
 */
import type { Command } from 'commander'
import { addConfigFlags, configFromFlags, type ConfigFlags } from './config-options.js'

export const COLLECTOR_STATUS_EXIT = { READY: 0, NOT_READY: 1, NOT_RUNNING: 3 } as const

/** The URL to ask for a `listen` value: wildcard addresses are asked on loopback. */
export function statusBaseUrl(listen: string): string {
  const i = listen.lastIndexOf(':')
  let host = listen.slice(0, i)
  const port = listen.slice(i + 1)
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1'
  if (host === '[::]') host = '[::1]'
  return `http://${host}:${port}`
}

interface Probe { ok: boolean; status: number; body: string; error?: string }

async function probe(url: string, timeoutMs: number): Promise<Probe> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
    return { ok: r.ok, status: r.status, body: (await r.text()).slice(0, 500) }
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause
    return { ok: false, status: 0, body: '', error: cause?.code ?? (err as Error).message }
  }
}

export function register(program: Command): void {
  addConfigFlags(program.command('status')
    .description('ask the running collector whether it is up (/healthz) and ready to ingest (/readyz)'))
    .option('--url <url>', 'collector base URL (default: from listen in the config)')
    .option('--timeout <ms>', 'per request', '3000')
    .option('--json', 'print a JSON document')
    .addHelpText('after', `
Examples:
  telltale-collector status --config /etc/telltale/collector.yaml
  telltale-collector status --url http://127.0.0.1:8270

Exit codes: 0 ready, 1 answering but not ready, 3 not running, 2 bad configuration.`)
    .action(async (o: ConfigFlags & { url?: string; timeout: string; json?: boolean }) => {
      let base = o.url
      if (base === undefined) {
        const r = configFromFlags(o)
        if (!r.ok) {
          process.stderr.write('telltale-collector: invalid configuration (run check-config)\n')
          process.exitCode = 2
          return
        }
        base = statusBaseUrl(r.config.listen)
      }
      base = base.replace(/\/+$/, '')
      const timeoutMs = Math.max(100, Number(o.timeout) || 3000)
      const health = await probe(`${base}/healthz`, timeoutMs)
      const ready = health.status === 0 ? health : await probe(`${base}/readyz`, timeoutMs)
      const running = health.status !== 0
      const code = !running ? COLLECTOR_STATUS_EXIT.NOT_RUNNING : ready.ok ? COLLECTOR_STATUS_EXIT.READY : COLLECTOR_STATUS_EXIT.NOT_READY
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ url: base, running, ready: ready.ok, readyz_status: ready.status, error: health.error ?? null }, null, 2)}\n`)
      } else if (!running) {
        process.stderr.write(`telltale-collector: no collector answers at ${base} (${health.error ?? 'no answer'}): is it running? (systemctl status telltale-collector)\n`)
      } else {
        process.stdout.write(`telltale-collector at ${base}: ${ready.ok ? 'ready' : `NOT READY (HTTP ${ready.status}: ${ready.body})`}\n`)
      }
      process.exitCode = code
    })
}
