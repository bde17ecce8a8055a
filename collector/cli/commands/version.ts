/** `telltale-collector version`. */
import type { Command } from 'commander'
import { readFileSync } from 'node:fs'

export const collectorVersion = (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version

export function register(program: Command): void {
  program
    .command('version')
    .description('print the collector version and the Node.js runtime it runs on')
    .action(() => {
      process.stdout.write(`telltale-collector ${collectorVersion} (node ${process.version})\n`)
    })
}
