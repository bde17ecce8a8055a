import type { Command } from 'commander'
import { parseCollectorUrl } from '../../ship/collector-url.js'
import { enroll } from '../../ship/enroll.js'
import { AgentError, AgentErrorCode } from '../../util/errors.js'
import { identityPath, loadIdentity } from '../../ship/identity.js'
import { agentVersion } from './version.js'

/**
 * `telltale-agent enroll --collector URL --token T [--state-dir DIR]`: exchanges an
 * enrollment token for this agent's identity (identity.json, 0600, in the state dir).
 */
interface EnrollFlags { collector: string; token: string; stateDir: string; caFile?: string; certFile?: string; keyFile?: string; force?: boolean }

function tryLoad(stateDir: string): ReturnType<typeof loadIdentity> {
  try {
    return loadIdentity(stateDir)
  } catch {
    return undefined
  }
}

export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .description('enroll with a collector: exchange an enrollment token for an agent identity')
    .requiredOption('--collector <url>', 'collector base URL, e.g. https://collector.example:8270')
    .requiredOption('--token <token>', 'enrollment token from `telltale-collector token create --role enroll`')
    .option('--state-dir <dir>', 'where the identity is kept', '/var/lib/telltale-agent')
    .option('--ca-file <pem>', 'CA the collector certificate must chain to')
    .option('--cert-file <pem>', 'client certificate (mutual TLS)')
    .option('--key-file <pem>', 'client key (mutual TLS)')
    .option('--force', 'enroll again even if a valid identity exists')
    .action(async (o: EnrollFlags) => {
      parseCollectorUrl(o.collector, '--collector')
      if (o.token.trim() === '') throw new AgentError(AgentErrorCode.BAD_ARGUMENT, '--token is empty; create one with `telltale-collector token create --role enroll`')
      // A clone's copied identity throws here (IDENTITY_INVALID): --force enrolls this machine anew.
      const existing = o.force ? tryLoad(o.stateDir) : loadIdentity(o.stateDir)
      if (existing && !o.force) {
        process.stdout.write(`already enrolled as ${existing.agent_id} (${identityPath(o.stateDir)}); use --force to enroll again\n`)
        return
      }
      const id = await enroll({
        ...(existing ? { nonce: existing.nonce } : {}),
        collector: o.collector, token: o.token, stateDir: o.stateDir, version: agentVersion(),
        ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.certFile ? { certFile: o.certFile } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}),
      })
      process.stdout.write(`enrolled as ${id.agent_id}; identity in ${identityPath(o.stateDir)}\n`)
    })
}
