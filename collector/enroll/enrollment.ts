/**
 * Tokens and enrollment, without HTTP (the routes and the CLI both call these).
 *
 * Enrollment: an `enroll` token + the agent's machine-id hash + a nonce the agent generated
 * → a new agent id and secret (stored hashed, as a token with role `agent`).
 *   * No agent holds that machine id → new agent; the enrollment token's use is counted.
 *   * The agent holding it presented the same nonce → the same agent re-enrolls (lost its
 *     secret): same id, a new secret, the old one stops working.
 *   * A different nonce → a second machine claims the same identity (a cloned VM or disk):
 *     refused (409 COLLECTOR_ERR_ENROLL_CLONE) and recorded as a conflict; the two are never
 *     merged. An admin revokes the old agent (DELETE /api/v1/agents/:id) to let it enroll.
 * Every change is one atomic write with its audit record.
 */
import { CollectorError } from '../errors.js'
import { hashSecret, newId, newSecret, sha256Hex } from '../auth/secrets.js'
import type { AgentRecord, CollectorStore, ConflictRecord, TokenRecord, TokenRole } from '../storage/index.js'

export interface NewToken { secret: string; record: TokenRecord }

export async function createToken(store: CollectorStore, opts: { role: TokenRole; createdBy: string; ttlSeconds?: number; maxUses?: number; note?: string; site?: string; secret?: string; now?: number }): Promise<NewToken> {
  const now = opts.now ?? Date.now()
  const secret = opts.secret ?? newSecret(opts.role)
  const record: TokenRecord = { id: newId('tok'), role: opts.role, createdAt: new Date(now).toISOString(), createdBy: opts.createdBy, uses: 0 }
  if (opts.ttlSeconds !== undefined) record.expiresAt = new Date(now + opts.ttlSeconds * 1000).toISOString()
  if (opts.maxUses !== undefined) record.maxUses = opts.maxUses
  if (opts.note !== undefined) record.note = opts.note
  if (opts.site !== undefined) record.site = opts.site
  const hash = hashSecret(secret)
  await store.commit([
    ...store.tokens.putOps(hash, record),
    ...store.audit.appendOps({ at: record.createdAt, actor: opts.createdBy, action: 'token.create', target: record.id, details: { role: record.role, expiresAt: record.expiresAt, maxUses: record.maxUses, site: record.site } }),
  ])
  store.tokens.remember(hash, record)
  return { secret, record }
}

/** Makes sure a token with exactly this secret exists with role admin (TELLTALE_ADMIN_TOKEN). */
export async function ensureAdminToken(store: CollectorStore, secret: string): Promise<{ created: boolean; record: TokenRecord }> {
  const existing = await store.tokens.getByHash(hashSecret(secret))
  if (existing !== undefined && existing.role === 'admin' && existing.revokedAt === undefined) return { created: false, record: existing }
  if (existing !== undefined) {
    throw new CollectorError('CONFIG_INVALID', `TELLTALE_ADMIN_TOKEN matches token ${existing.id}, which is ${existing.revokedAt !== undefined ? 'revoked' : `a ${existing.role} token`}; choose another value`)
  }
  const { record } = await createToken(store, { role: 'admin', createdBy: 'config', secret, note: 'from TELLTALE_ADMIN_TOKEN' })
  return { created: true, record }
}

export interface EnrollRequest {
  enrollmentToken: string
  machineIdHash: string
  nonce: string
  hostname?: string
  version?: string
  remoteAddress?: string
}

export interface EnrollResult { agentId: string; secret: string; reenrolled: boolean }

export async function enroll(store: CollectorStore, req: EnrollRequest, now = Date.now()): Promise<EnrollResult> {
  const tokHash = hashSecret(req.enrollmentToken)
  // One enrollment at a time per enrollment token (exact use counts) and per machine.
  return store.lock.run(`enroll:${tokHash.toString('hex')}`, () => store.lock.run(`machine:${req.machineIdHash}`, async () => {
    const tok = await store.tokens.getByHash(tokHash)
    if (tok === undefined || tok.role !== 'enroll' || tok.revokedAt !== undefined) throw new CollectorError('ENROLL_TOKEN_INVALID')
    if (tok.expiresAt !== undefined && Date.parse(tok.expiresAt) <= now) throw new CollectorError('ENROLL_TOKEN_EXPIRED', `the enrollment token ${tok.id} expired at ${tok.expiresAt}; ask an admin for a new one`)
    if (tok.maxUses !== undefined && tok.uses >= tok.maxUses) throw new CollectorError('ENROLL_TOKEN_EXHAUSTED', `the enrollment token ${tok.id} has been used ${tok.uses} of ${tok.maxUses} times; ask an admin for a new one`)
    const at = new Date(now).toISOString()
    const nonceHash = sha256Hex(req.nonce)
    const holderId = await store.agents.idByMachine(req.machineIdHash)
    // The holder's record is rewritten below: take its lock, as ingest and revoke do.
    return store.lock.run(`agent:${holderId ?? ''}`, async () => {
      const holder = holderId === undefined ? undefined : await store.agents.get(holderId)
      if (holder !== undefined && holder.revokedAt === undefined && holder.nonceHash !== nonceHash) {
        const conflict: ConflictRecord = { id: newId('cfl'), at, kind: 'clone', machineIdHash: req.machineIdHash, existingAgentId: holder.id, presentedNonceHash: nonceHash }
        if (req.hostname !== undefined) conflict.hostname = req.hostname
        if (req.remoteAddress !== undefined) conflict.remoteAddress = req.remoteAddress
        await store.commit([
          ...store.agents.conflictOps(conflict),
          ...store.audit.appendOps({ at, actor: tok.id, action: 'agent.enroll.conflict', target: holder.id, details: { conflictId: conflict.id, hostname: req.hostname, remoteAddress: req.remoteAddress } }),
        ])
        throw new CollectorError('ENROLL_CLONE', `agent ${holder.id} is already enrolled with this machine id and a different nonce: this looks like a cloned machine (conflict ${conflict.id}). Give the clone a new machine id (/etc/machine-id) and enroll it, or revoke ${holder.id} first if the old agent is gone.`)
      }
      const secret = newSecret('agent')
      const credHash = hashSecret(secret)
      const cred: TokenRecord = { id: newId('tok'), role: 'agent', createdAt: at, createdBy: tok.id, uses: 0 }
      const ops = []
      let agent: AgentRecord
      const reenrolled = holder !== undefined && holder.revokedAt === undefined
      let oldCred: { hash: Buffer; rec: TokenRecord } | undefined
      if (reenrolled) {
        agent = { ...holder, tokenId: cred.id, enrolledWith: tok.id }
        const old = await store.tokens.getById(holder.tokenId)
        if (old !== undefined) {
          oldCred = { hash: old.hash, rec: { ...old.rec, revokedAt: at } }
          ops.push(...store.tokens.putOps(oldCred.hash, oldCred.rec))
        }
      } else {
        agent = {
          id: newId('agt'), machineIdHash: req.machineIdHash, nonceHash, tokenId: cred.id, enrolledWith: tok.id, enrolledAt: at,
          batches: 0, flows: 0, events: 0, observations: 0, appRecords: 0, gapRecords: { flows: 0, events: 0, observations: 0, appRecords: 0 },
        }
      }
      if (req.hostname !== undefined) agent.hostname = req.hostname
      if (req.version !== undefined) agent.version = req.version
      // A token's site is the agent's (a re-enrollment with a site token moves it there);
      // a token without one leaves a re-enrolled agent's site as it was.
      if (tok.site !== undefined) agent.site = tok.site
      cred.agentId = agent.id
      const usedTok: TokenRecord = { ...tok, uses: tok.uses + 1 }
      ops.push(
        ...store.tokens.putOps(credHash, cred),
        ...store.tokens.putOps(tokHash, usedTok),
        ...store.agents.putOps(agent),
        ...store.audit.appendOps({ at, actor: tok.id, action: reenrolled ? 'agent.reenroll' : 'agent.enroll', target: agent.id, details: { hostname: req.hostname, remoteAddress: req.remoteAddress, site: agent.site } }),
      )
      await store.commit(ops)
      // Caches follow the committed state.
      store.tokens.remember(credHash, cred)
      store.tokens.remember(tokHash, usedTok)
      if (oldCred !== undefined) store.tokens.remember(oldCred.hash, oldCred.rec)
      store.agents.remember(agent)
      return { agentId: agent.id, secret, reenrolled }
    })
  }))
}

/** Revokes an agent and its credential; false when there is no such agent. */
export async function revokeAgent(store: CollectorStore, agentId: string, actor: string, now = Date.now()): Promise<AgentRecord | undefined> {
  return store.lock.run(`agent:${agentId}`, async () => {
    const agent = await store.agents.get(agentId)
    if (agent === undefined) return undefined
    if (agent.revokedAt !== undefined) return agent
    const at = new Date(now).toISOString()
    const revoked: AgentRecord = { ...agent, revokedAt: at }
    const ops = [...store.agents.putOps(revoked), ...store.audit.appendOps({ at, actor, action: 'agent.revoke', target: agentId })]
    const cred = await store.tokens.getById(agent.tokenId)
    const revokedCred = cred === undefined ? undefined : { ...cred.rec, revokedAt: at }
    if (cred !== undefined && revokedCred !== undefined) ops.push(...store.tokens.putOps(cred.hash, revokedCred))
    await store.commit(ops)
    store.agents.remember(revoked)
    if (cred !== undefined && revokedCred !== undefined) store.tokens.remember(cred.hash, revokedCred)
    return revoked
  })
}

/**
 * Moves an agent to a site (null: to none). The topology scopes the private addresses of the
 * batches merged from then on; hosts merged before keep their ids. Undefined when there is no
 * such agent.
 */
export async function setAgentSite(store: CollectorStore, agentId: string, site: string | null, actor: string, now = Date.now()): Promise<AgentRecord | undefined> {
  return store.lock.run(`agent:${agentId}`, async () => {
    const agent = await store.agents.get(agentId)
    if (agent === undefined) return undefined
    if ((agent.site ?? null) === site) return agent
    const moved: AgentRecord = { ...agent }
    if (site === null) delete moved.site
    else moved.site = site
    const at = new Date(now).toISOString()
    await store.commit([...store.agents.putOps(moved), ...store.audit.appendOps({ at, actor, action: 'agent.site', target: agentId, details: { from: agent.site ?? null, to: site } })])
    store.agents.remember(moved)
    return moved
  })
}
