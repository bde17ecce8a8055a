/** Flags shared by the commands that load the configuration, and loading it from them. */
import type { Command } from 'commander'
import { formatProblems, loadConfig, type ConfigResult } from '../../config/load-config.js'

export interface ConfigFlags { config?: string; dataDir?: string; listen?: string; logLevel?: string; pretty?: boolean }

export function addConfigFlags(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'YAML configuration file (e.g. /etc/telltale/collector.yaml)')
    .option('--data-dir <dir>', 'store directory (data_dir)')
    .option('--listen <host:port>', 'listen address (listen), default 127.0.0.1:8270')
    .option('--log-level <level>', 'log.level')
    .option('--pretty', 'human log lines (log.pretty)')
}

export function configFromFlags(o: ConfigFlags, env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const flags: Record<string, unknown> = {}
  if (o.dataDir !== undefined) flags.data_dir = o.dataDir
  if (o.listen !== undefined) flags.listen = o.listen
  if (o.logLevel !== undefined) flags['log.level'] = o.logLevel
  if (o.pretty === true) flags['log.pretty'] = true
  const src: Parameters<typeof loadConfig>[0] = { env, flags }
  if (o.config !== undefined) src.file = o.config
  return loadConfig(src)
}

/** Prints the problems and sets exit code 2; returns the config or undefined. */
export function configOrExit(o: ConfigFlags): ReturnType<typeof configFromFlags> & { ok: true } | undefined {
  const r = configFromFlags(o)
  if (r.ok) return r
  process.stderr.write(`telltale-collector: invalid configuration:\n${formatProblems(r.problems)}\n`)
  process.exitCode = 2
  return undefined
}
