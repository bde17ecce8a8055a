// The collector URL from config, --collector and enrollment: one check, one message, exit 2, no stack.
import t from 'tap'
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { collectorUrlProblem } from '../agent/ship/collector-url.js'
import { AGENT_MAIN } from './helpers/ship-paths.js'

const run = promisify(execFile)
const fail = (args: string[]): Promise<{ code: number; stderr: string }> =>
  run(process.execPath, [AGENT_MAIN, ...args], { timeout: 30_000 }).then(
    (r) => ({ code: 0, stderr: r.stderr }),
    (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }))

t.test('collectorUrlProblem', async (t) => {
  t.equal(collectorUrlProblem('https://collector.example:8270'), undefined)
  t.equal(collectorUrlProblem('http://127.0.0.1:8270/telltale/'), undefined, 'a base path is allowed')
  t.match(collectorUrlProblem('127.0.0.1:8270'), /has no scheme; use https:\/\/127\.0\.0\.1:8270/)
  t.match(collectorUrlProblem('collector.example:8270'), /has no scheme/)
  t.match(collectorUrlProblem('ftp://collector.example'), /not ftp:\/\//)
  t.match(collectorUrlProblem('https://c.example/?x=1'), /query or fragment/)
  t.match(collectorUrlProblem('https://u:p@c.example'), /credentials do not go in the URL/)
  t.match(collectorUrlProblem('http://'), /not a URL/)
})

t.test('CLI: enroll and replay --collector refuse a bad URL or an empty token with one line, exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'telltale-collector-url-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const noScheme = await fail(['enroll', '--collector', '127.0.0.1:8270', '--token', 'x', '--state-dir', dir])
  t.equal(noScheme.code, 2)
  t.equal(noScheme.stderr.trim().split('\n').length, 1, noScheme.stderr)
  t.match(noScheme.stderr, /^telltale-agent: --collector: "127\.0\.0\.1:8270" has no scheme/)
  t.notMatch(noScheme.stderr, /TypeError|at /)
  const empty = await fail(['enroll', '--collector', 'http://127.0.0.1:9', '--token', '', '--state-dir', dir])
  t.equal(empty.code, 2)
  t.match(empty.stderr, /--token is empty/)
  const replay = await fail(['replay', join(dir, 'absent.pcap'), '--collector', 'collector.example:8270', '--state-dir', dir])
  t.equal(replay.code, 2, 'checked before anything is read or enrolled')
  t.match(replay.stderr, /--collector: "collector\.example:8270" has no scheme/)
})

t.test('enroll over https:// to a plain-HTTP port says to use http://', async (t) => {
  const server = createServer((_req, res) => { res.statusCode = 404; res.end() })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  const dir = mkdtempSync(join(tmpdir(), 'telltale-collector-url-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const r = await fail(['enroll', '--collector', `https://127.0.0.1:${port}`, '--token', 'x', '--state-dir', dir])
  t.equal(r.code, 1)
  t.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  t.match(r.stderr, new RegExp(`use http://127\\.0\\.0\\.1:${port}\\)`))
})
