// `telltale-agent status` finds the socket the way `run` places it, and refuses bad flags with one line.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_MAIN } from './helpers/ship-paths.js'

const status = (args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; stderr: string } => {
  const r = spawnSync(process.execPath, [AGENT_MAIN, 'status', ...args], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } })
  return { code: r.status, stderr: r.stderr }
}

t.test('bad flags: exit 2, one line', async (t) => {
  const timeout = status(['--timeout', 'abc', '--socket', '/nonexistent/s.sock'])
  t.equal(timeout.code, 2)
  t.match(timeout.stderr, /--timeout expects milliseconds from 100 to 600000, got "abc"/)
  const config = status(['--config', '/nonexistent/agent.yaml'])
  if (existsSync('/run/telltale-agent/status.sock')) t.equal(config.code, 3, 'an installed agent answers first')
  else {
    t.equal(config.code, 2)
    t.match(config.stderr, /--config \/nonexistent\/agent\.yaml: no such file/)
  }
})

t.test('--state-dir and TELLTALE_STATE_DIR point at DIR/status.sock, as run puts it there', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-status-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const flag = status(['--state-dir', dir])
  t.equal(flag.code, 3, 'not running')
  t.match(flag.stderr, `no agent answers on ${join(dir, 'status.sock')}`)
  if (existsSync('/run/telltale-agent/status.sock')) { t.comment('an installed agent owns /run/telltale-agent/status.sock here: the environment case is not checked'); return }
  const env = status(['--config', '/dev/null'], { TELLTALE_STATE_DIR: dir })
  t.equal(env.code, 3)
  t.match(env.stderr, `no agent answers on ${join(dir, 'status.sock')}`)
})
