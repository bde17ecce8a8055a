/**
 * A build without the WebAssembly flow core (tsc alone, no asc) still replays flows only: one
 * line on stderr says the core is missing and how to build it, and the TypeScript table writes
 * the same conn.log. Runs the CLI from a copy of dist/ with flowcore.wasm removed.
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateCapture } from '../bench/generate-capture.js'
import { AGENT_BIN, REPO_ROOT } from './helpers/paths.js'

t.test('replay --no-app without flowcore.wasm falls back to the TypeScript table', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'tt-core-fallback-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const root = join(work, 'repo')
  mkdirSync(join(root, 'dist'), { recursive: true })
  for (const d of ['agent', 'protocol']) cpSync(join(REPO_ROOT, 'dist', d), join(root, 'dist', d), { recursive: true })
  cpSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'))
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'))
  rmSync(join(root, 'dist', 'agent', 'flowcore', 'flowcore.wasm'))

  const pcap = join(work, 'mix.pcap')
  generateCapture(pcap, { profile: 'mix', flows: 300, seed: 5 })
  const rowsOf = (dir: string): string[] =>
    readFileSync(join(dir, 'conn.log'), 'latin1').split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t').filter((_c, i) => i !== 1).join('\t'))

  const withCore = spawnSync(process.execPath, [AGENT_BIN, 'replay', pcap, '--no-app', '--no-hosts', '--log-dir', join(work, 'core')], { encoding: 'utf8' })
  t.equal(withCore.status, 0, withCore.stderr)
  t.notMatch(withCore.stderr, /flow core is not available/, 'the built tree has its core')

  const without = spawnSync(process.execPath, [join(root, 'dist', 'agent', 'cli', 'main.js'), 'replay', pcap, '--no-app', '--no-hosts', '--log-dir', join(work, 'js')], { encoding: 'utf8' })
  t.equal(without.status, 0, without.stderr)
  t.match(without.stderr, /the WebAssembly flow core is not available \(ENOENT[^)]*\); using the TypeScript flow table — `npm run build` builds the core/, 'one line says what happened and what to do')
  t.equal(without.stderr.split('\n').filter((l) => l.startsWith('telltale-agent:')).length, 1, 'said once')
  const a = rowsOf(join(work, 'core'))
  t.ok(a.length >= 300, `${a.length} rows`)
  t.same(rowsOf(join(work, 'js')), a, 'same conn.log rows (uid aside)')
})
