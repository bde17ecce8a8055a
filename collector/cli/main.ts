#!/usr/bin/env node
/**
 * `telltale-collector` entry point. Sub-commands register themselves from ./commands.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
import { Command, CommanderError } from 'commander'
import { register as registerCheckConfig } from './commands/check-config.js'
import { register as registerServe } from './commands/serve.js'
import { register as registerToken } from './commands/token.js'
import { register as registerStatus } from './commands/status.js'
import { collectorVersion, register as registerVersion } from './commands/version.js'

const program = new Command()
program
  .name('telltale-collector')
  .description('Telltale collector: merges what every agent saw into one topology, runs detection, serves the REST API.')
  .version(collectorVersion, '-V, --version')
  .exitOverride()

for (const register of [registerVersion, registerServe, registerCheckConfig, registerToken, registerStatus]) register(program)

try {
  await program.parseAsync(process.argv)
} catch (err) {
  process.exitCode = err instanceof CommanderError ? (err.exitCode === 0 ? 0 : 2) : 1
  if (!(err instanceof CommanderError)) process.stderr.write(`telltale-collector: ${String(err)}\n`)
}
