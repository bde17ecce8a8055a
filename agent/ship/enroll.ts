/**
 * Enrollment: exchanges a collector-issued enrollment token for an agent identity
 * (POST /api/v1/enroll, JSON). The identity is written to the state directory (0600).
 */
import { hostname } from 'node:os'
import { Agent, request } from 'undici'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import { tlsConnectOptions, type TlsFiles } from './http-transport.js'
import { parseCollectorUrl } from './collector-url.js'
import { machineIdHash, newNonce, saveIdentity, type AgentIdentity } from './identity.js'

export const ENROLL_PATH = '/api/v1/enroll'

export interface EnrollOptions extends TlsFiles {
  collector: string
  token: string
  stateDir: string
  version: string
  timeoutMs?: number
  env?: NodeJS.ProcessEnv
  /** The nonce of this machine's previous identity, when re-enrolling it. */
  nonce?: string
}

export async function enroll(opts: EnrollOptions): Promise<AgentIdentity> {
  const machine = machineIdHash(opts.env)
  // Re-enrolling the same machine keeps its nonce: the collector then re-issues the same
  // agent id (a new secret) instead of reporting a clone.
  const nonce = opts.nonce ?? newNonce()
  const base = parseCollectorUrl(opts.collector, 'collector URL')
  if (opts.token.trim() === '') throw new AgentError(AgentErrorCode.BAD_ARGUMENT, 'the enrollment token is empty; create one with `telltale-collector token create --role enroll`')
  const url = new URL(`${base.pathname.replace(/\/+$/, '')}${ENROLL_PATH}`, base.origin)
  const timeout = opts.timeoutMs ?? 15_000
  const dispatcher = new Agent({ connect: { ...tlsConnectOptions(opts), timeout }, headersTimeout: timeout, bodyTimeout: timeout })
  let status: number
  let text: string
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enrollment_token: opts.token, machine_id_hash: machine, nonce, hostname: hostname(), version: opts.version }),
    })
    status = res.statusCode
    text = await res.body.text()
  } catch (err) {
    throw new AgentError(AgentErrorCode.ENROLL_FAILED, `cannot reach the collector at ${url.origin}: ${(err as Error).message.trim()}${tlsHint(url, opts, err as Error)}`, { cause: err })
  } finally {
    await dispatcher.close()
  }
  let body: Record<string, unknown> = {}
  try { body = JSON.parse(text) as Record<string, unknown> } catch { /* reported below */ }
  if (status < 200 || status >= 300) {
    const why = typeof body.message === 'string' ? `${body.message}${typeof body.code === 'string' ? ` (${body.code})` : ''}` : text.slice(0, 200)
    throw new AgentError(AgentErrorCode.ENROLL_FAILED, `the collector refused enrollment (HTTP ${status}): ${why}`)
  }
  const agentId = body.agent_id
  const secret = body.secret
  if (typeof agentId !== 'string' || typeof secret !== 'string' || agentId === '' || secret === '') {
    throw new AgentError(AgentErrorCode.ENROLL_FAILED, `the collector's enrollment answer has no agent_id/secret: ${text.slice(0, 200)}`)
  }
  const id: AgentIdentity = { agent_id: agentId, secret, machine_id_hash: machine, nonce, collector: base.origin, enrolled_at: new Date().toISOString() }
  saveIdentity(opts.stateDir, id)
  return id
}

/** What to try when an HTTPS connection failed in a way a TLS setting explains. */
function tlsHint(url: URL, opts: TlsFiles, err: Error): string {
  if (url.protocol !== 'https:') return ''
  const code = (err as { code?: string }).code ?? ''
  if (/wrong version number/i.test(err.message) || code === 'ERR_SSL_WRONG_VERSION_NUMBER') {
    return ` (nothing speaks TLS there: if the collector listens without tls.cert_file, use http://${url.host})`
  }
  if (!opts.certFile && (/other side closed|socket hang up|ECONNRESET/i.test(err.message) || code === 'UND_ERR_SOCKET')) {
    return ' (the collector closed the TLS connection: if it requires client certificates (tls.client_ca_file), give --cert-file and --key-file)'
  }
  if (/certificate|self[- ]signed|issuer/i.test(err.message) && !opts.caFile) return ' (pin the CA that signed the collector certificate with --ca-file)'
  return ''
}
