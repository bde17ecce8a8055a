import t from 'tap'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { AGENT_BIN, COLLECTOR_BIN, entryNodeFlags, REPO_ROOT } from './helpers/paths.js'

const version = (JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version

t.test('both binaries print the package version', async (t) => {
  t.match(execFileSync(process.execPath, [AGENT_BIN, 'version'], { encoding: 'utf8' }), `telltale-agent ${version}`)
  t.match(execFileSync(process.execPath, [COLLECTOR_BIN, 'version'], { encoding: 'utf8' }), `telltale-collector ${version}`)
})

t.test('the agent starts with the Node.js flags of its first line (what npx and the package run)', async (t) => {
  const flags = entryNodeFlags(AGENT_BIN)
  t.same(flags, ['--max-semi-space-size=8'], 'docs/flows.md ("Memory") measured this flag; change both together')
  // node refuses a flag it does not know (exit 9): a typo here would stop every installed agent.
  t.match(execFileSync(process.execPath, [...flags, AGENT_BIN, 'version'], { encoding: 'utf8' }), `telltale-agent ${version}`)
  t.same(entryNodeFlags(COLLECTOR_BIN), [], 'the collector runs with V8 defaults')
})

t.test('an unknown command is a usage error with exit code 2', async (t) => {
  try {
    execFileSync(process.execPath, [AGENT_BIN, 'no-such-command'], { encoding: 'utf8', stdio: 'pipe' })
    t.fail('should have failed')
  } catch (err) {
    const e = err as { status: number; stderr: string }
    t.equal(e.status, 2)
    t.match(e.stderr, /unknown command/)
  }
})
