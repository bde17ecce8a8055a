// Configuration: YAML + TELLTALE_* env + flags, validated once; check-config names key and line.
import t from 'tap'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../collector/config/load-config.js'
import { COLLECTOR_BIN } from './helpers/paths.js'
import { listenFailure } from '../collector/cli/commands/serve.js'

const dir = mkdtempSync(join(tmpdir(), 'telltale-collector-config-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string): string => { const p = join(dir, name); writeFileSync(p, text); return p }
const haveOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0

t.test('defaults, then file, then env, then flags', async (t) => {
  const d = loadConfig({ env: {} })
  t.ok(d.ok)
  if (d.ok) t.match(d.config, { listen: '127.0.0.1:8270', storage: { sync: true }, ingest: { max_body_bytes: 16 * 1024 * 1024 } })
  const f = file('ok.yaml', 'listen: 0.0.0.0:9000\ningest:\n  max_flows_per_batch: 5000\n')
  const r = loadConfig({ file: f, env: { TELLTALE_INGEST_MAX_FLOWS_PER_BATCH: '7000', TELLTALE_STORAGE_SYNC: 'false' }, flags: { listen: '127.0.0.1:1234' } })
  t.ok(r.ok)
  if (r.ok) {
    t.match(r.config, { listen: '127.0.0.1:1234', ingest: { max_flows_per_batch: 7000 }, storage: { sync: false } })
    t.ok(Object.isFrozen(r.config.ingest), 'frozen')
  }
})

t.test('every problem, with key and file line or env name', async (t) => {
  const f = file('bad.yaml', 'listen: nope\nlog:\n  level: loud\ningest:\n  max_body_bytes: 10\n  typo_key: 1\n')
  const r = loadConfig({ file: f, env: { TELLTALE_STORAGE_SYNC: 'perhaps' } })
  t.notOk(r.ok)
  if (r.ok) return
  const by = Object.fromEntries(r.problems.map((p) => [p.key, p.source]))
  t.equal(by.listen, `${f}:1`)
  t.equal(by['log.level'], `${f}:3`)
  t.equal(by['ingest.max_body_bytes'], `${f}:5`)
  t.equal(by['ingest.typo_key'], `${f}:6`)
  t.equal(by['storage.sync'], 'env TELLTALE_STORAGE_SYNC')
  t.ok(r.problems.length >= 5)
  const yamlErr = loadConfig({ file: file('broken.yaml', 'a: [\n'), env: {} })
  t.notOk(yamlErr.ok)
  const missing = loadConfig({ file: join(dir, 'absent.yaml'), env: {} })
  t.notOk(missing.ok)
  // A "billion laughs" document: refused by yaml's alias limit, reported as a problem.
  let bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
  for (const [k, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd'], ['f', 'e'], ['g', 'f']]) bomb += `${k}: &${k} [${Array(9).fill(`*${prev}`).join(',')}]\n`
  const laughs = loadConfig({ file: file('bomb.yaml', bomb), env: {} })
  t.notOk(laughs.ok)
  if (!laughs.ok) t.match(laughs.problems[0]?.message ?? '', /^Excessive alias count/)
})

t.test('listen: a port out of range is a configuration problem; a failed listen is one line with the remedy', async (t) => {
  const r = loadConfig({ file: file('port.yaml', 'log:\n  level: info\nlisten: 127.0.0.1:99999\n'), env: {} })
  t.notOk(r.ok)
  if (!r.ok) t.same(r.problems.map((p) => [p.key, p.source.split(':').pop(), p.message]), [['listen', '3', 'port 99999 is out of range (0-65535)']])
  t.ok(loadConfig({ flags: { listen: '[::1]:65535' }, env: {} }).ok, 'the highest port, IPv6')
  const inUse = Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8270'), { code: 'EADDRINUSE' })
  t.match(listenFailure('127.0.0.1:8270', inUse), /^cannot listen on 127\.0\.0\.1:8270: the address is already in use .*choose another --listen/)
  const other = Object.assign(new Error('something odd'), { code: 'EWHATEVER' })
  t.equal(listenFailure('h:1', other), 'cannot listen on h:1: something odd')
})

t.test('values the schema cannot check: cron, CORS origins, networks, addresses, policy zones and port ranges', async (t) => {
  const f = file('semantic.yaml', [
    'api:',
    '  cors_origins: ["https://soc.example", "soc.example/x"]',
    'retention:',
    '  schedule: "whenever"',
    'detection:',
    '  local_nets: ["10.0.0.0/8", "foo"]',
    '  arp_spoof:',
    '    gateways: ["10.0.0.1", "gw"]',
    'policy:',
    '  zones:',
    '    - name: lan',
    '      cidrs: ["10.0.0.0/8", "bar"]',
    '    - name: lan',
    '  allowed:',
    '    - from: lan',
    '      to: dmz',
    '      ports: ["tcp/443", "tcp/900-80"]',
    '',
  ].join('\n'))
  const r = loadConfig({ file: f, env: {} })
  t.notOk(r.ok)
  if (r.ok) return
  t.same(r.problems.map((p) => [p.key, p.source.split(':').pop()]).sort(), [
    ['api.cors_origins.1', '2'], ['detection.arp_spoof.gateways.1', '8'], ['detection.local_nets.1', '6'],
    ['policy.allowed.0.ports.1', '17'], ['policy.allowed.0.to', '16'], ['policy.zones.0.cidrs.1', '12'],
    ['policy.zones.1.name', '13'], ['retention.schedule', '4'],
  ])
  t.match(r.problems.find((p) => p.key === 'retention.schedule')!.message, /not a cron expression/)
  t.match(r.problems.find((p) => p.key === 'policy.allowed.0.to')!.message, /"dmz" is no zone \(zones: lan, external/)
  const env = loadConfig({ env: { TELLTALE_RETENTION_SCHEDULE: '* *' } })
  t.match(env.ok ? [] : env.problems, [{ key: 'retention.schedule', source: 'env TELLTALE_RETENTION_SCHEDULE' }])
  const good = loadConfig({ file: file('semantic-ok.yaml', 'api:\n  cors_origins: ["*", "http://127.0.0.1:3000"]\ndetection:\n  local_nets: [10.0.0.0/8, "fd00::/8", 192.0.2.7]\n  rogue_dhcp:\n    allowed_servers: ["10.0.0.2", "fe80::1"]\npolicy:\n  zones: [{ name: lan, cidrs: [10.0.0.0/8] }]\n  allowed: [{ from: lan, to: external, ports: ["tcp/1-1024", "udp/any"] }, { from: "*", to: lan }]\n'), env: {} })
  t.same(good.ok ? [] : good.problems, [], 'valid values pass')
})

t.test('TLS files: unreadable, half a pair, client CA without HTTPS', async (t) => {
  const absent = loadConfig({ file: file('tls-absent.yaml', `tls:\n  cert_file: ${join(dir, 'no.pem')}\n  key_file: ${join(dir, 'no.key')}\n`), env: {} })
  t.notOk(absent.ok)
  if (!absent.ok) {
    t.same(absent.problems.map((p) => [p.key, p.source.split(':').pop()]), [['tls.cert_file', '2'], ['tls.key_file', '3']])
    t.match(absent.problems[0]!.message, /cannot read .*no\.pem: ENOENT/)
  }
  const junk = file('junk.pem', 'not a certificate')
  const half = loadConfig({ env: { TELLTALE_TLS_CERT_FILE: junk } })
  t.notOk(half.ok)
  if (!half.ok) t.same(half.problems.filter((p) => p.key === 'tls.key_file').map((p) => [p.key, p.source]), [['tls.key_file', 'env TELLTALE_TLS_CERT_FILE']], 'names the missing key and where the other came from')
  const caOnly = loadConfig({ env: { TELLTALE_TLS_CLIENT_CA_FILE: junk } })
  t.notOk(caOnly.ok)
  if (!caOnly.ok) t.match(caOnly.problems[0]!.message, /mutual TLS needs HTTPS/)
})

t.test('TLS files: what they hold (a PEM certificate, its own key, a CA bundle)', { skip: haveOpenssl ? false : 'openssl CLI not installed (Debian package openssl)' }, async (t) => {
  const pair = (name: string): void => {
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, `${name}.key`),
      '-out', join(dir, `${name}.pem`), '-days', '2', '-subj', `/CN=${name}`], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(r.stderr)
  }
  pair('a')
  pair('b')
  file('junk2.pem', 'not a certificate')
  const env = (cert: string, key: string, ca?: string): NodeJS.ProcessEnv => ({ TELLTALE_TLS_CERT_FILE: join(dir, cert), TELLTALE_TLS_KEY_FILE: join(dir, key), ...(ca ? { TELLTALE_TLS_CLIENT_CA_FILE: join(dir, ca) } : {}) })
  const good = loadConfig({ env: env('a.pem', 'a.key', 'b.pem') })
  t.same(good.ok ? [] : good.problems, [], 'a certificate, its key and a CA: valid')
  const problems = (e: NodeJS.ProcessEnv): Array<[string, string]> => { const r = loadConfig({ env: e }); return r.ok ? [] : r.problems.map((p) => [p.key, p.message]) }
  t.match(problems(env('a.pem', 'b.key')), [['tls.key_file', /b\.key is not the key of the certificate in .*a\.pem \(key values mismatch\)/]])
  t.match(problems(env('junk2.pem', 'a.key')), [['tls.cert_file', /junk2\.pem holds no PEM certificate/]])
  t.match(problems(env('a.pem', 'a.pem')), [['tls.key_file', /a\.pem holds no usable PEM private key/]])
  t.match(problems(env('a.pem', 'a.key', 'junk2.pem')), [['tls.client_ca_file', /junk2\.pem holds no PEM CA certificate/]])
})

t.test('check-config CLI: exit 2 listing every problem, 0 when valid', async (t) => {
  const bad = file('cli-bad.yaml', 'listen: nope\ningest:\n  max_flows_per_batch: -1\n')
  const r = spawnSync(process.execPath, [COLLECTOR_BIN, 'check-config', '--config', bad], { encoding: 'utf8', env: { ...process.env, TELLTALE_DATA_DIR: '' } })
  t.equal(r.status, 2)
  t.match(r.stderr, `${bad}:1: listen:`)
  t.match(r.stderr, `${bad}:3: ingest.max_flows_per_batch:`)
  t.match(r.stderr, /2 problems/)
  const good = file('cli-good.yaml', 'listen: 127.0.0.1:8270\n')
  const out = execFileSync(process.execPath, [COLLECTOR_BIN, 'check-config', '--config', good, '--data-dir', dir], { encoding: 'utf8' })
  t.match(out, /configuration valid/)
})
