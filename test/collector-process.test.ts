// A real `telltale-collector serve` process on 127.0.0.1: enroll, ingest over HTTP with undici,
// graceful SIGTERM, restart on the same data dir (the batch is a duplicate), offline token CLI.
import t from 'tap'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { gzipSync } from 'node:zlib'
import { decodeAck, encodeBatch } from '../protocol/index.js'
import { batch, machineHash } from './collector-fixtures.js'
import { COLLECTOR_BIN } from './helpers/paths.js'
import { KEEP_OLD_RECORDS_ENV } from './helpers/keep-old-records.js'

const ADMIN = 'tt_admin_process-test-0123456789abcdef'

async function serve(dataDir: string): Promise<{ proc: ChildProcess; url: string; exited: Promise<number | null> }> {
  const proc = spawn(process.execPath, [COLLECTOR_BIN, 'serve', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], { env: { ...process.env, ...KEEP_OLD_RECORDS_ENV, TELLTALE_ADMIN_TOKEN: ADMIN }, stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 20 s: ${out}`)), 20_000)
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)
      if (m) { clearTimeout(timer); resolve(m[1]!) }
    })
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`exited ${code}: ${out}`)) })
  })
  return { proc, url, exited }
}

t.test('serve, enroll, ingest, stop, restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-collector-proc-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const s1 = await serve(dir)
  t.teardown(() => { if (s1.proc.exitCode === null) s1.proc.kill('SIGKILL') })
  t.equal((await request(`${s1.url}/readyz`)).statusCode, 200)

  // Offline token CLI refuses while the collector holds the store.
  const locked = spawnSync(process.execPath, [COLLECTOR_BIN, 'token', 'create', '--role', 'enroll', '--data-dir', dir], { encoding: 'utf8' })
  t.equal(locked.status, 1)
  t.match(locked.stderr, /COLLECTOR_ERR_STORE_LOCKED/)

  const tokRes = await request(`${s1.url}/api/v1/enrollment-tokens`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ uses: 1 }) })
  t.equal(tokRes.statusCode, 201)
  const tok = (await tokRes.body.json() as { token: string }).token
  const en = await request(`${s1.url}/api/v1/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enrollment_token: tok, machine_id_hash: machineHash(5), nonce: 'nonce-process-test-01' }) })
  t.equal(en.statusCode, 200)
  const agent = await en.body.json() as { agent_id: string; secret: string }
  const body = gzipSync(encodeBatch(batch(agent.agent_id, 1, 2000)))
  const send = async (url: string) => {
    const r = await request(`${url}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${agent.secret}`, 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' }, body })
    return { status: r.statusCode, ack: decodeAck(new Uint8Array(await r.body.arrayBuffer())) }
  }
  const r1 = await send(s1.url)
  t.equal(r1.status, 200)
  t.equal(r1.ack.duplicate, false)

  s1.proc.kill('SIGTERM')
  t.equal(await s1.exited, 0, 'graceful stop exits 0')

  const created = spawnSync(process.execPath, [COLLECTOR_BIN, 'token', 'create', '--role', 'enroll', '--uses', '2', '--expires', '1h', '--json', '--data-dir', dir], { encoding: 'utf8' })
  t.equal(created.status, 0, created.stderr)
  t.match(JSON.parse(created.stdout), { role: 'enroll', uses: 2, token: /^tt_enroll_/ })
  const badRole = spawnSync(process.execPath, [COLLECTOR_BIN, 'token', 'create', '--role', 'root', '--data-dir', dir], { encoding: 'utf8' })
  t.equal(badRole.status, 2)
  for (const [args, why] of [
    [['--role', 'admin', '--uses', '3'], /only enroll tokens have a use limit/],
    [['--role', 'enroll', '--uses', '1e3'], /whole number from 1 to 1000000/],
    [['--role', 'enroll', '--expires', '99999999d'], /at most 36500d/],
  ] as const) {
    const bad = spawnSync(process.execPath, [COLLECTOR_BIN, 'token', 'create', ...args, '--data-dir', dir], { encoding: 'utf8' })
    t.equal(bad.status, 2, args.join(' '))
    t.match(bad.stderr, why)
    t.notMatch(bad.stderr, /RangeError|\n {4}at /, 'one line, no stack')
  }

  const s2 = await serve(dir)
  t.teardown(() => { if (s2.proc.exitCode === null) s2.proc.kill('SIGKILL') })
  const r2 = await send(s2.url)
  t.equal(r2.status, 200)
  t.equal(r2.ack.duplicate, true, 'the batch survived the restart and is not applied twice')
  s2.proc.kill('SIGINT')
  t.equal(await s2.exited, 0)
})
