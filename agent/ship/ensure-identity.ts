/**
 * The identity `run` and `replay` ship with: the stored one, or a new one from the
 * enrollment token when there is none — or when the stored one was made on another
 * machine (a clone) and a token is at hand. Without a token, a missing or cloned
 * identity is an error that says how to enroll.
 */
import { AgentError, AgentErrorCode, isAgentError } from '../util/errors.js'
import type { Logger } from '../util/logger.js'
import { enroll } from './enroll.js'
import type { TlsFiles } from './http-transport.js'
import { identityPath, loadIdentity, type AgentIdentity } from './identity.js'

export interface EnsureIdentityOptions extends TlsFiles {
  stateDir: string
  collector: string
  token?: string
  version: string
  log?: Logger
  env?: NodeJS.ProcessEnv
}

export async function ensureIdentity(o: EnsureIdentityOptions): Promise<{ identity: AgentIdentity; enrolled: boolean }> {
  let existing: AgentIdentity | undefined
  try {
    existing = loadIdentity(o.stateDir, o.env)
  } catch (err) {
    if (!isAgentError(err) || err.code !== AgentErrorCode.IDENTITY_INVALID || !o.token) throw err
    o.log?.warn({ reason: err.message }, 'the stored identity cannot be used here; enrolling again with the configured token')
  }
  if (existing) return { identity: existing, enrolled: false }
  if (!o.token) {
    throw new AgentError(AgentErrorCode.IDENTITY_INVALID,
      `not enrolled: ${identityPath(o.stateDir)} does not exist. Run \`telltale-agent enroll --collector URL --token T --state-dir ${o.stateDir}\` or give an enrollment token.`)
  }
  const identity = await enroll({
    collector: o.collector, token: o.token, stateDir: o.stateDir, version: o.version,
    ...(o.caFile ? { caFile: o.caFile } : {}), ...(o.certFile ? { certFile: o.certFile } : {}), ...(o.keyFile ? { keyFile: o.keyFile } : {}),
    ...(o.env ? { env: o.env } : {}),
  })
  o.log?.info({ agentId: identity.agent_id }, 'enrolled')
  return { identity, enrolled: true }
}
