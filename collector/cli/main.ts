#!/usr/bin/env node
/**
 * `telltale-collector` entry point. Sub-commands register themselves from ./commands.
 * Exit codes: 0 success, 1 runtime failure, 2 bad usage or configuration.
 */
import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'

const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

const program = new Command()
program
  .name('telltale-collector')
  .description('Telltale collector: merges what every agent saw into one topology, runs detection, serves the REST API.')
  .version(version, '-V, --version')
  .exitOverride()

program
  .command('version')
  .description('print the collector version and the Node.js runtime it runs on')
  .action(() => {
    process.stdout.write(`telltale-collector ${version} (node ${process.version})\n`)
  })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  process.exitCode = err instanceof CommanderError ? (err.exitCode === 0 ? 0 : 2) : 1
  if (!(err instanceof CommanderError)) process.stderr.write(`telltale-collector: ${String(err)}\n`)
}
