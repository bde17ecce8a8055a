// Tokens, enrollment, clone detection, revocation, health and error shapes, through app.inject().
import t from 'tap'
import { createToken } from '../collector/enroll/enrollment.js'
import { ADMIN, enrollmentToken, machineHash, startCollector } from './collector-fixtures.js'

const enroll = (c: Awaited<ReturnType<typeof startCollector>>, token: string, machine: number, nonce: string) =>
  c.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: token, machine_id_hash: machineHash(machine), nonce, hostname: `h${machine}` } })
const code = (r: { json(): unknown }): string => (r.json() as { code: string }).code

t.test('healthz, readyz, unknown routes', async (t) => {
  const c = await startCollector()
  t.equal((await c.app.inject('/healthz')).json().status, 'ok')
  t.equal((await c.app.inject('/readyz')).json().status, 'ready')
  const nf = await c.app.inject('/nope')
  t.equal(nf.statusCode, 404)
  t.equal(code(nf), 'COLLECTOR_ERR_NOT_FOUND')
  await c.close()
  t.notOk(c.store.isOpen, 'store closed with the app')
})

t.test('enrollment tokens: admin only, expiry and use limit', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const url = '/api/v1/enrollment-tokens'
  t.equal(code(await c.app.inject({ method: 'POST', url, payload: {} })), 'COLLECTOR_ERR_MISSING_CREDENTIAL')
  t.equal(code(await c.app.inject({ method: 'POST', url, payload: {}, headers: { authorization: 'Bearer wrong' } })), 'COLLECTOR_ERR_UNKNOWN_CREDENTIAL')
  const tok = await enrollmentToken(c, { uses: 1, expires_in: '1h' })
  const asEnroll = await c.app.inject({ method: 'POST', url, payload: {}, headers: { authorization: `Bearer ${tok}` } })
  t.equal(asEnroll.statusCode, 403)
  t.equal(code(asEnroll), 'COLLECTOR_ERR_FORBIDDEN_ROLE')
  const bad = await c.app.inject({ method: 'POST', url, payload: { uses: 0 }, headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json(), { code: 'COLLECTOR_ERR_BAD_REQUEST', message: /uses/ }, 'names the parameter')
  // A lifetime past what a Date holds was a 500 (RangeError: Invalid time value); both routes and the CLI share the parser.
  for (const u of [url, '/api/v1/tokens']) {
    const far = await c.app.inject({ method: 'POST', url: u, payload: { role: 'enroll', expires_in: '99999999d' }, headers: { authorization: `Bearer ${ADMIN}` } })
    t.equal(far.statusCode, 400, `${u}: a lifetime of 99999999d`)
    t.match(far.json(), { code: 'COLLECTOR_ERR_BAD_REQUEST', message: /expires_in.*at most 36500d/ })
  }
  t.equal((await c.app.inject({ method: 'POST', url, payload: { expires_in: '36500d' }, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 201, '100 years is accepted')
  const created = await c.app.inject({ method: 'POST', url, payload: { uses: 2, expires_in: '2h' }, headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(created.statusCode, 201)
  const j = created.json() as { expires_at: string; uses: number; token: string }
  t.ok(Math.abs(Date.parse(j.expires_at) - Date.now() - 7_200_000) < 60_000)
  t.equal(j.uses, 2)
  t.match(j.token, /^tt_enroll_/)

  t.equal((await enroll(c, tok, 1, 'nonce-aaaaaaaaaaaaaaaa')).statusCode, 200)
  const second = await enroll(c, tok, 2, 'nonce-bbbbbbbbbbbbbbbb')
  t.equal(second.statusCode, 401)
  t.equal(code(second), 'COLLECTOR_ERR_ENROLL_TOKEN_EXHAUSTED')

  const old = await createToken(c.store, { role: 'enroll', createdBy: 'test', ttlSeconds: 1, now: Date.now() - 10_000 })
  const expired = await enroll(c, old.secret, 3, 'nonce-cccccccccccccccc')
  t.equal(expired.statusCode, 401)
  t.equal(code(expired), 'COLLECTOR_ERR_ENROLL_TOKEN_EXPIRED')
  t.equal(code(await enroll(c, ADMIN, 3, 'nonce-cccccccccccccccc')), 'COLLECTOR_ERR_ENROLL_TOKEN_INVALID', 'an admin token is not an enrollment token')
  const badBody = await c.app.inject({ method: 'POST', url: '/api/v1/enroll', payload: { enrollment_token: tok, machine_id_hash: 'xyz', nonce: 'short' } })
  t.equal(badBody.statusCode, 400)
  t.match(badBody.json(), { message: /machine_id_hash/ })
  const audit = await c.store.audit.list()
  t.ok(audit.some((a) => a.action === 'token.create' && a.details?.role === 'enroll'), 'token creation audited')
  t.ok(audit.some((a) => a.action === 'agent.enroll'), 'enrollment audited')
})

t.test('clone detection: same machine id with another nonce is refused and recorded, never merged', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const tok = await enrollmentToken(c)
  const first = await enroll(c, tok, 42, 'nonce-original-000000')
  t.equal(first.statusCode, 200)
  const a = first.json() as { agent_id: string; secret: string; reenrolled: boolean }
  t.equal(a.reenrolled, false)
  const clone = await enroll(c, tok, 42, 'nonce-the-clone-11111')
  t.equal(clone.statusCode, 409)
  t.equal(code(clone), 'COLLECTOR_ERR_ENROLL_CLONE')
  t.match((clone.json() as { message: string }).message, a.agent_id, 'names the agent already enrolled')
  const conflicts = await c.store.agents.conflicts()
  t.equal(conflicts.length, 1)
  t.match(conflicts[0], { kind: 'clone', existingAgentId: a.agent_id, machineIdHash: machineHash(42) })
  t.equal((await c.store.agents.list()).length, 1, 'no second agent, nothing merged')
  t.equal((await c.store.tokens.list()).filter((x) => x.role === 'enroll')[0]!.uses, 1, 'a refused enrollment does not use the token')

  // The same machine and nonce re-enrolls: same id, new secret, the old secret stops working.
  const again = await enroll(c, tok, 42, 'nonce-original-000000')
  t.equal(again.statusCode, 200)
  const b = again.json() as { agent_id: string; secret: string; reenrolled: boolean }
  t.equal(b.agent_id, a.agent_id)
  t.equal(b.reenrolled, true)
  t.not(b.secret, a.secret)
  const { post, gz, batch } = await import('./collector-fixtures.js')
  t.equal((await post(c, a.secret, gz(batch(a.agent_id, 1, 1)), { 'content-encoding': 'gzip' })).statusCode, 403, 'old secret refused')
  t.equal((await post(c, b.secret, gz(batch(a.agent_id, 1, 1)), { 'content-encoding': 'gzip' })).statusCode, 200, 'new secret works')

  // After an admin revokes the old agent, the machine may enroll as a new agent.
  const del = await c.app.inject({ method: 'DELETE', url: `/api/v1/agents/${a.agent_id}`, headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(del.statusCode, 200)
  t.ok((del.json() as { revoked_at: string }).revoked_at)
  const fresh = await enroll(c, tok, 42, 'nonce-the-clone-11111')
  t.equal(fresh.statusCode, 200)
  t.not((fresh.json() as { agent_id: string }).agent_id, a.agent_id)
})

t.test('revocation route: admin only, 404 for unknown agents, idempotent', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  const tok = await enrollmentToken(c)
  const a = (await enroll(c, tok, 7, 'nonce-7777777777777777')).json() as { agent_id: string; secret: string }
  const url = `/api/v1/agents/${a.agent_id}`
  t.equal((await c.app.inject({ method: 'DELETE', url })).statusCode, 401)
  t.equal((await c.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${a.secret}` } })).statusCode, 403, 'an agent cannot revoke')
  const nf = await c.app.inject({ method: 'DELETE', url: '/api/v1/agents/agt_nobody', headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(nf.statusCode, 404)
  t.equal(code(nf), 'COLLECTOR_ERR_NOT_FOUND')
  const badId = await c.app.inject({ method: 'DELETE', url: '/api/v1/agents/a%20b', headers: { authorization: `Bearer ${ADMIN}` } })
  t.equal(badId.statusCode, 400)
  t.equal((await c.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 200)
  t.equal((await c.app.inject({ method: 'DELETE', url, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 200, 'revoking twice is fine')
  t.ok((await c.store.audit.list()).some((x) => x.action === 'agent.revoke' && x.target === a.agent_id))
})

t.test('TELLTALE_ADMIN_TOKEN: created once, kept across restarts', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const dir = mkdtempSync(join(tmpdir(), 'telltale-collector-admin-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const c1 = await startCollector({}, dir)
  await c1.close()
  const c2 = await startCollector({}, dir)
  t.equal((await c2.store.tokens.list()).filter((x) => x.role === 'admin').length, 1)
  t.equal((await c2.app.inject({ method: 'POST', url: '/api/v1/enrollment-tokens', headers: { authorization: `Bearer ${ADMIN}` }, payload: {} })).statusCode, 201)
  await c2.close()
})
