/**
 * hosts.ndjson lines rendered straight into the file buffer: the same bytes as
 * JSON.stringify(record) + "\n" for the records HostInventory.eachToWrite() yields (keys in
 * that order: ip, macs, names, first_seen, last_seen, services, software, os_hints, then
 * vendor when set), without building the line as a string. Hand-written, one call per host
 * at the end of a replay: strings of printable ASCII other than `"` and `\` are copied byte
 * by byte and numbers printed with String(); anything else (a string JSON would escape or
 * that is not ASCII, a number JSON would write as null, a field this encoder does not know)
 * returns -1 and the caller writes JSON.stringify's line instead. The equivalence is a
 * property test (test/host-line-bytes.test.ts).
 */
import type { HostRecord } from '../assets/host-inventory.js'

type Services = HostRecord['services']

/** Upper bound of the bytes encodeHostLine writes for `h` (ASCII only: one byte per character). */
export function hostLineMaxBytes(h: Readonly<HostRecord>): number {
  let n = 256 + h.ip.length + (h.vendor?.length ?? 0)
  for (let i = 0; i < h.macs.length; i++) n += h.macs[i]!.length + 4
  for (let i = 0; i < h.names.length; i++) n += h.names[i]!.name.length + h.names[i]!.source.length + 32
  for (let i = 0; i < h.services.length; i++) {
    const s = h.services[i]!
    n += s.proto.length + s.service.length + (s.software?.length ?? 0) + 80
  }
  for (let i = 0; i < h.software.length; i++) n += h.software[i]!.name.length + h.software[i]!.role.length + 32
  for (let i = 0; i < h.os_hints.length; i++) n += h.os_hints[i]!.length + 4
  return n
}

/**
 * Writes the line and its newline at b[p…] and returns the end, or -1 when the record needs
 * JSON.stringify (nothing useful is left in b then). `b` must have hostLineMaxBytes(h) bytes free.
 */
export function encodeHostLine(h: Readonly<HostRecord>, b: Buffer, p: number): number {
  if (h.initial_ttl !== undefined) return -1
  p = putKey(b, p, '{"ip":')
  p = putStr(b, p, h.ip)
  p = putKey(b, p, ',"macs":')
  p = putStrList(b, p, h.macs)
  p = putKey(b, p, ',"names":')
  p = putNamePairs(b, p, h.names, 'source', ',"source":')
  p = putKey(b, p, ',"first_seen":')
  p = putNum(b, p, h.first_seen)
  p = putKey(b, p, ',"last_seen":')
  p = putNum(b, p, h.last_seen)
  p = putKey(b, p, ',"services":')
  p = putServices(b, p, h.services)
  p = putKey(b, p, ',"software":')
  p = putNamePairs(b, p, h.software, 'role', ',"role":')
  p = putKey(b, p, ',"os_hints":')
  p = putStrList(b, p, h.os_hints)
  if (h.vendor !== undefined) {
    p = putKey(b, p, ',"vendor":')
    p = putStr(b, p, h.vendor)
  }
  if (p < 0) return -1
  b[p++] = 0x7d // }
  b[p++] = 0x0a
  return p
}

/** A fixed ASCII fragment (keys, punctuation). */
function putKey(b: Buffer, p: number, s: string): number {
  if (p < 0) return p
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i)
  return p
}

/** A JSON string that needs no escape, or -1. */
function putStr(b: Buffer, p: number, s: string): number {
  if (p < 0) return p
  b[p++] = 0x22
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x5c) return -1
    b[p++] = c
  }
  b[p++] = 0x22
  return p
}

/** A finite number as JSON (and String) prints it, or -1. */
function putNum(b: Buffer, p: number, v: number): number {
  if (p < 0) return p
  if (!Number.isFinite(v)) return -1
  return putKey(b, p, String(v))
}

function putStrList(b: Buffer, p: number, list: readonly string[]): number {
  if (p < 0) return p
  b[p++] = 0x5b
  for (let i = 0; i < list.length; i++) {
    if (i > 0) b[p++] = 0x2c
    p = putStr(b, p, list[i]!)
    if (p < 0) return p
  }
  b[p++] = 0x5d
  return p
}

/** A list of {name, <field>} objects with two strings each (names: source; software: role). */
function putNamePairs<K extends string>(b: Buffer, p: number, list: ReadonlyArray<{ readonly name: string } & Readonly<Record<K, string>>>, field: K, fieldKey: string): number {
  if (p < 0) return p
  b[p++] = 0x5b
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!
    p = putKey(b, p, i > 0 ? ',{"name":' : '{"name":')
    p = putStr(b, p, e.name)
    p = putKey(b, p, fieldKey)
    p = putStr(b, p, e[field])
    if (p < 0) return p
    b[p++] = 0x7d
  }
  b[p++] = 0x5d
  return p
}

function putServices(b: Buffer, p: number, list: Services): number {
  if (p < 0) return p
  b[p++] = 0x5b
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!
    p = putKey(b, p, i > 0 ? ',{"port":' : '{"port":')
    p = putNum(b, p, e.port)
    p = putKey(b, p, ',"proto":')
    p = putStr(b, p, e.proto)
    p = putKey(b, p, ',"service":')
    p = putStr(b, p, e.service)
    if (e.software !== undefined) {
      p = putKey(b, p, ',"software":')
      p = putStr(b, p, e.software)
    }
    if (p < 0) return p
    b[p++] = 0x7d
  }
  b[p++] = 0x5d
  return p
}

