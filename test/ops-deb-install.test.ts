/**
 * Builds both .deb files with packaging/build-deb.sh and installs them into a throwaway
 * root (`dpkg --root`, maintainer scripts run chrootless with $DPKG_ROOT): files, users,
 * permissions, conffiles, the enabled unit, the bundled runtime and native addons; then
 * remove and purge, which must leave the root as it was (the system users stay, as in
 * every Debian package; docs/operations.md).
 *
 * Needs root, dpkg and systemd's tools; the first run fetches the Node runtime package
 * from the npm registry (cached under data/pkg-cache).
 */
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { REPO_ROOT } from './helpers/paths.js'

const isRoot = process.getuid?.() === 0
const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0
const missing = ['dpkg', 'dpkg-deb', 'systemd-sysusers', 'systemd-tmpfiles', 'systemctl', 'strip'].filter((c) => !have(c))
const skip = !isRoot ? 'needs root (dpkg --root with chrootless maintainer scripts)'
  : missing.length > 0 ? `missing tools: ${missing.join(', ')} (apt-get install dpkg systemd binutils)` : false

const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

/** Every path under dir (relative), with type and mode, except dpkg's own database. */
function snapshot(dir: string, rel = ''): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const p = join(rel, name)
    if (p === join('var', 'lib', 'dpkg')) continue
    const st = lstatSync(join(dir, p))
    out.push(`${p} ${st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : 'f'}`)
    if (st.isDirectory()) out.push(...snapshot(dir, p))
  }
  return out
}

function passwdEntry(root: string, file: 'passwd' | 'group', name: string): string[] | undefined {
  const line = readFileSync(join(root, 'etc', file), 'utf8').split('\n').find((l) => l.startsWith(`${name}:`))
  return line?.split(':')
}

t.test('build both .debs, install into a throwaway root, remove, purge', { skip, timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'telltale-deb-test-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const out = join(work, 'out')
  const t0 = Date.now()
  run('bash', [join(REPO_ROOT, 'packaging', 'build-deb.sh'), '--out', out, '--compress', 'none', '--no-tarball', '--no-typecheck'])
  t.comment(`build: ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  const arch = run('dpkg', ['--print-architecture']).trim()
  const agentDeb = join(out, `telltale-agent_${version}_${arch}.deb`)
  const collectorDeb = join(out, `telltale-collector_${version}_${arch}.deb`)
  t.ok(existsSync(agentDeb) && existsSync(collectorDeb), 'both packages built')
  t.match(run('dpkg-deb', ['-f', agentDeb, 'Depends']), /libpcap0\.8/, 'the agent depends on libpcap0.8')

  // The throwaway root: an empty dpkg database and the groups the units name.
  const root = join(work, 'root')
  for (const d of ['var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'etc']) mkdirSync(join(root, d), { recursive: true })
  writeFileSync(join(root, 'var/lib/dpkg/status'), '')
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n')
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nadm:x:4:\nsystemd-journal:x:101:\n')
  const before = snapshot(root)
  const dpkg = (...args: string[]): string => run('dpkg', [`--root=${root}`, '--force-script-chrootless', '--force-depends', '--force-not-root', '--force-unsafe-io', ...args])

  dpkg('-i', agentDeb, collectorDeb)
  const query = (pkg: string, field: string): string => run('dpkg-query', [`--admindir=${join(root, 'var/lib/dpkg')}`, '-W', `-f=\${${field}}`, pkg])
  t.equal(query('telltale-agent', 'db:Status-Abbrev').trim(), 'ii', 'agent installed and configured')
  t.equal(query('telltale-collector', 'db:Status-Abbrev').trim(), 'ii', 'collector installed and configured')

  // Files and permissions.
  for (const p of ['usr/bin/telltale-agent', 'usr/bin/telltale-collector', 'usr/lib/telltale/agent/node', 'usr/lib/telltale/collector/node']) {
    t.equal(statSync(join(root, p)).mode & 0o777, 0o755, `${p} is 0755`)
  }
  for (const p of ['lib/systemd/system/telltale-agent.service', 'lib/systemd/system/telltale-agent@.service', 'lib/systemd/system/telltale-collector.service',
    'usr/lib/sysusers.d/telltale-agent.conf', 'usr/lib/tmpfiles.d/telltale-collector.conf', 'usr/share/man/man1/telltale-agent.1.gz',
    'usr/share/doc/telltale-collector/copyright', 'usr/share/doc/telltale-agent/operations.md']) {
    t.ok(existsSync(join(root, p)), `${p} installed`)
  }

  // Users, state directories, config permissions.
  const agentUser = passwdEntry(root, 'passwd', 'telltale')
  const collectorUser = passwdEntry(root, 'passwd', 'telltale-collector')
  t.ok(agentUser && collectorUser, 'both service users created by systemd-sysusers')
  t.equal(agentUser?.[6], '/usr/sbin/nologin', 'the agent user cannot log in')
  t.ok(Number(agentUser?.[2]) > 0 && Number(agentUser?.[2]) < 1000, 'the agent user is a system user')
  const agentGid = Number(passwdEntry(root, 'group', 'telltale')?.[2])
  const collectorGid = Number(passwdEntry(root, 'group', 'telltale-collector')?.[2])
  const stateAgent = statSync(join(root, 'var/lib/telltale-agent'))
  t.equal(stateAgent.uid, Number(agentUser?.[2]), 'agent state dir owned by telltale')
  t.equal(stateAgent.mode & 0o777, 0o750, 'agent state dir is 0750')
  t.equal(statSync(join(root, 'var/lib/telltale-collector')).uid, Number(collectorUser?.[2]), 'collector state dir owned by telltale-collector')
  const agentConf = statSync(join(root, 'etc/telltale/agent.yaml'))
  t.same([agentConf.uid, agentConf.gid, agentConf.mode & 0o777], [0, agentGid, 0o640], 'agent.yaml is root:telltale 0640')
  const collectorConf = statSync(join(root, 'etc/telltale/collector.yaml'))
  t.same([collectorConf.uid, collectorConf.gid, collectorConf.mode & 0o777], [0, collectorGid, 0o640], 'collector.yaml is root:telltale-collector 0640')
  t.match(query('telltale-agent', 'Conffiles'), /\/etc\/telltale\/agent\.yaml [0-9a-f]{32}/, 'agent.yaml is a conffile')
  t.match(query('telltale-collector', 'Conffiles'), /\/etc\/telltale\/collector\.yaml [0-9a-f]{32}/, 'collector.yaml is a conffile')

  // Enabled, not started (nothing runs in a throwaway root anyway).
  const wants = join(root, 'etc/systemd/system/multi-user.target.wants')
  t.equal(readlinkSync(join(wants, 'telltale-agent.service')), '/lib/systemd/system/telltale-agent.service', 'agent unit enabled')
  t.equal(readlinkSync(join(wants, 'telltale-collector.service')), '/lib/systemd/system/telltale-collector.service', 'collector unit enabled')

  // The bundled runtime runs the programs, validates the shipped configs and loads the addons.
  const node = join(root, 'usr/lib/telltale/agent/node')
  const agentMain = join(root, 'usr/lib/telltale/agent/app/dist/agent/cli/main.js')
  const collectorMain = join(root, 'usr/lib/telltale/collector/app/dist/collector/cli/main.js')
  t.match(run(node, [agentMain, 'version']), new RegExp(`telltale-agent ${version.replace(/\./g, '\\.')} \\(node v${process.versions.node.replace(/\./g, '\\.')}\\)`), 'agent runs on the bundled node')
  t.match(run(node, [agentMain, 'check-config', join(root, 'etc/telltale/agent.yaml')]), /is valid/, 'shipped agent.yaml is valid')
  t.match(run(join(root, 'usr/lib/telltale/collector/node'), [collectorMain, 'check-config', '--config', join(root, 'etc/telltale/collector.yaml')]), /configuration valid/, 'shipped collector.yaml is valid')
  const addons = run(node, ['-e', 'const r = require("node:module").createRequire(process.argv[1]); r("pcap"); r("cap"); r("classic-level"); console.log("addons ok")', join(root, 'usr/lib/telltale/agent/app/package.json')])
  t.match(addons, /addons ok/, 'native addons load in the bundled node')
  // The WebAssembly flow core ships in the package, and replay uses it (no fallback line).
  t.ok(existsSync(join(root, 'usr/lib/telltale/agent/app/dist/agent/flowcore/flowcore.wasm')), 'the flow core is installed')
  const scratch = mkdtempSync(join(tmpdir(), 'tt-deb-replay-')) // outside the root: the purge check lists it
  t.teardown(() => rmSync(scratch, { recursive: true, force: true }))
  const pcap = join(scratch, 'one-flow.pcap')
  writeFileSync(pcap, onePacketCapture())
  const replayed = spawnSync(node, [agentMain, 'replay', pcap, '--no-app', '--no-hosts', '--log-dir', join(scratch, 'out')], { encoding: 'utf8' })
  t.equal(replayed.status, 0, replayed.stderr)
  t.notMatch(replayed.stderr, /flow core is not available/, 'replay --no-app runs on the installed flow core')
  t.match(readFileSync(join(scratch, 'out', 'conn.log'), 'latin1'), /\t192\.0\.2\.1\t40000\t192\.0\.2\.2\t80\ttcp\t/, 'its conn.log has the flow')

  // A modified conffile survives reinstalling the package.
  writeFileSync(join(root, 'etc/telltale/agent.yaml'), `${readFileSync(join(root, 'etc/telltale/agent.yaml'), 'utf8')}# local change\n`)
  dpkg('-i', agentDeb)
  t.match(readFileSync(join(root, 'etc/telltale/agent.yaml'), 'utf8'), /# local change/, 'local conffile change kept across reinstall')

  // Something the agent would have written at run time.
  writeFileSync(join(root, 'var/lib/telltale-agent/identity.json'), '{}')

  dpkg('-r', 'telltale-agent', 'telltale-collector')
  t.notOk(existsSync(join(root, 'usr/bin/telltale-agent')), 'remove: program gone')
  t.notOk(existsSync(join(root, 'usr/lib/telltale')), 'remove: runtime and app gone')
  t.notOk(existsSync(join(wants, 'telltale-agent.service')), 'remove: unit disabled')
  t.ok(existsSync(join(root, 'etc/telltale/agent.yaml')), 'remove: conffile kept')
  t.ok(existsSync(join(root, 'var/lib/telltale-agent/identity.json')), 'remove: state kept')

  dpkg('-P', 'telltale-agent', 'telltale-collector')
  t.notOk(existsSync(join(root, 'etc/telltale')), 'purge: /etc/telltale gone')
  t.notOk(existsSync(join(root, 'var/lib/telltale-agent')), 'purge: agent state gone')
  t.notOk(existsSync(join(root, 'var/lib/telltale-collector')), 'purge: collector state gone')
  // The only differences left: the users (kept, as Debian does) and the files sysusers manages.
  const accountFiles = new Set(['etc/passwd f', 'etc/group f', 'etc/shadow f', 'etc/gshadow f', 'etc/.pwd.lock f', 'etc/passwd- f', 'etc/group- f', 'etc/shadow- f', 'etc/gshadow- f'])
  const after = snapshot(root).filter((l) => !accountFiles.has(l))
  const emptySystemdDirs = after.filter((l) => /^etc\/systemd(\/system(\/multi-user\.target\.wants)?)? d$/.test(l))
  t.same(after.filter((l) => !emptySystemdDirs.includes(l)), before.filter((l) => !accountFiles.has(l)), 'purge leaves no file behind')
  t.same(existsSync(wants) ? readdirSync(wants) : [], [], 'no enable symlink left')
})

t.test('build-deb: bad arguments exit 2 with a message', { skip: have('dpkg') ? false : 'needs dpkg' }, async (t) => {
  const r = spawnSync('bash', [join(REPO_ROOT, 'packaging', 'build-deb.sh'), '--compress', 'lzma', '--out', join(tmpdir(), 'x')], { encoding: 'utf8' })
  t.equal(r.status, 2)
  t.match(r.stderr, /--compress must be/)
  const r2 = spawnSync('bash', [join(REPO_ROOT, 'packaging', 'build-deb.sh')], { encoding: 'utf8' })
  t.equal(r2.status, 2)
  t.match(r2.stderr, /--out DIR is required/)
})

/** A classic pcap holding one TCP SYN 192.0.2.1:40000 → 192.0.2.2:80 (checksums right). */
function onePacketCapture(): Buffer {
  const ip = Buffer.from([0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2])
  const tcp = Buffer.from([0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0])
  const sum = (b: Buffer, init = 0): number => {
    let s = init
    for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16)
    return s
  }
  ip.writeUInt16BE(~sum(ip) & 0xffff, 10)
  const pseudo = Buffer.concat([ip.subarray(12, 20), Buffer.from([0, 6, 0, 20])])
  tcp.writeUInt16BE(~sum(tcp, sum(pseudo)) & 0xffff, 16)
  const frame = Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]), ip, tcp])
  const file = Buffer.alloc(24 + 16 + frame.length)
  file.writeUInt32LE(0xa1b2c3d4, 0); file.writeUInt16LE(2, 4); file.writeUInt16LE(4, 6)
  file.writeUInt32LE(65535, 16); file.writeUInt32LE(1, 20)
  file.writeUInt32LE(1_700_000_000, 24); file.writeUInt32LE(frame.length, 32); file.writeUInt32LE(frame.length, 36)
  frame.copy(file, 40)
  return file
}
