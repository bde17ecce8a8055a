/**
 * Bearer-token authentication shared by every route: parse `Authorization`, look the token
 * up by its hash, check expiry/revocation/role. Agent credentials also check the agent.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { CollectorError, errorBody } from '../errors.js'
import type { CollectorStore, AgentRecord, TokenRecord, TokenRole } from '../storage/index.js'
import { hashSecret } from './secrets.js'

export interface Principal {
  token: TokenRecord
  /** For agent credentials: the agent. */
  agent?: AgentRecord
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
  }
}

/** The bearer secret of an Authorization header, or undefined. */
export function bearer(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const m = /^Bearer[ \t]+(\S+)\s*$/i.exec(header)
  return m?.[1]
}

/** Resolves a secret to a principal allowed one of `roles`, or the error to answer with. */
export async function authenticate(store: CollectorStore, secret: string | undefined, roles: readonly TokenRole[], now = Date.now()): Promise<Principal | CollectorError> {
  const agentRoute = roles.length === 1 && roles[0] === 'agent'
  if (secret === undefined || secret.length === 0) return new CollectorError('MISSING_CREDENTIAL')
  if (secret.length > 512) return new CollectorError(agentRoute ? 'UNKNOWN_AGENT' : 'UNKNOWN_CREDENTIAL')
  const token = await store.tokens.getByHash(hashSecret(secret))
  if (token === undefined) return new CollectorError(agentRoute ? 'UNKNOWN_AGENT' : 'UNKNOWN_CREDENTIAL')
  if (token.revokedAt !== undefined) return new CollectorError(token.role === 'agent' ? 'REVOKED_AGENT' : 'REVOKED_CREDENTIAL')
  if (token.expiresAt !== undefined && Date.parse(token.expiresAt) <= now) return new CollectorError('EXPIRED_CREDENTIAL')
  if (!roles.includes(token.role)) return new CollectorError('FORBIDDEN_ROLE', `a token with role "${token.role}" may not do this (needs ${roles.join(' or ')})`)
  if (token.role !== 'agent') return { token }
  const agent = token.agentId === undefined ? undefined : await store.agents.get(token.agentId)
  if (agent === undefined) return new CollectorError('UNKNOWN_AGENT')
  if (agent.revokedAt !== undefined || agent.tokenId !== token.id) return new CollectorError('REVOKED_AGENT')
  return { token, agent }
}

/** An onRequest hook: authenticates or answers with the JSON error. */
export function requireRole(store: CollectorStore, roles: readonly TokenRole[], onReject?: (req: FastifyRequest, err: CollectorError) => void) {
  return async function checkRole(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const result = await authenticate(store, bearer(req.headers.authorization), roles)
    if (result instanceof CollectorError) {
      onReject?.(req, result)
      await reply.code(result.statusCode).send(errorBody(result))
      return
    }
    req.principal = result
  }
}
