/** Builds DNS messages in code for the DNS analyzer tests (no corpus bytes copied). */
export interface BuildRR { name: string | Buffer; type: number; cls?: number; ttl?: number; rdata: Buffer }
export interface BuildMsg {
  id: number
  flags?: number
  questions?: Array<{ name: string | Buffer; type: number; cls?: number }>
  answers?: BuildRR[]
  ns?: number
  ar?: number
}

export function encName(name: string): Buffer {
  if (name === '') return Buffer.from([0])
  const parts = name.split('.').filter(Boolean)
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])])
}

const u16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b }
const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b }

export function dnsMessage(m: BuildMsg): Buffer {
  const q = m.questions ?? []
  const a = m.answers ?? []
  const parts: Buffer[] = [u16(m.id), u16(m.flags ?? 0x0100), u16(q.length), u16(a.length), u16(m.ns ?? 0), u16(m.ar ?? 0)]
  for (const x of q) parts.push(typeof x.name === 'string' ? encName(x.name) : x.name, u16(x.type), u16(x.cls ?? 1))
  for (const r of a) parts.push(typeof r.name === 'string' ? encName(r.name) : r.name, u16(r.type), u16(r.cls ?? 1), u32(r.ttl ?? 60), u16(r.rdata.length), r.rdata)
  return Buffer.concat(parts)
}

export const rdA = (ip: string): Buffer => Buffer.from(ip.split('.').map(Number))
export const rdTxt = (...s: string[]): Buffer => Buffer.concat(s.map((x) => Buffer.concat([Buffer.from([x.length]), Buffer.from(x, 'latin1')])))
export const rdMx = (pref: number, name: string): Buffer => Buffer.concat([u16(pref), encName(name)])
export const rdSrv = (prio: number, weight: number, port: number, name: string): Buffer => Buffer.concat([u16(prio), u16(weight), u16(port), encName(name)])
export const rdSoa = (m: string, r: string): Buffer => Buffer.concat([encName(m), encName(r), u32(1), u32(2), u32(3), u32(4), u32(5)])

/** NetBIOS first-level encoding of a 15-character name + suffix byte. */
export function netbiosEncode(name: string, suffix = 0): string {
  const raw = Buffer.alloc(16, 0x20)
  raw.write(name.slice(0, 15), 'latin1')
  raw[15] = suffix
  let out = ''
  for (const b of raw) out += String.fromCharCode(0x41 + (b >> 4), 0x41 + (b & 0xf))
  return out
}

export const QUERY = 0x0100
export const RESPONSE = 0x8180
