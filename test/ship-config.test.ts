/**
 * Agent config: defaults from the schema, frozen result, every problem reported with its
 * key and line, env and flag overrides (precedence flag > env > file), and the
 * check-config command as a real process (exit 2, one line per problem).
 */
import t from 'tap'
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { leafKeys, loadConfig } from '../agent/config/index.js'
import { captureFilterProblem } from '../agent/capture/filter-check.js'
import { AGENT_MAIN } from './helpers/ship-paths.js'

const run = promisify(execFile)

t.test('defaults and freezing', async (t) => {
  const { config, problems } = loadConfig(undefined, { text: '', env: {} })
  t.same(problems, [])
  t.equal(config.ship.max_batch_bytes, 512 * 1024)
  t.equal(config.heartbeat.interval_s, 30)
  t.equal(config.capture.ignore_checksums, true)
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.ship) && Object.isFrozen(config.capture.interfaces))
})

const BAD = `collector:
  url: http://127.0.0.1:8270
  colector_typo: 1
ship:
  max_batch_bytes: lots
  gzip_level: 12
capture:
  backend: libpcap
logs:
  files:
    - name: auth
      include: [/var/log/auth.log]
      type: klingon
`

t.test('every problem with key and line', async (t) => {
  const { problems } = loadConfig('agent.yaml', { text: BAD, env: {} })
  const by = Object.fromEntries(problems.map((p) => [p.key, p]))
  t.same(Object.keys(by).sort(), ['capture.backend', 'collector.colector_typo', 'logs.files.0.type', 'ship.gzip_level', 'ship.max_batch_bytes'])
  t.equal(by['collector.colector_typo']!.where, 'agent.yaml:3')
  t.match(by['collector.colector_typo']!.message, /unknown key/)
  t.equal(by['ship.max_batch_bytes']!.where, 'agent.yaml:5')
  t.equal(by['ship.gzip_level']!.where, 'agent.yaml:6')
  t.match(by['ship.gzip_level']!.message, /less or equal to 9, got 12/)
  t.equal(by['capture.backend']!.where, 'agent.yaml:8')
  t.match(by['capture.backend']!.message, /expected one of pcap, cap, got "libpcap"/)
  t.equal(by['logs.files.0.type']!.where, 'agent.yaml:13')
  const yamlErr = loadConfig('x.yaml', { text: 'ship:\n  a: [1,\n', env: {} })
  t.match(yamlErr.problems[0], { key: '', where: /^x\.yaml:\d+$/, message: /^YAML:/ })
})

t.test('overrides: flag > env > file', async (t) => {
  const text = 'ship:\n  max_in_flight: 2\ncapture:\n  interfaces: [eth0]\n'
  const env = { TELLTALE_SHIP_MAX_IN_FLIGHT: '3', TELLTALE_CAPTURE_INTERFACES: '[eth1, eth2]', TELLTALE_STATE_DIR: '/tmp/x', TELLTALE_ADMIN_TOKEN: 'not config' }
  const a = loadConfig('a.yaml', { text, env })
  t.same(a.problems, [])
  t.equal(a.config.ship.max_in_flight, 3)
  t.same(a.config.capture.interfaces, ['eth1', 'eth2'])
  t.equal(a.config.state_dir, '/tmp/x')
  const b = loadConfig('a.yaml', { text, env, flags: { shipMaxInFlight: '7', captureIgnoreChecksums: 'false' } })
  t.equal(b.config.ship.max_in_flight, 7)
  t.equal(b.config.capture.ignore_checksums, false)
  const c = loadConfig('a.yaml', { text, env: { TELLTALE_SHIP_GZIP_LEVEL: 'max' } })
  t.match(c.problems, [{ key: 'ship.gzip_level', where: 'environment variable TELLTALE_SHIP_GZIP_LEVEL' }])
  const keys = leafKeys()
  t.ok(keys.find((k) => k.flag === '--ship-max-batch-bytes' && k.env === 'TELLTALE_SHIP_MAX_BATCH_BYTES'))
  t.equal(new Set(keys.map((k) => k.env)).size, keys.length, 'env names are unique')
})

t.test('TLS files of the collector connection: unreadable or half a pair, with their lines', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-agent-tls-config-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const pem = join(dir, 'client.pem')
  writeFileSync(pem, 'readable')
  const text = `collector:\n  url: https://127.0.0.1:8270\n  ca_file: ${join(dir, 'absent-ca.pem')}\n  cert_file: ${pem}\n`
  const { problems } = loadConfig('agent.yaml', { text, env: {} })
  t.same(problems.map((p) => [p.key, p.where]).sort(), [['collector.ca_file', 'agent.yaml:3'], ['collector.cert_file', 'agent.yaml:4'], ['collector.key_file', 'agent.yaml:4']])
  t.match(problems.find((p) => p.key === 'collector.cert_file')!.message, /client\.pem holds no PEM certificate/)
  t.match(problems.find((p) => p.key === 'collector.ca_file')!.message, /cannot read .*absent-ca\.pem: ENOENT/)
  if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) { t.comment('openssl CLI not installed: PEM contents not checked'); return }
  for (const n of ['a', 'b']) {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, `${n}.key`),
      '-out', join(dir, `${n}.pem`), '-days', '2', '-subj', `/CN=${n}`], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(r.stderr)
  }
  const tlsText = (ca: string, cert: string, key: string): string => `collector:\n  ca_file: ${join(dir, ca)}\n  cert_file: ${join(dir, cert)}\n  key_file: ${join(dir, key)}\n`
  t.same(loadConfig('agent.yaml', { text: tlsText('b.pem', 'a.pem', 'a.key'), env: {} }).problems, [], 'a CA, a certificate and its key: valid')
  t.match(loadConfig('agent.yaml', { text: tlsText('b.pem', 'a.pem', 'b.key'), env: {} }).problems, [{ key: 'collector.key_file', where: 'agent.yaml:4', message: /b\.key is not the key of the certificate in .*a\.pem/ }])
  t.match(loadConfig('agent.yaml', { text: tlsText('a.key', 'a.pem', 'a.key'), env: {} }).problems, [{ key: 'collector.ca_file', where: 'agent.yaml:2', message: /holds no PEM CA certificate/ }])
})

t.test('values the schema cannot check: URL, local networks, cron, capture filter, with their lines', async (t) => {
  const text = [
    'collector:',
    '  url: "ftp://collector.example"',
    'capture:',
    '  interfaces: [eth0]',
    '  filter: "tcp port 99999"',
    'flows:',
    '  local_nets:',
    '    - 10.0.0.0/8',
    '    - 10.0.0.0/33',
    '    - not-a-net',
    'heartbeat:',
    '  inventory_cron: "every hour"',
    '',
  ].join('\n')
  const { problems } = loadConfig('agent.yaml', { text, env: {} })
  t.same(problems.map((p) => [p.key, p.where]).sort(), [
    ['capture.filter', 'agent.yaml:5'], ['collector.url', 'agent.yaml:2'], ['flows.local_nets.1', 'agent.yaml:9'],
    ['flows.local_nets.2', 'agent.yaml:10'], ['heartbeat.inventory_cron', 'agent.yaml:12'],
  ])
  const msg = (k: string): string => problems.find((p) => p.key === k)!.message
  t.match(msg('collector.url'), /https:\/\/ \(or http:\/\/\), not ftp:/)
  t.match(msg('flows.local_nets.1'), /prefix length above 32/)
  t.match(msg('capture.filter'), /illegal port number 99999/)
  t.match(msg('heartbeat.inventory_cron'), /not a cron expression/)
  t.match(loadConfig('a.yaml', { text: 'collector:\n  url: "collector:8270"\n', env: {} }).problems, [{ key: 'collector.url' }], 'no scheme: refused')
  t.match(loadConfig('a.yaml', { text: 'collector:\n  url: "https://c.example/x?y=1"\n', env: {} }).problems, [{ key: 'collector.url', message: /query/ }])
  t.same(loadConfig('a.yaml', { text: 'capture:\n  filter: "wlan type mgt"\n', env: {} }).problems, [], 'a filter for monitor-mode interfaces only is not refused')
  t.same(loadConfig('a.yaml', { text: 'capture:\n  filter: "vlan and (tcp port 443 or udp port 53)"\nflows:\n  local_nets: [192.168.0.0/16, fd00::/8, 10.1.2.3]\n', env: {} }).problems, [])
  const env = loadConfig('a.yaml', { text: '', env: { TELLTALE_CAPTURE_FILTER: 'tcp port' } })
  t.match(env.problems, [{ key: 'capture.filter', where: 'environment variable TELLTALE_CAPTURE_FILTER', message: /syntax error/ }])
})

t.test('the filter check never stops a start: no temp directory, no check (the open reports it)', async (t) => {
  t.match(captureFilterProblem('tcp port'), /syntax error/)
  const saved = process.env.TMPDIR
  process.env.TMPDIR = '/proc/telltale-no-such-dir'
  try {
    t.equal(captureFilterProblem('tcp port'), undefined)
  } finally {
    if (saved === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = saved
  }
})

t.test('check-config process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-cfg-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const bad = join(dir, 'agent.yaml')
  writeFileSync(bad, BAD)
  const err = await run(process.execPath, [AGENT_MAIN, 'check-config', bad]).then(() => null, (e: { code: number; stderr: string }) => e)
  t.equal(err?.code, 2)
  const lines = err!.stderr.trim().split('\n').filter((l) => /agent\.yaml:\d+: /.test(l))
  t.equal(lines.length, 5, err!.stderr)
  t.match(err!.stderr, /agent\.yaml:6: ship\.gzip_level:/)
  const good = join(dir, 'good.yaml')
  writeFileSync(good, 'collector:\n  url: http://127.0.0.1:8270\n')
  const ok = await run(process.execPath, [AGENT_MAIN, 'check-config', good])
  t.match(ok.stdout, /is valid/)
  const flag = await run(process.execPath, [AGENT_MAIN, 'check-config', '--config', good])
  t.match(flag.stdout, /is valid/, 'check-config --config FILE, as run takes it')
  const none = await run(process.execPath, [AGENT_MAIN, 'check-config']).then(() => null, (e: { code: number; stderr: string }) => e)
  t.equal(none?.code, 2)
  t.match(none!.stderr, /which file\?/)
})

t.test('a YAML alias bomb is a config problem, not a crash or an OOM', async (t) => {
  let text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
  for (const [k, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f']]) text += `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]\n`
  const { problems } = loadConfig('bomb.yaml', { text, env: {} })
  t.equal(problems.length, 1)
  t.match(problems[0]?.message ?? '', /^YAML: Excessive alias count/)
})

t.test('flows.app_logs: default all the analyzers\' logs, [] none, an unknown log named with its key', async (t) => {
  t.same(loadConfig('a.yaml', { text: '', env: {} }).config.flows.app_logs, ['dns', 'http', 'ssl', 'x509', 'ssh', 'dhcp', 'ftp'])
  t.same(loadConfig('a.yaml', { text: 'flows:\n  app_logs: []\n', env: {} }).config.flows.app_logs, [])
  t.same(loadConfig('a.yaml', { text: 'flows:\n  app_logs: [dns]\n', env: { TELLTALE_FLOWS_APP_LOGS: '[ssl, x509]' } }).config.flows.app_logs, ['ssl', 'x509'], 'the environment overrides the file')
  t.same(loadConfig('a.yaml', { text: '', env: {}, flags: { flowsAppLogs: '[]' } }).config.flows.app_logs, [], 'and the flag does too')
  const bad = loadConfig('a.yaml', { text: 'flows:\n  app_logs:\n    - dns\n    - smtp\n', env: {} })
  t.same(bad.problems.map((p) => [p.key, p.where]), [['flows.app_logs.1', 'a.yaml:4']])
  t.match(bad.problems[0]!.message, /expected one of dns, http, ssl, x509, ssh, dhcp, ftp, got "smtp"/)
})
