/**
 * Test fixtures for the TLS tests: TLS records, handshake messages, ClientHello/ServerHello
 * bodies with chosen extensions, a DER X.509 certificate built field by field, and an
 * AppOutput that records everything.
 */
import type { AppOutput, HostObservation } from '../agent/app/app-analyzer.js'

export const u8 = (n: number): Buffer => Buffer.from([n & 0xff])
export const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b }
const u24 = (n: number): Buffer => { const b = Buffer.alloc(3); b.writeUIntBE(n, 0, 3); return b }
const v8 = (b: Buffer): Buffer => Buffer.concat([u8(b.length), b])
const v16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b])
const list16 = (xs: number[]): Buffer => Buffer.concat(xs.map(u16))

export function record(type: number, body: Buffer, version = 0x0303): Buffer {
  return Buffer.concat([u8(type), u16(version), u16(body.length), body])
}

export function hs(type: number, body: Buffer): Buffer {
  return Buffer.concat([u8(type), u24(body.length), body])
}

const ext = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), v16(data)])

export interface ClientHelloOpts {
  ciphers: number[]
  /** Extra extension types (empty bodies), in order; SNI/ALPN/groups/sigs/versions/key_share are added when given. */
  extensions: number[]
  sni: string | undefined
  alpn: string[]
  sigs: number[]
  versions: number[]
  keyShare?: number[]
  grease?: number
  sessionId?: Buffer
  version?: number
}

export function clientHello(o: ClientHelloOpts): Buffer {
  const parts: Buffer[] = []
  const emitted = new Set<number>()
  const special = (type: number): Buffer | undefined => {
    switch (type) {
      case 0x0000: return o.sni === undefined ? undefined : ext(0, v16(Buffer.concat([u8(0), v16(Buffer.from(o.sni))])))
      case 0x0010: return ext(16, v16(Buffer.concat(o.alpn.map((a) => v8(Buffer.from(a))))))
      case 0x000d: return ext(13, v16(list16(o.sigs)))
      case 0x002b: return ext(43, v8(list16(o.versions)))
      case 0x000a: return ext(10, v16(list16([0x0a0a, 29, 23, 24])))
      case 0x000b: return ext(11, v8(Buffer.from([0])))
      case 0x0033: return ext(51, v16(Buffer.concat((o.keyShare ?? [29]).map((g) => Buffer.concat([u16(g), v16(Buffer.alloc(32, 1))])))))
      default: return undefined
    }
  }
  if (o.grease !== undefined) parts.push(ext(o.grease, Buffer.alloc(0)))
  for (const type of o.extensions) {
    parts.push(special(type) ?? ext(type, Buffer.alloc(type === 0x0015 ? 10 : 0)))
    emitted.add(type)
  }
  const auto: Array<[number, boolean]> = [[0x0000, o.sni !== undefined], [0x0010, o.alpn.length > 0], [0x000d, o.sigs.length > 0],
    [0x002b, o.versions.length > 0], [0x0033, o.keyShare !== undefined]]
  for (const [type, want] of auto) if (want && !emitted.has(type)) parts.push(special(type)!)
  return Buffer.concat([
    u16(o.version ?? 0x0303), Buffer.alloc(32, 0x11), v8(o.sessionId ?? Buffer.alloc(0)),
    v16(list16(o.ciphers)), v8(Buffer.from([0])), v16(Buffer.concat(parts)),
  ])
}

const HRR = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')

export function serverHello(o: { cipher: number; alpn?: string; hrr?: boolean; version?: number; keyShare?: number; sessionId?: Buffer }): Buffer {
  const exts: Buffer[] = [ext(0xff01, v8(Buffer.alloc(0)))]
  if (o.alpn !== undefined) exts.push(ext(16, v16(v8(Buffer.from(o.alpn)))))
  if (o.version !== undefined) exts.push(ext(43, u16(o.version)))
  if (o.keyShare !== undefined) exts.push(ext(51, o.hrr ? u16(o.keyShare) : Buffer.concat([u16(o.keyShare), v16(Buffer.alloc(65, 4))])))
  return Buffer.concat([u16(0x0303), o.hrr ? HRR : Buffer.alloc(32, 0x22), v8(o.sessionId ?? Buffer.alloc(0)), u16(o.cipher), u8(0), v16(Buffer.concat(exts))])
}

// DER
const len = (n: number): Buffer => n < 128 ? u8(n) : n < 256 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
export const tlv = (tag: number, ...body: Buffer[]): Buffer => { const b = Buffer.concat(body); return Buffer.concat([u8(tag), len(b.length), b]) }
const seq = (...b: Buffer[]): Buffer => tlv(0x30, ...b)
const oid = (s: string): Buffer => {
  const p = s.split('.').map(Number)
  const out = [p[0]! * 40 + p[1]!]
  for (const n of p.slice(2)) {
    const stack = [n & 0x7f]
    for (let v = n >>> 7; v > 0; v >>>= 7) stack.unshift((v & 0x7f) | 0x80)
    out.push(...stack)
  }
  return tlv(0x06, Buffer.from(out))
}
const atv = (o: string, tag: number, v: string): Buffer => seq(oid(o), tlv(tag, Buffer.from(v, 'utf8')))
const rdn = (...a: Buffer[]): Buffer => tlv(0x31, ...a)

export function cert(o: { serial?: Buffer }): Buffer {
  const name = seq(
    rdn(atv('2.5.4.6', 0x13, 'US')),
    rdn(atv('2.5.4.10', 0x13, 'Example')),
    rdn(atv('2.5.4.3', 0x0c, 'Caf\u00e9, Inc.'), atv('2.5.4.11', 0x0c, 'R&D')),
  )
  const sigAlg = seq(oid('1.2.840.10045.4.3.2'))
  const spki = seq(seq(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), tlv(0x03, Buffer.from([0]), Buffer.alloc(65, 4)))
  const san = seq(tlv(0x82, Buffer.from('*.example.org')), tlv(0x87, Buffer.from([192, 0, 2, 1])),
    tlv(0x87, Buffer.from('20010db8000000000000000000000001', 'hex')))
  const bc = seq(tlv(0x01, Buffer.from([0xff])), tlv(0x02, Buffer.from([2])))
  const exts = tlv(0xa3, seq(
    seq(oid('2.5.29.17'), tlv(0x04, san)),
    seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, bc)),
  ))
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))),
    tlv(0x02, o.serial ?? Buffer.from('0097E647098EEAC9B4', 'hex')),
    sigAlg, name,
    seq(tlv(0x17, Buffer.from('150212180727Z')), tlv(0x18, Buffer.from('20500101000000Z'))),
    name, spki, exts,
  )
  return seq(tbs, sigAlg, tlv(0x03, Buffer.from([0]), Buffer.alloc(70, 9)))
}

export interface Collected {
  out: AppOutput
  logs: Array<{ path: string; row: Record<string, unknown> }>
  confirms: string[]
  violations: string[]
  anomalies: string[]
  upgrades: string[]
  observations: HostObservation[]
}

export function collect(): Collected {
  const c: Collected = {
    logs: [], confirms: [], violations: [], anomalies: [], upgrades: [], observations: [],
    out: undefined as unknown as AppOutput,
  }
  c.out = {
    log: (path, row) => { c.logs.push({ path, row }) },
    confirm: (s) => { c.confirms.push(s) },
    violation: (r) => { c.violations.push(r) },
    anomaly: (n) => { c.anomalies.push(n) },
    observe: (o) => { c.observations.push(o) },
    upgrade: (n) => { c.upgrades.push(n) },
    expect: () => {},
  }
  return c
}
