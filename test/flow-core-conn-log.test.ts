/**
 * The WebAssembly flow core writes conn.log rows itself (agent/flowcore/assembly/conn-log-line.ts)
 * when nothing wants the records as objects. Those files must be the bytes the TypeScript
 * encoder writes for the TypeScript table's records: compared here file against file, every
 * column but the uid and the tunnel parents (both random uids), for generated captures with
 * every option that shapes a row, and for every capture of the corpus.
 */
import t, { type Test } from 'tap'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateCapture } from '../bench/generate-capture.js'
import { replayFiles, type ReplayOptions } from '../agent/cli/commands/replay.js'
import { CORPUS_DIR, CORPUS_SKIP_MESSAGE, corpusAvailable } from './helpers/paths.js'

const work = mkdtempSync(join(tmpdir(), 'tt-core-connlog-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

/** conn.log rows (and the header lines but #open/#close), uid and tunnel_parents blanked. */
function rows(dir: string): string[] {
  const text = readFileSync(join(dir, 'conn.log'), 'latin1')
  const fields = /^#fields\t(.*)$/m.exec(text)![1]!.split('\t')
  const uid = fields.indexOf('uid')
  const parents = fields.indexOf('tunnel_parents')
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#open') && !l.startsWith('#close')).map((l) => {
    if (l.startsWith('#')) return l
    const c = l.split('\t')
    c[uid] = 'UID'
    if (c[parents] !== '-') c[parents] = `${c[parents]!.split(',').length} parent(s)`
    return c.join('\t')
  })
}

async function both(t: Test, file: string, opts: ReplayOptions, label: string): Promise<void> {
  const out: Record<'js' | 'wasm', string[]> = { js: [], wasm: [] }
  for (const core of ['js', 'wasm'] as const) {
    const dir = mkdtempSync(join(work, `${core}-`))
    await replayFiles([file], { ...opts, app: false, hosts: false, quiet: true, logDir: dir, flowCore: core })
    out[core] = rows(dir)
  }
  const n = Math.max(out.js.length, out.wasm.length)
  let first = -1
  for (let i = 0; i < n && first < 0; i++) if (out.js[i] !== out.wasm[i]) first = i
  t.equal(first, -1, `${label}: conn.log identical (${out.js.length} lines)` +
    (first >= 0 ? `\n  js:   ${out.js[first]}\n  wasm: ${out.wasm[first]}` : ''))
}

t.test('generated captures, with the options that shape a row', async (t) => {
  const mix = join(work, 'mix.pcap')
  generateCapture(mix, { profile: 'mix', flows: 3000, seed: 11 })
  const conc = join(work, 'conc.pcap')
  generateCapture(conc, { profile: 'concurrent', flows: 2000, seed: 12 })
  for (const [file, name] of [[mix, 'mix'], [conc, 'concurrent']] as const) {
    await both(t, file, {}, name)
    await both(t, file, { vlanColumns: true }, `${name}, --vlan-columns`)
    await both(t, file, { ignoreChecksums: true }, `${name}, -C`)
    await both(t, file, { localNets: ['10.0.0.0/8', 'fd00::/8'] }, `${name}, --local-nets`)
    await both(t, file, { maxFlows: '50' }, `${name}, --max-flows 50 (evictions)`)
    await both(t, file, { activeTimeout: '2' }, `${name}, --active-timeout 2 (interim rows)`)
  }
})

t.test('every capture of the corpus', { skip: corpusAvailable() ? false : CORPUS_SKIP_MESSAGE }, async (t) => {
  const files = readdirSync(CORPUS_DIR).filter((f) => /\.(pcap|pcapng)$/.test(f))
  t.ok(files.length >= 10, `${files.length} captures`)
  for (const f of files) {
    await both(t, join(CORPUS_DIR, f), {}, f)
    await both(t, join(CORPUS_DIR, f), { ignoreChecksums: true, vlanColumns: true }, `${f}, -C --vlan-columns`)
  }
})

t.test('hosts.ndjson from the core\'s written rows equals the one from the TypeScript records', async (t) => {
  const mix = join(work, 'mix-hosts.pcap')
  generateCapture(mix, { profile: 'mix', flows: 3000, seed: 13 })
  const text: Record<string, string> = {}
  for (const core of ['js', 'wasm'] as const) {
    const dir = mkdtempSync(join(work, `hosts-${core}-`))
    await replayFiles([mix], { app: false, quiet: true, logDir: dir, flowCore: core })
    text[core] = readFileSync(join(dir, 'hosts.ndjson'), 'utf8')
  }
  t.ok(text.js!.split('\n').length > 100, 'hosts written')
  t.equal(text.wasm, text.js, 'same hosts, same order, same fields')
})
