// TLS between agent and collector with real processes and real certificates (made here with
// the openssl CLI): the agent pins the collector's CA (a certificate from another CA is refused
// with a clear error), mutual TLS when the collector sets tls.client_ca_file; and CORS, off by
// default and on only for the listed origins.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN, enrollmentToken, startCollector, type TestCollector } from './collector-fixtures.js'
import { Trace } from './helpers/flow-fixtures.js'
import { AGENT_BIN } from './helpers/paths.js'
import { buildPcap } from './helpers/pcap-writer.js'

const haveOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0
const dir = mkdtempSync(join(tmpdir(), 'telltale-tls-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
const f = (name: string): string => join(dir, name)

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`)
}

/** A CA, and a leaf certificate signed by it (EC P-256, valid two days). */
function makeCa(name: string): void {
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
}
function makeLeaf(name: string, ca: string, ext: string): void {
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
  writeFileSync(f(`${name}.ext`), ext)
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`])
}

/** Runs the agent CLI (a real process); resolves with its exit status and output. */
function agent(args: string[], timeoutMs = 60_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [AGENT_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }) })
  })
}

async function listen(c: TestCollector): Promise<string> {
  const address = await c.app.listen({ host: '127.0.0.1', port: 0 })
  return address.replace('http://', 'https://')
}

const flowCount = async (c: TestCollector): Promise<number> =>
  ((await c.app.inject({ method: 'GET', url: '/api/v1/flows?from=2000-01-01T00:00:00Z&limit=1000', headers: { authorization: `Bearer ${ADMIN}` } })).json() as { flows: unknown[] }).flows.length

t.test('TLS and mutual TLS with real processes', { skip: haveOpenssl ? false : 'openssl CLI not installed (Debian package openssl)' }, async (t) => {
  makeCa('ca')
  makeCa('other-ca')
  makeLeaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  makeLeaf('client', 'ca', 'extendedKeyUsage=clientAuth\n')
  makeLeaf('client-other', 'other-ca', 'extendedKeyUsage=clientAuth\n')
  const pcap = f('trace.pcap')
  const tr = new Trace().tcp('C', 'S', 1000, 0).tcp('S', 'SA', 5000, 1001).tcp('C', 'A', 1001, 5001)
    .tcp('C', 'PA', 1001, 5001, 10).tcp('S', 'PA', 5001, 1011, 20).tcp('C', 'FA', 1011, 5021).tcp('S', 'FA', 5021, 1012).tcp('C', 'A', 1012, 5022)
  writeFileSync(pcap, buildPcap(tr.frames))

  t.test('HTTPS with a pinned CA', async (t) => {
    const c = await startCollector({ 'tls.cert_file': f('server.pem'), 'tls.key_file': f('server.key') })
    t.teardown(() => c.close())
    const url = await listen(c)
    // A CA that did not sign the collector's certificate: enrollment fails with a clear error.
    const wrong = await agent(['enroll', '--collector', url, '--token', await enrollmentToken(c), '--state-dir', f('state-wrong'), '--ca-file', f('other-ca.pem')])
    t.not(wrong.status, 0, 'enroll against a certificate from another CA fails')
    t.match(wrong.stderr, /certificate|self[- ]signed|issuer/i, `the error names the certificate problem: ${wrong.stderr.trim()}`)
    t.notMatch(wrong.stderr, /\n\s+at /, 'one line, no stack trace')
    // Without a pinned CA the system store is used, which does not hold this test CA either.
    const unpinned = await agent(['enroll', '--collector', url, '--token', await enrollmentToken(c), '--state-dir', f('state-unpinned')])
    t.not(unpinned.status, 0, 'a private CA is not trusted unless pinned')
    t.match(unpinned.stderr, /--ca-file/, 'and the error says how to pin it')
    // The right CA: enroll, ship, every flow acknowledged.
    const ok = await agent(['replay', pcap, '--collector', url, '--enroll-token', await enrollmentToken(c), '--state-dir', f('state-ok'), '--ca-file', f('ca.pem')])
    t.equal(ok.status, 0, ok.stderr)
    t.match(ok.stderr + ok.stdout, /acknowledged/i)
    t.equal(await flowCount(c), 1, 'the flow arrived over TLS')
  })

  t.test('mutual TLS: tls.client_ca_file requires a client certificate from that CA', async (t) => {
    const c = await startCollector({ 'tls.cert_file': f('server.pem'), 'tls.key_file': f('server.key'), 'tls.client_ca_file': f('ca.pem') })
    t.teardown(() => c.close())
    const url = await listen(c)
    const none = await agent(['enroll', '--collector', url, '--token', await enrollmentToken(c), '--state-dir', f('m-none'), '--ca-file', f('ca.pem')])
    t.not(none.status, 0, `no client certificate: refused in the handshake (${none.stderr.trim()})`)
    t.notMatch(none.stderr, /\n\s+at /, 'one line, no stack trace')
    t.match(none.stderr, /--cert-file/, 'and it says a client certificate may be what is missing')
    const other = await agent(['enroll', '--collector', url, '--token', await enrollmentToken(c), '--state-dir', f('m-other'), '--ca-file', f('ca.pem'),
      '--cert-file', f('client-other.pem'), '--key-file', f('client-other.key')])
    t.not(other.status, 0, 'a client certificate from another CA: refused')
    const half = await agent(['enroll', '--collector', url, '--token', 'x', '--state-dir', f('m-half'), '--ca-file', f('ca.pem'), '--cert-file', f('client.pem')])
    t.not(half.status, 0)
    t.match(half.stderr, /both a client certificate file and its key file/, 'a certificate without its key is a config error')
    const ok = await agent(['replay', pcap, '--collector', url, '--enroll-token', await enrollmentToken(c), '--state-dir', f('m-ok'), '--ca-file', f('ca.pem'),
      '--cert-file', f('client.pem'), '--key-file', f('client.key')])
    t.equal(ok.status, 0, ok.stderr)
    t.equal(await flowCount(c), 1, 'the flow arrived over mutual TLS')
  })
})

t.test('CORS is off by default and on only for the listed origins', async (t) => {
  const get = (c: TestCollector, origin: string) => c.app.inject({ method: 'GET', url: '/api/v1/stats', headers: { authorization: `Bearer ${ADMIN}`, origin } })
  const preflight = (c: TestCollector, origin: string) => c.app.inject({ method: 'OPTIONS', url: '/api/v1/stats', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
  const off = await startCollector()
  t.teardown(() => off.close())
  t.equal((await get(off, 'https://ui.example')).headers['access-control-allow-origin'], undefined, 'default: no CORS header')
  t.equal((await preflight(off, 'https://ui.example')).headers['access-control-allow-origin'], undefined, 'default: preflight not granted')
  const on = await startCollector({ 'api.cors_origins': ['https://ui.example'] })
  t.teardown(() => on.close())
  const allowed = await get(on, 'https://ui.example')
  t.equal(allowed.statusCode, 200)
  t.equal(allowed.headers['access-control-allow-origin'], 'https://ui.example', 'a listed origin is allowed')
  const pre = await preflight(on, 'https://ui.example')
  t.equal(pre.headers['access-control-allow-origin'], 'https://ui.example', 'preflight of a listed origin')
  t.match(String(pre.headers['access-control-allow-methods']), /GET/)
  t.equal((await get(on, 'https://evil.example')).headers['access-control-allow-origin'], undefined, 'an unlisted origin gets no CORS header')
  t.equal((await preflight(on, 'https://evil.example')).headers['access-control-allow-origin'], undefined, 'nor a preflight')
})
