#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * `telltale-agent` entry point. Each sub-command lives in its own file under ./commands and
 * registers itself on the program; this file only wires them and maps errors to exit codes.
 *
 * The first line is the one place the agent's Node.js flags are set (the Debian wrapper and
 * `npm run bench` read them from it): a young generation of 8 MB semi-spaces instead of
 * V8's 16 MB. Measured on the bench captures (docs/flows.md, "Memory"): 15–16 MB less peak
 * RSS with 100k concurrent flows, the same CPU; the per-packet garbage dies young either way.
 *
 * Exit codes: 0 success, 1 runtime failure (capture, I/O), 2 bad usage or configuration.
 */
import { Command, CommanderError } from 'commander'
import { isAgentError, AgentErrorCode } from '../util/errors.js'
import { registerVersion } from './commands/version.js'

/**
 * Sub-command modules, loaded on demand: `run` alone pulls in the ship stack, live capture
 * and log sources (~0.4 s of CPU and ~30 MB RSS at start-up), which `replay` never uses.
 * The invoked command's module is imported by itself and a version request imports none;
 * anything else (no command, help, an unknown name) registers all of them so that help and
 * errors list every command.
 */
const COMMANDS: Record<string, () => Promise<(program: Command) => void>> = {
  replay: async () => (await import('./commands/replay.js')).registerReplay,
  'parse-log': async () => (await import('./commands/parse-log.js')).registerParseLog,
  'tail-logs': async () => (await import('./commands/tail-logs.js')).registerTailLogs,
  'check-config': async () => (await import('./commands/check-config.js')).registerCheckConfig,
  enroll: async () => (await import('./commands/enroll.js')).registerEnroll,
  run: async () => (await import('./commands/run.js')).registerRun,
  status: async () => (await import('./commands/status.js')).registerStatus,
}

const program = new Command()
program
  .name('telltale-agent')
  .description('Telltale network sensor agent: capture packets and logs, summarise them into flows and events.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()

/** Version requests need no command module: loading all of them made `telltale-agent version` take ~0.6 s. */
const VERSION_ONLY = new Set(['version', '--version', '-V'])

const invoked = process.argv[2]
const only = invoked === undefined ? undefined : Object.hasOwn(COMMANDS, invoked) ? [invoked] : VERSION_ONLY.has(invoked) ? [] : undefined
for (const name of Object.keys(COMMANDS)) {
  if (only === undefined || only.includes(name)) (await COMMANDS[name]!())(program)
  // version: registered after replay as before, so help lists the commands in the same order.
  if (name === 'replay') registerVersion(program)
}

try {
  await program.parseAsync(process.argv)
} catch (err) {
  process.exitCode = exitCodeFor(err)
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help and --version end through exitOverride with code 0.
    return err.exitCode === 0 ? 0 : 2
  }
  if (isAgentError(err)) {
    process.stderr.write(`telltale-agent: ${err.message}\n`)
    return err.code === AgentErrorCode.BAD_ARGUMENT || err.code === AgentErrorCode.CONFIG_INVALID ? 2 : 1
  }
  process.stderr.write(`telltale-agent: unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  return 1
}
