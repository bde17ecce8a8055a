import type { Command } from 'commander'
import { formatProblems, loadConfig } from '../../config/index.js'
import { AgentError, AgentErrorCode } from '../../util/errors.js'

/**
 * `telltale-agent check-config FILE`: validates the agent config (with the TELLTALE_…
 * environment overrides applied) and prints every problem with its key and line.
 * Exit 0 when valid, 2 otherwise (systemd's ExecStartPre runs it).
 */
export function registerCheckConfig(program: Command): void {
  program
    .command('check-config')
    .description('validate an agent config file: print every problem with its key and line (exit 2 when invalid)')
    .argument('<file>', 'YAML config, e.g. /etc/telltale/agent.yaml')
    .action((file: string) => {
      const { problems } = loadConfig(file)
      if (problems.length > 0) {
        throw new AgentError(AgentErrorCode.CONFIG_INVALID, `${file}: ${problems.length} problem(s):\n${formatProblems(problems)}`)
      }
      process.stdout.write(`${file} is valid\n`)
    })
}
