/**
 * Unit tests and fast-check fuzzing for the SSH, FTP and DHCP analyzers: built protocol
 * exchanges (parsed as expected, any chunking gives the same rows), random and mutated bytes
 * (no throw, buffered state bounded, anomalies counted instead).
 */
import t from 'tap'
import fc from 'fast-check'
import type { AppConnInfo, AppOutput } from '../agent/app/app-analyzer.js'
import { createSshAnalyzerFactory } from '../agent/app/ssh/index.js'
import { SshAuthInference } from '../agent/app/ssh/ssh-auth-inference.js'
import { hassh, parseKexInit, findAlg } from '../agent/app/ssh/ssh-kexinit.js'
import { logVersion } from '../agent/app/ssh/ssh-version.js'
import { createFtpAnalyzerFactories } from '../agent/app/ftp/index.js'
import { parseEftp, parseFtpEpsv, parseFtpPasv, parseFtpPort } from '../agent/app/ftp/ftp-port-parse.js'
import { buildUrlFtp, compressPath, extractPath } from '../agent/app/ftp/ftp-paths.js'
import { createDhcpAnalyzerFactory } from '../agent/app/dhcp/index.js'
import { parseDhcp } from '../agent/app/dhcp/dhcp-message.js'

interface Captured { rows: Array<[string, Record<string, unknown>]>; services: string[]; anomalies: string[]; violations: string[]; expects: unknown[] }
function output(): { out: AppOutput; c: Captured } {
  const c: Captured = { rows: [], services: [], anomalies: [], violations: [], expects: [] }
  return {
    c,
    out: {
      log: (p, r) => c.rows.push([p, { ...r }]),
      confirm: (s) => c.services.push(s),
      violation: (r) => c.violations.push(r),
      anomaly: (n) => c.anomalies.push(n),
      observe: () => {},
      upgrade: () => {},
      expect: (e) => c.expects.push(e),
    },
  }
}
const tcpConn = (respP: number): AppConnInfo => ({ uid: 'Ctest', ts: 1, origH: '10.0.0.1', origP: 40000, respH: '192.0.2.9', respP, proto: 'tcp' })

// ---------- SSH ----------
const str = (s: string): Buffer => { const b = Buffer.alloc(4 + s.length); b.writeUInt32BE(s.length); b.write(s, 4, 'latin1'); return b }
function sshPacket(type: number, payload: Buffer): Buffer {
  const pad = 8 - ((payload.length + 5) % 8) + 4
  const len = 1 + 1 + payload.length + pad
  const b = Buffer.alloc(4 + len)
  b.writeUInt32BE(len); b[4] = pad; b[5] = type; payload.copy(b, 6)
  return b
}
function kexinit(kex: string, enc: string, mac: string, comp: string): Buffer {
  return Buffer.concat([Buffer.alloc(16, 7), str(kex), str('ssh-ed25519,ssh-rsa'), str(enc), str(enc), str(mac), str(mac), str(comp), str(comp), str(''), str(''), Buffer.from([0, 0, 0, 0, 0])])
}
const CLIENT = Buffer.concat([Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'), sshPacket(20, kexinit('curve25519-sha256,ecdh-sha2-nistp256', 'aes128-ctr,aes256-gcm@openssh.com', 'hmac-sha2-256', 'none,zlib@openssh.com')), sshPacket(21, Buffer.alloc(0))])
const SERVER = Buffer.concat([Buffer.from('SSH-2.0-OpenSSH_8.9\r\n'), sshPacket(20, kexinit('ecdh-sha2-nistp256,curve25519-sha256', 'aes256-gcm@openssh.com,aes128-ctr', 'hmac-sha2-256', 'none')),
  sshPacket(31, Buffer.concat([str('\x00\x00\x00\x0bssh-ed25519' + 'K'.repeat(32)), str('Q'), str('S')])), sshPacket(21, Buffer.alloc(0))])

function runSsh(chunks: Array<[boolean, Buffer]>): Captured {
  const { out, c } = output()
  const a = createSshAnalyzerFactory().create(tcpConn(22), out)
  for (const [o, d] of chunks) a.deliver(o, d, 2)
  a.finish(3)
  return c
}

t.test('ssh: built session, negotiated algorithms, hassh, auth success from sizes', async (t) => {
  const nk = CLIENT.length - 13 // the client's NEWKEYS comes after the server's KEXINIT
  const c = runSsh([[false, SERVER.subarray(0, 21)], [true, CLIENT.subarray(0, nk)], [false, SERVER.subarray(21)], [true, CLIENT.subarray(nk)],
    [true, Buffer.alloc(64)], [false, Buffer.alloc(52)], [true, Buffer.alloc(100)], [false, Buffer.alloc(36)]])
  t.same(c.services, ['ssh'])
  t.equal(c.rows.length, 1)
  const r = c.rows[0]![1]
  t.match(r, { version: 2, client: 'SSH-2.0-OpenSSH_9.6', server: 'SSH-2.0-OpenSSH_8.9', kex_alg: 'curve25519-sha256', cipher_alg: 'aes128-ctr', mac_alg: 'hmac-sha2-256', compression_alg: 'none', host_key_alg: 'ssh-ed25519', auth_success: true, auth_attempts: 1 })
  t.match(r['host_key_fingerprint'], /^SHA256:[A-Za-z0-9+/]{32}$/)
  t.equal(r['hassh'], hassh(parseKexInit(kexinit('curve25519-sha256,ecdh-sha2-nistp256', 'aes128-ctr,aes256-gcm@openssh.com', 'hmac-sha2-256', 'none,zlib@openssh.com'))!, false))
})

t.test('ssh: the same rows whatever the chunking of the clear-text part', async (t) => {
  const whole = runSsh([[false, SERVER], [true, CLIENT]]).rows
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }), (cuts) => {
    const chunks: Array<[boolean, Buffer]> = []
    for (const [o, b] of [[false, SERVER], [true, CLIENT]] as Array<[boolean, Buffer]>) {
      let off = 0
      for (let i = 0; off < b.length; i++) { const n = cuts[i % cuts.length]!; chunks.push([o, b.subarray(off, off + n)]); off += n }
    }
    const got = runSsh(chunks).rows
    t.same(got.map((x) => ({ ...x[1], ts: 0 })), whole.map((x) => ({ ...x[1], ts: 0 })))
    return true
  }), { numRuns: 50 })
})

t.test('ssh: a client that sent KEXINIT and NEWKEYS before the server banner stays encrypted', async (t) => {
  // The client's whole clear-text part (and encrypted bytes after it) arrives before the
  // server's banner: it is buffered, parsed once the banner is known, and the server's
  // KEXINIT must not move the client back to the key exchange (its later bytes are encrypted).
  const c = runSsh([[true, Buffer.concat([CLIENT, Buffer.alloc(48, 0x41)])], [false, SERVER], [true, Buffer.alloc(177, 0x41)], [false, Buffer.alloc(237, 0x41)]])
  t.same(c.anomalies, [], 'no packet parsed out of encrypted bytes')
  t.equal(c.rows.length, 1)
  t.match(c.rows[0]![1], { client: 'SSH-2.0-OpenSSH_9.6', server: 'SSH-2.0-OpenSSH_8.9', kex_alg: 'curve25519-sha256' })
})

t.test('ssh: auth heuristic and version rules', async (t) => {
  const a = new SshAuthInference()
  t.equal(a.segment(false, 40), undefined, 'server data before client data is ignored')
  a.segment(true, 40); a.segment(false, 52)
  t.equal(a.segment(false, 400), undefined, 'a large first reply is a banner, skipped')
  t.equal(a.segment(false, 68), undefined, 'first failure size learnt')
  t.equal(a.segment(false, 68), 'failure')
  t.equal(a.segment(false, 36), 'success')
  t.equal(logVersion('SSH-1.5-x', 'SSH-1.99-y'), 1)
  t.equal(logVersion('SSH-2.0-x', 'SSH-1.99-y'), 2)
  t.equal(logVersion('SSH-1.5-x', 'SSH-2.0-y'), 0)
  t.equal(findAlg('a,b', 'c'), 'Algorithm negotiation failed')
})

t.test('ssh: findAlg remembers answers by the exact (client, server) pair', async (t) => {
  // Pairs whose plain concatenation is the same text must not share an answer.
  t.equal(findAlg('x,ab', 'c'), 'Algorithm negotiation failed')
  t.equal(findAlg('x,a', 'bc'), 'Algorithm negotiation failed')
  t.equal(findAlg('x', ',abc'), 'Algorithm negotiation failed')
  t.equal(findAlg('x,', 'abc'), 'Algorithm negotiation failed')
  t.equal(findAlg('ab', 'ab'), 'ab')
  t.equal(findAlg('a', 'bab'), 'Algorithm negotiation failed')
  t.equal(findAlg('a', 'b,a'), 'a')
  t.equal(findAlg('a,', 'b,a'), 'a')
  t.equal(findAlg(',b', 'b'), 'b')
  for (let round = 0; round < 2; round++) {
    t.equal(findAlg('aes256-ctr,aes128-ctr', 'aes128-ctr,aes256-ctr'), 'aes256-ctr', 'first client preference the server lists')
    t.equal(findAlg('aes256-ctr,aes128-ct', 'raes128-ctr'), 'Algorithm negotiation failed')
  }
})

t.test('ssh fuzz: random and mutated streams never throw', async () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 300 })), { maxLength: 12 }), (chunks) => {
    runSsh(chunks.map(([o, b]) => [o, Buffer.from(b)]))
    return true
  }), { numRuns: 500 })
  fc.assert(fc.property(fc.integer({ min: 0, max: SERVER.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: CLIENT.length - 1 }), (i, v, j) => {
    const s = Buffer.from(SERVER); s[i] = v
    const cl = Buffer.from(CLIENT); cl[j] = v
    runSsh([[false, s], [true, cl], [true, Buffer.alloc(30)], [false, Buffer.alloc(30)]])
    return true
  }), { numRuns: 1000 })
})

// ---------- FTP ----------
function runFtp(lines: Array<[boolean, string]>): Captured {
  const { out, c } = output()
  const a = createFtpAnalyzerFactories()[0]!.create(tcpConn(21), out)
  for (const [o, l] of lines) a.deliver(o, Buffer.from(l, 'latin1'), 5)
  a.finish(6)
  return c
}

t.test('ftp: session with multi-line reply, hidden password, PASV, STOR', async (t) => {
  const c = runFtp([[false, '220-Welcome\r\n220-more\r\n220 ready\r\n'], [true, 'USER alice\r\n'], [false, '331 Password required\r\n'],
    [true, 'PASS secret\r\n'], [false, '230 Logged in\r\n'], [true, 'CWD /pub\r\n'], [false, '250 ok\r\n'],
    [true, 'PASV\r\n'], [false, '227 Entering Passive Mode (192,0,2,9,4,1).\r\n'], [true, 'STOR a.txt\r\n'],
    [false, '150 Opening\r\n226 Transfer complete\r\n'], [true, 'QUIT\r\n'], [false, '221 Bye\r\n']])
  t.same(c.services, ['ftp'])
  t.same(c.rows.map(([, r]) => [r['command'], r['arg'], r['reply_code'], r['user'], r['password']]), [
    ['PASV', undefined, 227, 'alice', '<hidden>'],
    ['STOR', 'ftp://192.0.2.9/pub/a.txt', 226, 'alice', '<hidden>'],
  ])
  t.match(c.expects[0], { respH: '192.0.2.9', respP: 1025, origH: '10.0.0.1', service: 'ftp-data' })
})

t.test('ftp: address parsers and paths as Zeek', async (t) => {
  t.same(parseFtpPort('10,0,0,1,4,31'), { h: '10.0.0.1', p: 1055, valid: true })
  t.equal(parseFtpPort('10,0,0,1,4,300').valid, false)
  t.same(parseEftp('|1|10.0.0.1|1055|'), { h: '10.0.0.1', p: 1055, valid: true })
  t.same(parseFtpEpsv('Entering Extended Passive Mode (|||57086|)'), { h: '::', p: 57086, valid: true })
  t.same(parseFtpPasv('227 Entering Passive Mode (10,0,0,1,4,31)'), { h: '10.0.0.1', p: 1055, valid: true })
  t.equal(compressPath('/a/./b/../c//d/'), '/a/c/d')
  t.equal(extractPath('"/home/x" is current directory'), '/home/x')
  t.equal(buildUrlFtp('2001:db8::1', '.', 'f'), 'ftp://[2001:db8::1]/./f')
})

t.test('ftp fuzz: random text and bytes never throw, pending commands bounded', async (t) => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.string({ maxLength: 80 })), { maxLength: 40 }), (lines) => {
    runFtp(lines.map(([o, s]) => [o, s + (s.length % 3 === 0 ? '\r\n' : '\n')]))
    return true
  }), { numRuns: 500 })
  fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 200 })), { maxLength: 10 }), (chunks) => {
    runFtp(chunks.map(([o, b]) => [o, Buffer.from(b).toString('latin1')]))
    return true
  }), { numRuns: 300 })
  const many: Array<[boolean, string]> = [[false, '220 hi\r\n']]
  for (let i = 0; i < 50; i++) many.push([true, `NOOP\r\n`])
  t.ok(runFtp(many).anomalies.includes('FTP_too_many_pending_commands'), 'more than 20 pending commands counted')
})

// ---------- DHCP ----------
function dhcpMsg(op: number, type: number, xid: number, opts: number[] = []): Buffer {
  const b = Buffer.alloc(240)
  b[0] = op; b[1] = 1; b[2] = 6; b.writeUInt32BE(xid, 4)
  Buffer.from([0x90, 0xb1, 0x1c, 0x99, 0x49, 0x29]).copy(b, 28)
  b.writeUInt32BE(0x63825363, 236)
  if (op === 2) Buffer.from([10, 0, 0, 50]).copy(b, 16)
  return Buffer.concat([b, Buffer.from([53, 1, type, ...opts, 255])])
}

t.test('dhcp: one row per transaction, options, bounded table', async (t) => {
  const { out, c } = output()
  const f = createDhcpAnalyzerFactory({ maxTransactions: 2 })
  const cli = f.create({ uid: 'C1', ts: 0, origH: '0.0.0.0', origP: 68, respH: '255.255.255.255', respP: 67, proto: 'udp' }, out)
  const srv = f.create({ uid: 'C2', ts: 0, origH: '10.0.0.50', origP: 68, respH: '10.0.0.1', respP: 67, proto: 'udp' }, out)
  cli.deliver(true, dhcpMsg(1, 1, 7, [12, 3, 0x61, 0x62, 0x63, 55, 3, 1, 3, 6, 60, 4, 0x4d, 0x53, 0x46, 0x54]), 10)
  srv.deliver(false, dhcpMsg(2, 2, 7, [51, 4, 0, 0, 0x0e, 0x10, 15, 4, 0x6c, 0x61, 0x6e, 0]), 10.5)
  cli.finish(11); srv.finish(11)
  t.equal(c.rows.length, 1)
  t.match(c.rows[0]![1], { host_name: 'abc', lease_time: 3600, domain: 'lan', assigned_addr: '10.0.0.50', server_addr: '10.0.0.1', mac: '90:b1:1c:99:49:29', msg_types: ['DISCOVER', 'OFFER'], duration: 0.5 })
  for (let x = 100; x < 110; x++) cli.deliver(true, dhcpMsg(1, 1, x), 20)
  t.ok(f.transactions.size <= 2, 'transaction table bounded')
  t.ok(f.transactions.evicted >= 8)
  t.same(parseDhcp(Buffer.alloc(10)), { ok: false, error: 'truncated DHCP message' })
})

t.test('dhcp fuzz: random and mutated datagrams never throw', async () => {
  const { out } = output()
  const f = createDhcpAnalyzerFactory({ maxTransactions: 100 })
  const a = f.create({ uid: 'C1', ts: 0, origH: '0.0.0.0', origP: 68, respH: '255.255.255.255', respP: 67, proto: 'udp' }, out)
  const base = dhcpMsg(1, 3, 9, [12, 3, 0x61, 0x62, 0x63, 61, 7, 1, 1, 2, 3, 4, 5, 6, 81, 5, 0, 0, 0, 0x61, 0x62])
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => { a.deliver(true, Buffer.from(b), 1); return f.transactions.size <= 100 }), { numRuns: 1000 })
  fc.assert(fc.property(fc.integer({ min: 0, max: base.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 200, max: base.length }), (i, v, cut) => {
    const m = Buffer.from(base); m[i] = v
    a.deliver(true, m.subarray(0, cut), 2)
    return f.transactions.size <= 100
  }), { numRuns: 2000 })
  a.finish(3)
})
