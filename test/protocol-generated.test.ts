// The committed protobufjs code must be what scripts/protocol-gen.mjs makes from the .proto
// files today: CI fails here when someone edits a .proto and forgets `npm run proto:gen`.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { REPO_ROOT } from './helpers/paths.js'

const committedDir = resolve(REPO_ROOT, 'protocol', 'generated')

t.test('generated protocol code is up to date with protocol/telltale/v1/*.proto', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'telltale-proto-gen-'))
  t.teardown(() => rmSync(out, { recursive: true, force: true }))
  execFileSync(process.execPath, [resolve(REPO_ROOT, 'scripts', 'protocol-gen.mjs'), '--out', out], { stdio: 'pipe' })

  const fresh = readdirSync(out).sort()
  const committed = readdirSync(committedDir).sort()
  t.same(committed, fresh, 'the same generated files')
  for (const f of fresh) {
    const same = readFileSync(join(out, f), 'utf8') === readFileSync(join(committedDir, f), 'utf8')
    t.ok(same, `protocol/generated/${f} matches a fresh generation (run \`npm run proto:gen\` and commit the result)`)
  }
  t.ok(fresh.includes('telltale-v1.ts') && fresh.includes('telltale-v1.types.d.ts'), 'code and types were generated')
})

t.test('every .proto in protocol/telltale/v1 is in the generated code', async (t) => {
  const protos = readdirSync(resolve(REPO_ROOT, 'protocol', 'telltale', 'v1')).filter((f) => f.endsWith('.proto'))
  const head = readFileSync(join(committedDir, 'telltale-v1.ts'), 'utf8').split('\n', 1)[0]
  for (const p of protos) t.match(head, `protocol/telltale/v1/${p}`, `${p} is listed as a source`)
})
