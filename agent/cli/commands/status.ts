import type { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { loadConfig } from '../../config/index.js'
import { formatAgentStatus, type AgentStatusDoc } from '../../ops/agent-status.js'
import { fetchStatus, statusSocketPath } from '../../ops/status-socket.js'
import { AgentError, AgentErrorCode } from '../../util/errors.js'

/**
 * `telltale-agent status`: asks the running agent over its local status socket.
 * Exit codes: 0 running and healthy, 1 running but a loop is stalled or the collector is
 * unreachable, 3 not running (or not answering), 4 permission denied on the socket.
 */
export const STATUS_EXIT = { HEALTHY: 0, DEGRADED: 1, NOT_RUNNING: 3, NO_PERMISSION: 4 } as const

const RUN_DIR = '/run/telltale-agent'

/**
 * --socket, else the instance's runtime dir, else --state-dir, else /run/telltale-agent, else the
 * config's state_dir (with the TELLTALE_… environment applied, as `run` reads it).
 */
function findSocket(opts: { socket?: string; instance?: string; stateDir?: string; config: string }, configGiven: boolean): string {
  if (opts.socket) return opts.socket
  if (opts.instance) return join(RUN_DIR, opts.instance, 'status.sock')
  if (opts.stateDir) return statusSocketPath(opts.stateDir, {})
  const run = join(RUN_DIR, 'status.sock')
  if (existsSync(run)) return run
  if (configGiven && !existsSync(opts.config)) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `--config ${opts.config}: no such file`)
  const { config } = loadConfig(existsSync(opts.config) ? opts.config : undefined, { checkValues: false })
  return statusSocketPath(config.state_dir, {})
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show what the running agent is doing: capture per interface, drops, flows, spool, collector reachability, last ack')
    .option('-c, --config <file>', 'agent config, to find the state directory when not run by systemd', '/etc/telltale/agent.yaml')
    .option('-i, --instance <name>', 'the instance of telltale-agent@NAME.service (its socket is /run/telltale-agent/NAME/status.sock)')
    .option('-s, --socket <path>', 'status socket path (overrides --instance, --state-dir and --config)')
    .option('--state-dir <dir>', 'the state directory the agent runs with (its socket is DIR/status.sock)')
    .option('--json', 'print the raw JSON document')
    .option('--timeout <ms>', 'give up waiting for an answer after this long', '3000')
    .addHelpText('after', `
Examples:
  telltale-agent status
  telltale-agent status --instance eth1          # telltale-agent@eth1.service
  telltale-agent status --json | jq .capture

Exit codes: 0 running and healthy, 1 running but unhealthy (stalled loop, collector
unreachable, or refusing this agent's credential), 3 not running, 4 permission denied (run as
root or in group telltale).`)
    .action(async (opts: { config: string; instance?: string; socket?: string; stateDir?: string; json?: boolean; timeout: string }, cmd: Command) => {
      const timeout = Number(opts.timeout)
      if (!/^\d+$/.test(opts.timeout) || timeout < 100 || timeout > 600_000) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `--timeout expects milliseconds from 100 to 600000, got "${opts.timeout}"`)
      const path = findSocket(opts, cmd.getOptionValueSource('config') !== 'default')
      const r = await fetchStatus(path, timeout)
      if (!r.ok) {
        process.stderr.write(`telltale-agent: ${r.message}\n`)
        process.exitCode = r.reason === 'permission' ? STATUS_EXIT.NO_PERMISSION : STATUS_EXIT.NOT_RUNNING
        return
      }
      const doc = r.document as AgentStatusDoc
      process.stdout.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : formatAgentStatus(doc))
      const degraded = !doc.healthy || doc.collector?.reachable === false || doc.collector?.credential_refused === true
      process.exitCode = degraded ? STATUS_EXIT.DEGRADED : STATUS_EXIT.HEALTHY
    })
}
