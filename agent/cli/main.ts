#!/usr/bin/env node
/**
 * `telltale-agent` entry point. Each sub-command lives in its own file under ./commands and
 * registers itself on the program; this file only wires them and maps errors to exit codes.
 *
 * Exit codes: 0 success, 1 runtime failure (capture, I/O), 2 bad usage or configuration.
 */
import { Command, CommanderError } from 'commander'
import { isAgentError, AgentErrorCode } from '../util/errors.js'
import { registerVersion } from './commands/version.js'
import { registerReplay } from './commands/replay.js'
import { registerParseLog } from './commands/parse-log.js'
import { registerTailLogs } from './commands/tail-logs.js'
import { registerCheckConfig } from './commands/check-config.js'
import { registerEnroll } from './commands/enroll.js'
import { registerRun } from './commands/run.js'
import { registerStatus } from './commands/status.js'

const program = new Command()
program
  .name('telltale-agent')
  .description('Telltale network sensor agent: capture packets and logs, summarise them into flows and events.')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride()

registerReplay(program)
registerVersion(program)
registerParseLog(program)
registerTailLogs(program)
registerCheckConfig(program)
registerEnroll(program)
registerRun(program)
registerStatus(program)

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
