/**
 * Builds the index postings of one batch's flows from the scan (no Flow objects): every
 * address (orig_h and resp_h, 16-byte form), every service name of the comma-joined
 * `service`, every (transport, resp_p).
 */
import type { FlowIndex } from '../storage/index.js'
import type { IndexAddress } from '../storage/host-buckets.js'
import type { ScannedFlows } from './batch-scan.js'

/** IPv4 (4 bytes, or 16 bytes IPv4-mapped) as its number, other 16-byte addresses as latin1 text: one entry per address either way. */
function addrKey(body: Buffer, start: number, len: number): IndexAddress | null {
  if (len === 4) return body.readUInt32BE(start)
  if (len !== 16) return null
  for (let i = 0; i < 10; i++) if (body[start + i] !== 0) return body.toString('latin1', start, start + 16)
  if (body[start + 10] === 0xff && body[start + 11] === 0xff) return body.readUInt32BE(start + 12)
  return body.toString('latin1', start, start + 16)
}

function post<K>(m: Map<K, number[]>, k: K, i: number): void {
  const list = m.get(k)
  if (list === undefined) m.set(k, [i])
  else if (list[list.length - 1] !== i) list.push(i)
}

export function buildFlowIndex(body: Buffer, f: ScannedFlows): FlowIndex {
  const hosts = new Map<IndexAddress, number[]>()
  const services = new Map<string, number[]>()
  const ports = new Map<number, number[]>()
  let minTs = Number.MAX_SAFE_INTEGER
  let maxTs = 0
  const serviceCache = new Map<string, string[]>()
  for (let i = 0; i < f.count; i++) {
    const ts = f.ts[i]!
    if (ts < minTs) minTs = ts
    if (ts > maxTs) maxTs = ts
    const o = addrKey(body, f.origStart[i]!, f.origLen[i]!)
    if (o !== null) post(hosts, o, i)
    const r = addrKey(body, f.respStart[i]!, f.respLen[i]!)
    if (r !== null && r !== o) post(hosts, r, i)
    post(ports, (f.transport[i]! << 16) | f.respPort[i]!, i)
    const sl = f.serviceLen[i]!
    if (sl > 0) {
      const raw = body.toString('latin1', f.serviceStart[i]!, f.serviceStart[i]! + sl)
      let names = serviceCache.get(raw)
      if (names === undefined) {
        names = body.toString('utf8', f.serviceStart[i]!, f.serviceStart[i]! + sl).split(',').map((s) => s.trim()).filter((s) => s.length > 0 && s.length <= 64 && !s.includes('\u0000'))
        if (serviceCache.size < 256) serviceCache.set(raw, names)
      }
      for (const s of names) post(services, s, i)
    }
  }
  if (f.count === 0) minTs = 0
  return { minTsUs: minTs, maxTsUs: maxTs, hosts, services, ports }
}
