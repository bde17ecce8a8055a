/**
 * The agent's identity, issued by the collector at enrollment and kept in
 * `<state dir>/identity.json` (mode 0600, written atomically).
 *
 * Clone detection: the identity is bound to this machine by `machine_id_hash` (SHA-256 of
 * /etc/machine-id, or of the file TELLTALE_MACHINE_ID_FILE names) and a random `nonce`
 * sent at enrollment. An identity file copied to another machine (a cloned VM image)
 * carries the old hash: the agent refuses to use it and asks for re-enrollment instead of
 * shipping as the other host. (A clone that also kept the machine id is the collector's
 * to detect: it sees one identity from two places.)
 */
import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { makeDirSync } from '../util/make-dir.js'
import { join } from 'node:path'
import { AgentError, AgentErrorCode } from '../util/errors.js'

export interface AgentIdentity {
  agent_id: string
  secret: string
  machine_id_hash: string
  nonce: string
  /** Collector base URL it was issued by. */
  collector: string
  enrolled_at: string
}

export const IDENTITY_FILE = 'identity.json'
const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id']

/** SHA-256 (hex) of the machine id. */
export function machineIdHash(env: NodeJS.ProcessEnv = process.env): string {
  const files = env.TELLTALE_MACHINE_ID_FILE ? [env.TELLTALE_MACHINE_ID_FILE] : MACHINE_ID_FILES
  for (const f of files) {
    try {
      const id = readFileSync(f, 'utf8').trim()
      if (id !== '') return createHash('sha256').update(`telltale-machine-id:${id}`).digest('hex')
    } catch { /* try the next */ }
  }
  throw new AgentError(AgentErrorCode.IDENTITY_INVALID, `no machine id found (${files.join(', ')}); the agent binds its identity to it`)
}

export function newNonce(): string {
  return randomBytes(16).toString('hex')
}

export function identityPath(stateDir: string): string {
  return join(stateDir, IDENTITY_FILE)
}

/** The stored identity, or undefined when there is none. Throws when it is unreadable or belongs to another machine. */
export function loadIdentity(stateDir: string, env: NodeJS.ProcessEnv = process.env): AgentIdentity | undefined {
  const path = identityPath(stateDir)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new AgentError(AgentErrorCode.IDENTITY_INVALID, `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  let id: AgentIdentity
  try {
    id = JSON.parse(text) as AgentIdentity
  } catch (err) {
    throw new AgentError(AgentErrorCode.IDENTITY_INVALID, `${path} is not valid JSON; delete it and enroll again`, { cause: err })
  }
  for (const k of ['agent_id', 'secret', 'machine_id_hash', 'nonce'] as const) {
    if (typeof id[k] !== 'string' || id[k] === '') throw new AgentError(AgentErrorCode.IDENTITY_INVALID, `${path} has no ${k}; delete it and enroll again`)
  }
  if (id.machine_id_hash !== machineIdHash(env)) {
    throw new AgentError(AgentErrorCode.IDENTITY_INVALID,
      `${path} was issued to another machine (its machine id differs from this one's: a cloned image?). ` +
      'Delete it and run `telltale-agent enroll --collector URL --token T` on this machine.')
  }
  return id
}

/** Writes the identity with mode 0600 (temp file + rename: never half written). */
export function saveIdentity(stateDir: string, id: AgentIdentity): void {
  makeDirSync(stateDir, 0o700)
  const path = identityPath(stateDir)
  const tmp = `${path}.tmp`
  writeFileSync(tmp, JSON.stringify(id, null, 2) + '\n', { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, path)
}

/** The Authorization header value for ingest requests. */
export function agentAuthorization(id: Pick<AgentIdentity, 'agent_id' | 'secret'>): string {
  return `Bearer ${id.secret}`
}
