import type { Command } from 'commander'
import { formatProblems, loadConfig } from '../../config/index.js'
import { AgentError, AgentErrorCode } from '../../util/errors.js'

/**
 * `telltale-agent check-config FILE` (or `--config FILE`, as `run` takes it): validates the agent config (with the TELLTALE_…
 * environment overrides applied) and prints every problem with its key and line.
 * Exit 0 when valid, 2 otherwise (systemd's ExecStartPre runs it).
 */
export function registerCheckConfig(program: Command): void {
  program
    .command('check-config')
    .description('validate an agent config file: print every problem with its key and line (exit 2 when invalid)')
    .argument('[file]', 'YAML config, e.g. /etc/telltale/agent.yaml')
    .option('-c, --config <file>', 'the same, as `run --config` takes it')
    .action((arg: string | undefined, opts: { config?: string }) => {
      if (arg !== undefined && opts.config !== undefined && arg !== opts.config) {
        throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `check-config: two config files given (${arg} and --config ${opts.config}); check one at a time`)
      }
      const file = arg ?? opts.config
      if (file === undefined) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, 'check-config: which file? e.g. telltale-agent check-config /etc/telltale/agent.yaml')
      const { problems } = loadConfig(file)
      if (problems.length > 0) {
        throw new AgentError(AgentErrorCode.CONFIG_INVALID, `${file}: ${problems.length} problem(s):\n${formatProblems(problems)}`)
      }
      process.stdout.write(`${file} is valid\n`)
    })
}
