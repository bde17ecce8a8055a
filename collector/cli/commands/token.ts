/**
 * `telltale-collector token create --role enroll [--expires 1h] [--uses N] [--site NAME] --data-dir DIR`:
 * creates a token offline, in the store of a collector that is NOT running (level allows
 * one process per store; with a running collector use POST /api/v1/enrollment-tokens).
 * Prints the secret (once) on stdout.
 */
import type { Command } from 'commander'
import { parseDurationSeconds } from '../../auth/secrets.js'
import { createToken } from '../../enroll/enrollment.js'
import { siteNameProblem } from '../../enroll/site-name.js'
import { CollectorStore, isStoreLocked, storeOpenProblem, TOKEN_ROLES, type TokenRole } from '../../storage/index.js'
import { addConfigFlags, configOrExit, type ConfigFlags } from './config-options.js'

interface TokenFlags extends ConfigFlags { role: string; expires?: string; uses?: string; note?: string; site?: string; json?: boolean }

export function register(program: Command): void {
  const token = program.command('token').description('manage API and enrollment tokens offline (collector stopped)')
  addConfigFlags(token.command('create')
    .description('create a token and print its secret')
    .requiredOption('--role <role>', `one of ${TOKEN_ROLES.filter((r) => r !== 'agent').join(', ')}`)
    .option('--expires <duration>', 'lifetime, e.g. 45m, 1h, 7d (enroll default 24h, others never)')
    .option('--uses <n>', 'how many times an enrollment token may be used')
    .option('--note <text>', 'a note stored with the token')
    .option('--site <name>', 'enroll tokens: the site of the agents enrolled with it (their private addresses are told apart from other sites\' in the topology)')
    .option('--json', 'print {id, token, role, expires_at, uses, site} as JSON'))
    .action(async (o: TokenFlags) => {
      const role = o.role as TokenRole
      if (!TOKEN_ROLES.includes(role) || role === 'agent') {
        process.stderr.write(`telltale-collector: --role must be one of ${TOKEN_ROLES.filter((r) => r !== 'agent').join(', ')} (agent credentials come from enrollment)\n`)
        process.exitCode = 2
        return
      }
      const ttl = o.expires !== undefined ? parseDurationSeconds(o.expires) : role === 'enroll' ? 24 * 3600 : undefined
      if (o.expires !== undefined && ttl === undefined) {
        process.stderr.write(`telltale-collector: --expires "${o.expires}" is not a duration like 45m, 1h or 7d (at most 36500d)\n`)
        process.exitCode = 2
        return
      }
      const uses = o.uses === undefined ? undefined : /^\d+$/.test(o.uses.trim()) ? Number(o.uses) : NaN
      if (uses !== undefined && (!Number.isSafeInteger(uses) || uses < 1 || uses > 1_000_000)) {
        process.stderr.write(`telltale-collector: --uses "${o.uses}" must be a whole number from 1 to 1000000\n`)
        process.exitCode = 2
        return
      }
      if (uses !== undefined && role !== 'enroll') {
        // As POST /api/v1/tokens: only enrollment tokens count their uses.
        process.stderr.write(`telltale-collector: --uses: only enroll tokens have a use limit (this one is ${role})\n`)
        process.exitCode = 2
        return
      }
      if (o.site !== undefined) {
        const problem = role === 'enroll' ? siteNameProblem(o.site) : `only enroll tokens have a site (this one is ${role})`
        if (problem !== undefined) {
          process.stderr.write(`telltale-collector: --site: ${problem}\n`)
          process.exitCode = 2
          return
        }
      }
      const r = configOrExit(o)
      if (r === undefined) return
      const store = new CollectorStore({ dataDir: r.config.data_dir, sync: true })
      try {
        await store.open()
      } catch (err) {
        process.stderr.write(isStoreLocked(err)
          ? `telltale-collector: the data directory ${r.config.data_dir} is in use by a running collector (COLLECTOR_ERR_STORE_LOCKED); use POST /api/v1/enrollment-tokens instead\n`
          : `telltale-collector: ${storeOpenProblem(r.config.data_dir, err)?.message ?? `cannot open the store in ${r.config.data_dir}: ${(err as Error).message}`}\n`)
        process.exitCode = 1
        return
      }
      try {
        const opts: Parameters<typeof createToken>[1] = { role, createdBy: 'cli' }
        if (ttl !== undefined) opts.ttlSeconds = ttl
        if (uses !== undefined) opts.maxUses = uses
        if (o.note !== undefined) opts.note = o.note
        if (o.site !== undefined) opts.site = o.site
        const { secret, record } = await createToken(store, opts)
        if (o.json === true) process.stdout.write(`${JSON.stringify({ id: record.id, token: secret, role, expires_at: record.expiresAt ?? null, uses: record.maxUses ?? null, site: record.site ?? null })}\n`)
        else process.stdout.write(`${secret}\n`)
        process.stderr.write(`created ${role} token ${record.id}${record.expiresAt ? `, expires ${record.expiresAt}` : ''}${record.maxUses ? `, ${record.maxUses} uses` : ''}${record.site ? `, site ${record.site}` : ''}\n`)
      } finally {
        await store.close()
      }
    })
}
