/**
 * TLS conformance against independent oracles:
 * - Zeek 9.1 baselines (ssl.log and x509.log, every column; ts masked, uid random):
 *   tls-conn-with-extensions (TLS 1.0, SNI, certificate chain), tls13-wolfssl (TLS 1.3 on a
 *   non-TLS port, found by detection; -C), xmpp-starttls (XMPP STARTTLS → conn.log service
 *   "xmpp,ssl", ssl.log and x509.log of the upgraded stream).
 * - Suricata (suricata-verify expectations): sv-tls13-draft28 (SNI + JA3 hash and string of two
 *   ClientHellos), sv-tls-certs-alert (JA3S hash and string, JA3 string prefix from the rules),
 *   sv-ja4-tls (JA4 and the certificate's subject, issuer, serial, SHA-1 fingerprint, validity).
 * Our extra ssl.log columns (ja3, ja3s, ja4, ja4s) are not in the Zeek baselines and not compared there.
 * Exceptions: none — every compared field must be equal. (Suricata's `tls.version` text
 * "TLS 1.3 draft-28" is checked against Zeek's naming of the same version, "TLSv13-draft28".)
 */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { replayFiles } from '../agent/cli/commands/replay.js'
import { APP_ANALYZERS } from '../agent/app/registry.js'
import { createTlsAnalyzerFactory, DEFAULT_TLS_CONFIG, SSL_LOG, TLS_ANALYZER, X509_LOG, type SslState } from '../agent/app/tls/index.js'
import type { AppConnInfo } from '../agent/app/app-analyzer.js'
import { compareAppLog } from './helpers/app-log-compare.js'
import { CORPUS_SKIP_MESSAGE, corpusAvailable, corpusIgnoresChecksums, corpusPath } from './helpers/paths.js'
import { readZeekLog } from './helpers/zeek-log-reader.js'

interface Replayed {
  ssl: Record<string, unknown>[]
  x509: Record<string, unknown>[]
  services: Map<string, string>
  states: Array<{ conn: AppConnInfo; state: SslState }>
}

if (!corpusAvailable()) {
  t.comment(CORPUS_SKIP_MESSAGE)
  t.pass(`skipped: ${CORPUS_SKIP_MESSAGE}`)
} else {
  const ignoreChecksums = corpusIgnoresChecksums
  // The registry's TLS factory is swapped for one that also hands us the full state (JA3 strings, SHA-1s).
  const replay = async (name: string, forceC = false): Promise<Replayed> => {
    const res: Replayed = { ssl: [], x509: [], services: new Map(), states: [] }
    const idx = APP_ANALYZERS.indexOf(TLS_ANALYZER)
    APP_ANALYZERS[idx] = createTlsAnalyzerFactory({ ...DEFAULT_TLS_CONFIG, onRecord: (conn, state) => res.states.push({ conn, state }) })
    try {
      await replayFiles([corpusPath(`${name}.pcap`)], { ignoreChecksums: forceC || ignoreChecksums(name), quiet: true }, {
        onAppLog: (path, row) => { if (path === 'ssl') res.ssl.push(row); else if (path === 'x509') res.x509.push(row) },
        onConn: (c) => { res.services.set(`${c.origH}:${c.origP} > ${c.respH}:${c.respP}`, String(c.service ?? '')) },
      })
    } finally {
      APP_ANALYZERS[idx] = TLS_ANALYZER
    }
    return res
  }

  let zeekRows = 0
  let zeekIdentical = 0
  for (const name of ['tls-conn-with-extensions', 'tls13-wolfssl', 'xmpp-starttls']) {
    t.test(`${name}: ssl.log and x509.log as Zeek`, async (t) => {
      const r = await replay(name)
      const ssl = compareAppLog(SSL_LOG, readZeekLog(corpusPath(`${name}.ssl.log`)), r.ssl)
      t.same(ssl.missing, [], 'every ssl.log row has a match')
      t.same(ssl.extra, [], 'no extra ssl.log rows')
      t.same(ssl.diffs, [], 'every ssl.log field equal')
      zeekRows += ssl.zeekRows
      zeekIdentical += ssl.identicalRows
      let x509Expected = 0
      try {
        const oracle = readZeekLog(corpusPath(`${name}.x509.log`))
        x509Expected = oracle.rows.length
        const x = compareAppLog(X509_LOG, oracle, r.x509, { key: (row) => row['fingerprint'] ?? '' })
        t.same(x.missing, [], 'every x509.log row has a match')
        t.same(x.extra, [], 'no extra x509.log rows')
        t.same(x.diffs, [], 'every x509.log field equal')
        zeekRows += x.zeekRows
        zeekIdentical += x.identicalRows
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
        t.equal(r.x509.length, 0, 'no certificates (TLS 1.3 encrypts them)')
      }
      t.equal(r.x509.length, x509Expected)
      for (const row of r.ssl) {
        t.match(row['ja3'], /^[0-9a-f]{32}$/, 'ja3 present')
        t.match(row['ja4'], /^t\w{9}_[0-9a-f]{12}_[0-9a-f]{12}$/, 'ja4 present')
      }
    })
  }

  t.test('xmpp-starttls: conn.log service as Zeek (xmpp,ssl)', async (t) => {
    const r = await replay('xmpp-starttls')
    const oracle = readZeekLog(corpusPath('xmpp-starttls.conn.log')).rows[0]!
    const k = `${oracle['id.orig_h']}:${oracle['id.orig_p']} > ${oracle['id.resp_h']}:${oracle['id.resp_p']}`
    t.equal(r.services.get(k), oracle['service'])
  })

  t.test('sv-tls13-draft28: SNI, version, JA3 hash and string of both ClientHellos (Suricata)', async (t) => {
    const y = readFileSync(corpusPath('sv-tls13-draft28.suricata-test.yaml'), 'utf8')
    const expected = [...y.matchAll(/tls\.ja3\.hash: "([0-9a-f]+)"\s+tls\.ja3\.string: "([^"]+)"/g)].map((m) => ({ hash: m[1]!, string: m[2]! }))
    t.equal(expected.length, 2)
    const r = await replay('sv-tls13-draft28', true)
    t.equal(r.states.length, 2, 'two TLS sessions')
    for (const { state } of r.states) {
      t.equal(state.serverName, 'localhost')
      t.equal(state.version, 'TLSv13-draft28', 'Suricata "TLS 1.3 draft-28"')
    }
    const got = r.states.map(({ state }) => ({ hash: state.ja3!, string: state.ja3String! }))
    t.same(got.sort((a, b) => a.hash.localeCompare(b.hash)), expected.sort((a, b) => a.hash.localeCompare(b.hash)))
  })

  t.test('sv-tls-certs-alert: JA3S hash and string, JA3 string prefix (Suricata)', async (t) => {
    const y = readFileSync(corpusPath('sv-tls-certs-alert.ja3s.suricata-test.yaml'), 'utf8')
    const hash = /tls\.ja3s\.hash: "([0-9a-f]+)"/.exec(y)![1]
    const str = /tls\.ja3s\.string: "([^"]+)"/.exec(y)![1]
    const rules = readFileSync(corpusPath('sv-tls-certs-alert.ja3.suricata.rules'), 'utf8')
    const sid1 = rules.split('\n').find((l) => /sid:1;/.test(l))!
    const ja3Content = /ja3\.string; content:"([^"]+)"/.exec(sid1)![1]!
    const r = await replay('sv-tls-certs-alert', true)
    t.equal(r.states.length, 1)
    const s = r.states[0]!.state
    t.equal(s.ja3s, hash)
    t.equal(s.ja3sString, str)
    t.ok(s.ja3String?.includes(ja3Content), `JA3 string contains "${ja3Content}" (sid 1 alerts)`)
    t.equal(s.serverCerts?.length, 3, 'three-certificate chain')
  })

  t.test('sv-ja4-tls: JA4 and certificate fields (Suricata)', async (t) => {
    const ja4Yaml = readFileSync(corpusPath('sv-ja4-tls.ja4.suricata-test.yaml'), 'utf8')
    const meta = readFileSync(corpusPath('sv-ja4-tls.tls-metadata.suricata-test.yaml'), 'utf8')
    const field = (k: string): string => new RegExp(`tls\\.${k}: '?([^'\\n]+)'?`).exec(meta)![1]!.trim()
    const r = await replay('sv-ja4-tls', true)
    t.equal(r.states.length, 1)
    const s = r.states[0]!.state
    t.equal(s.ja4, /tls\.ja4: (\S+)/.exec(ja4Yaml)![1])
    t.equal(s.version, 'TLSv12', `Suricata "${field('version')}"`)
    const cert = s.serverCerts?.[0]
    t.ok(cert, 'server certificate parsed')
    if (!cert) return
    const rfc2253 = (suricata: string): string => suricata.split(', ').reverse().join(',')
    t.equal(cert.subject, rfc2253(field('subject')))
    t.equal(cert.issuer, rfc2253(field('issuerdn')))
    t.equal(cert.serial, field('serial').replace(/:/g, '').replace(/^(00)+(?=..)/, ''), 'serial (Suricata keeps the DER sign octet)')
    t.equal(cert.sha1, field('fingerprint').replace(/:/g, ''))
    t.equal(cert.notValidBefore, Date.parse(`${field('notbefore')}Z`) / 1000)
    t.equal(cert.notValidAfter, Date.parse(`${field('notafter')}Z`) / 1000)
  })

  t.test('summary', async (t) => {
    t.comment(`Zeek ssl.log + x509.log conformance: ${zeekIdentical}/${zeekRows} rows identical`)
    t.equal(zeekRows, 7, 'all Zeek oracle rows compared (3 ssl.log + 4 x509.log)')
  })
}
