import type { Command } from 'commander'
import { readFileSync } from 'node:fs'

export function agentVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export function registerVersion(program: Command): void {
  program.version(agentVersion(), '-V, --version')
  program
    .command('version')
    .description('print the agent version and the Node.js runtime it runs on')
    .action(() => {
      process.stdout.write(`telltale-agent ${agentVersion()} (node ${process.version})\n`)
    })
}
