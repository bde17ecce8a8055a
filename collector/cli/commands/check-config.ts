/** `telltale-collector check-config`: validates file + env + flags, prints every problem (key and line). */
import type { Command } from 'commander'
import { formatProblems } from '../../config/load-config.js'
import { addConfigFlags, configFromFlags, type ConfigFlags } from './config-options.js'

export function register(program: Command): void {
  addConfigFlags(program.command('check-config')
    .description('validate the configuration (YAML file, TELLTALE_* environment, flags) and exit: 0 valid, 2 invalid'))
    .action((o: ConfigFlags) => {
      const r = configFromFlags(o)
      if (!r.ok) {
        process.stderr.write(`${formatProblems(r.problems)}\n${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}\n`)
        process.exitCode = 2
        return
      }
      process.stdout.write(`configuration valid\n${JSON.stringify(r.config, null, 2)}\n`)
    })
}
