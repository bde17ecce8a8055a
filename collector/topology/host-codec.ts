/**
 * How a host is stored in `hs host_id` (storage/keys.ts): the key already names the host, so
 * the value is a JSON array of the other fields in the record's order, last seen as a delta
 * from first seen:
 *   [scope, ips, macs, names, services, os_hints, software, first_seen_us,
 *    last_seen_us − first_seen_us, agents, flows_out, flows_in, bytes_out, bytes_in, extra]
 * `extra` holds the optional fields a host gains after it was created (vendor, merged) as an
 * object in the order the record has them, or 0 when it has none. About half the bytes of the
 * record as a JSON object (173 against 344 on the ingest bench's hosts), which every flush
 * writes for every changed host. Hosts stored before 2026-12-07 are that JSON object; both
 * forms decode. Pure.
 */
import type { HostRecord } from './types.js'

export function encodeHost(h: HostRecord): string {
  let extra: { vendor?: string; merged?: string[] } | 0 = 0
  if (h.vendor !== undefined || h.merged !== undefined) {
    // In the record's own order (a host gains them in either order), so a decoded record
    // lists its fields as the stored one did.
    extra = {}
    for (const k in h) {
      if (k === 'vendor') extra.vendor = h.vendor
      else if (k === 'merged') extra.merged = h.merged
    }
  }
  return JSON.stringify([h.scope, h.ips, h.macs, h.names, h.services, h.os_hints, h.software, h.first_seen_us, h.last_seen_us - h.first_seen_us,
    h.agents, h.flows_out, h.flows_in, h.bytes_out, h.bytes_in, extra])
}

const isList = (v: unknown): v is unknown[] => Array.isArray(v)

/** The host of a stored id and value (either form); undefined when the value is neither. */
export function decodeHost(id: string, json: string): HostRecord | undefined {
  let v: unknown
  try { v = JSON.parse(json) } catch { return undefined }
  if (v === null || typeof v !== 'object') return undefined
  if (!Array.isArray(v)) {
    // The JSON object of earlier builds, loaded as it is (as those builds loaded it).
    const o = v as Partial<HostRecord>
    return typeof o.id === 'string' && isList(o.ips) ? o as HostRecord : undefined
  }
  if (v.length !== 15) return undefined
  const [scope, ips, macs, names, services, osHints, software, first, span, agents, flowsOut, flowsIn, bytesOut, bytesIn, extra] = v as unknown[]
  if (typeof scope !== 'string' || !isList(ips) || !isList(macs) || !isList(names) || !isList(services) || !isList(osHints) || !isList(software) || !isList(agents)) return undefined
  if (typeof first !== 'number' || typeof span !== 'number' || typeof flowsOut !== 'number' || typeof flowsIn !== 'number' || typeof bytesOut !== 'number' || typeof bytesIn !== 'number') return undefined
  const h: HostRecord = {
    id, scope, ips: ips as string[], macs: macs as string[], names: names as HostRecord['names'], services: services as HostRecord['services'],
    os_hints: osHints as string[], software: software as string[], first_seen_us: first, last_seen_us: first + span, agents: agents as string[],
    flows_out: flowsOut, flows_in: flowsIn, bytes_out: bytesOut, bytes_in: bytesIn,
  }
  if (extra !== 0) {
    if (extra === null || typeof extra !== 'object' || Array.isArray(extra)) return undefined
    for (const [k, x] of Object.entries(extra)) {
      if (k === 'vendor' && typeof x === 'string') h.vendor = x
      else if (k === 'merged' && isList(x)) h.merged = x as string[]
    }
  }
  return h
}
