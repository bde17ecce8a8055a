/**
 * Real application payloads for the generated captures, so the analyzers are measured on
 * the protocols they parse (not on filler bytes): DNS queries/answers, HTTP/1.1 requests and
 * responses, TLS 1.2 handshakes (ClientHello with SNI → ServerHello + Certificate +
 * ServerHelloDone, then ChangeCipherSpec and application-data records), SSH banners + KEXINIT.
 */
import { cert, clientHello, hs, record, serverHello } from '../test/app-tls-fixtures.js'

export function dnsQuery(id: number, name: string): Buffer {
  return Buffer.concat([header(id, 0x0100, 1, 0), question(name)])
}

export function dnsResponse(id: number, name: string, answers: number): Buffer {
  const rrs: Buffer[] = []
  for (let i = 0; i < answers; i++) {
    const rr = Buffer.alloc(16)
    rr.writeUInt16BE(0xc00c, 0) // pointer to the question name
    rr.writeUInt16BE(1, 2) // A
    rr.writeUInt16BE(1, 4) // IN
    rr.writeUInt32BE(300, 6)
    rr.writeUInt16BE(4, 10)
    rr.writeUInt32BE((0x5db8d800 + id * 7 + i) >>> 0, 12)
    rrs.push(rr)
  }
  return Buffer.concat([header(id, 0x8180, 1, answers), question(name), ...rrs])
}

function header(id: number, flags: number, qd: number, an: number): Buffer {
  const h = Buffer.alloc(12)
  h.writeUInt16BE(id & 0xffff, 0); h.writeUInt16BE(flags, 2); h.writeUInt16BE(qd, 4); h.writeUInt16BE(an, 6)
  return h
}

function question(name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]))
  const tail = Buffer.alloc(5)
  tail.writeUInt16BE(1, 1); tail.writeUInt16BE(1, 3)
  return Buffer.concat([...labels, tail])
}

/** An HTTP/1.1 request of about `size` bytes (header padding via a cookie). */
export function httpRequest(host: string, path: string, size: number): Buffer {
  const base = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) bench/1.0\r\nAccept: */*\r\n`
  const pad = Math.max(0, size - base.length - 14)
  return Buffer.from(`${base}${pad > 0 ? `Cookie: ${'c'.repeat(pad)}\r\n` : ''}\r\n`)
}

/** An HTTP/1.1 200 response whose total size is `size` bytes (body sized by Content-Length). */
export function httpResponse(size: number): Buffer {
  const head = (n: number): string => `HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: ${n}\r\n\r\n`
  let body = Math.max(0, size - head(size).length)
  body = Math.max(0, size - head(body).length)
  return Buffer.concat([Buffer.from(head(body)), Buffer.alloc(body, 0x3c)])
}

const CERT = cert({})

export function tlsClientHello(sni: string): Buffer {
  return record(0x16, hs(1, clientHello({
    ciphers: [0xc02f, 0xc030, 0xc02b, 0xc02c, 0x009e, 0x009f], extensions: [0, 10, 11, 13, 16, 23, 0xff01],
    sni, alpn: ['h2', 'http/1.1'], sigs: [0x0403, 0x0804, 0x0401], versions: [],
  })), 0x0301)
}

/** ClientKeyExchange, ChangeCipherSpec, encrypted Finished, then application data. */
export function tlsClientFinish(appBytes: number): Buffer {
  const cke = record(0x16, hs(16, Buffer.alloc(66, 4)))
  const ccs = record(0x14, Buffer.from([1]))
  return Buffer.concat([cke, ccs, record(0x16, Buffer.alloc(40, 0x7e)), ...appData(appBytes)])
}

/** ChangeCipherSpec, encrypted Finished, then application data. */
export function tlsServerFinish(appBytes: number): Buffer {
  return Buffer.concat([record(0x14, Buffer.from([1])), record(0x16, Buffer.alloc(40, 0x7e)), ...appData(appBytes)])
}

export function tlsServerFlight(appBytes: number): Buffer {
  const sh = record(0x16, Buffer.concat([
    hs(2, serverHello({ cipher: 0xc02f, alpn: 'http/1.1' })),
    hs(11, certificateBody([CERT])),
    hs(14, Buffer.alloc(0)),
  ]))
  return Buffer.concat([sh, ...appData(appBytes)])
}

/** Later rounds of a TLS session: application-data records only. */
export function tlsAppData(bytes: number): Buffer {
  return Buffer.concat(appData(bytes))
}

function appData(bytes: number): Buffer[] {
  const out: Buffer[] = []
  for (let left = bytes; left > 0; left -= 16384) out.push(record(0x17, Buffer.alloc(Math.min(16384, left), 0x5a)))
  return out
}

function certificateBody(certs: Buffer[]): Buffer {
  const list = Buffer.concat(certs.map((c) => Buffer.concat([u24(c.length), c])))
  return Buffer.concat([u24(list.length), list])
}

function u24(n: number): Buffer {
  const b = Buffer.alloc(3)
  b.writeUIntBE(n, 0, 3)
  return b
}

/**
 * SSH identification line, a KEXINIT, a NEWKEYS (what follows is encrypted, as in a real
 * session: analyzers stop parsing there), then binary packets up to `extra` bytes.
 */
export function sshBanner(server: boolean, extra: number): Buffer {
  const banner = Buffer.from(server ? 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n' : 'SSH-2.0-OpenSSH_9.6\r\n')
  const lists = ['curve25519-sha256', 'ssh-ed25519', 'aes128-ctr', 'aes128-ctr', 'hmac-sha2-256', 'hmac-sha2-256', 'none', 'none', '', '']
  const kex = Buffer.concat([Buffer.from([20]), Buffer.alloc(16, 0x42),
    ...lists.map((l) => { const b = Buffer.alloc(4 + l.length); b.writeUInt32BE(l.length); b.write(l, 4); return b }), Buffer.alloc(5)])
  const newKeys = sshPacket(Buffer.from([21]))
  const parts = [banner, sshPacket(kex), newKeys]
  for (let left = extra - kex.length - newKeys.length; left > 64; left -= 1024) parts.push(sshPacket(Buffer.concat([Buffer.from([94]), Buffer.alloc(Math.min(left, 1024) - 16, 0x33)])))
  return Buffer.concat(parts)
}

function sshPacket(payload: Buffer): Buffer {
  let pad = 8 - ((payload.length + 5) % 8)
  if (pad < 4) pad += 8
  const b = Buffer.alloc(5 + payload.length + pad)
  b.writeUInt32BE(1 + payload.length + pad, 0)
  b[4] = pad
  payload.copy(b, 5)
  return b
}
