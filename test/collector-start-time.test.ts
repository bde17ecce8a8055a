// The collector's start is bounded by systemd (TimeoutStartSec), not by fastify's 10 s per
// plugin: loading a large stored topology takes longer than that (7 s for 150k hosts on the
// bench machine), and a collector with a bigger store could not start at all. The load is
// reported in one log line with its counts and duration.
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import t from 'tap'
import { pino } from 'pino'
import { buildApp } from '../collector/app.js'
import { loadConfig } from '../collector/config/load-config.js'
import type { CollectorConfig } from '../collector/config/config-schema.js'
import { ADMIN, batch, enrollAgent, post, startCollector } from './collector-fixtures.js'
import { encodeBatch } from '../protocol/index.js'

t.test('no plugin timeout; the unit allows ten minutes', async (t) => {
  const c = await startCollector()
  t.teardown(() => c.close())
  t.equal(c.app.initialConfig.pluginTimeout, 0)
  const unit = readFileSync(new URL('../../systemd/telltale-collector.service', import.meta.url), 'utf8')
  t.match(unit, /^TimeoutStartSec=600s$/m)
})

t.test('the topology load is logged with its counts', async (t) => {
  const c = await startCollector()
  const a = await enrollAgent(c, 1)
  t.equal((await post(c, a.secret, encodeBatch(batch(a.agentId, 1, 50)))).statusCode, 200)
  await c.app.close()
  const lines: string[] = []
  const sink = new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString('utf8')); cb() } })
  const cfg = loadConfig({ env: {}, flags: { data_dir: c.dir, 'storage.sync': false } })
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems))
  const again = buildApp({ config: cfg.config as CollectorConfig, log: pino({ level: 'info' }, sink), adminToken: ADMIN })
  await again.app.ready()
  await again.app.close()
  await c.close()
  const loaded = lines.map((l) => JSON.parse(l) as { msg: string; hosts?: number; edges?: number; ms?: number }).find((l) => l.msg === 'topology loaded from the store')
  t.ok(loaded, 'one line says the topology was loaded')
  t.ok((loaded?.hosts ?? 0) > 0 && (loaded?.edges ?? 0) > 0, 'with its host and edge counts')
  t.type(loaded?.ms, 'number', 'and how long it took')
})
