/**
 * MAC vendor from the IEEE registry as the maintained `oui-data` package ships it: one JSON
 * object of hex prefix → "Organisation\nAddress…", 5.6 MB, 54k entries (MA-L 24-bit, MA-M
 * 28-bit and MA-S 36-bit blocks). Shared by the agent (hosts.ndjson) and the collector
 * (topology), the way community-id.ts is.
 *
 * Hand-written on purpose: `require('oui-data')` parses the whole file into 54k strings, and
 * building a table from them took ~0.35 s of CPU (measured on a replay of a 9-packet
 * capture: more than half of its run) to answer a handful of lookups. Here the file is read
 * once as bytes and only its keys are indexed, with the offset of each value; a value is
 * decoded (JSON.parse of that one string) when it is asked for, and remembered.
 *
 * The longest registered prefix wins (36, then 28, then 24 bits): a MA-M or MA-S block is
 * listed under its own vendor, while its 24-bit entry names the "IEEE Registration Authority".
 * Locally administered and multicast addresses have no vendor.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

interface Registry {
  readonly json: Buffer
  /** Hex prefix (upper case) → offset of the opening quote of its value in `json`. */
  readonly valueAt: Map<string, number>
  /** Decoded organisations by prefix (each asked-for entry decoded once). */
  readonly decoded: Map<string, string | undefined>
}

let registry: Registry | undefined

const QUOTE = 0x22
const BACKSLASH = 0x5c

const isSpace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09

/** Offset just past the JSON string whose opening quote is at `at` (-1 if it never ends). */
function stringEnd(b: Buffer, at: number): number {
  for (let i = at + 1; i < b.length; i++) {
    const c = b[i]
    if (c === BACKSLASH) i++
    else if (c === QUOTE) return i + 1
  }
  return -1
}

/**
 * Keys and value offsets of a flat JSON object of strings; undefined when the bytes are not
 * one (the caller then parses the file the ordinary way).
 * @internal exported for tests
 */
export function indexFlatJsonObject(b: Buffer): Map<string, number> | undefined {
  const out = new Map<string, number>()
  let i = 0
  while (isSpace(b[i])) i++
  if (b[i] !== 0x7b) return undefined // {
  i++
  for (;;) {
    while (isSpace(b[i]) || b[i] === 0x2c) i++ // whitespace and the commas between entries
    if (b[i] === 0x7d) return out // }
    if (b[i] !== QUOTE) return undefined
    const keyEnd = stringEnd(b, i)
    if (keyEnd < 0) return undefined
    let key = b.toString('utf8', i + 1, keyEnd - 1)
    if (key.includes('\\')) {
      try { key = JSON.parse(`"${key}"`) as string } catch { return undefined }
    }
    key = key.toUpperCase()
    i = keyEnd
    while (isSpace(b[i])) i++
    if (b[i] !== 0x3a) return undefined // :
    i++
    while (isSpace(b[i])) i++
    if (b[i] !== QUOTE) return undefined
    const valueEnd = stringEnd(b, i)
    if (valueEnd < 0) return undefined
    out.set(key, i)
    i = valueEnd
  }
}

function load(): Registry {
  const require = createRequire(import.meta.url)
  try {
    const json = readFileSync(require.resolve('oui-data'))
    const valueAt = indexFlatJsonObject(json)
    if (valueAt !== undefined) return { json, valueAt, decoded: new Map() }
  } catch {
    // Not installed or unreadable: no vendors (below), never an error for the caller.
  }
  // A layout this scanner does not know (or no package): the package parsed as a whole.
  let table: Record<string, string> = {}
  try { table = require('oui-data') as Record<string, string> } catch { /* no vendors */ }
  const json = Buffer.from(JSON.stringify(table))
  return { json, valueAt: indexFlatJsonObject(json) ?? new Map(), decoded: new Map() }
}

function organisation(r: Registry, prefix: string): string | undefined {
  if (r.decoded.has(prefix)) return r.decoded.get(prefix)
  const at = r.valueAt.get(prefix)
  let org: string | undefined
  if (at !== undefined) {
    const end = stringEnd(r.json, at)
    try {
      const text = JSON.parse(r.json.toString('utf8', at, end)) as string
      org = text.split('\n', 1)[0]!.trim() || undefined
    } catch {
      org = undefined
    }
  }
  r.decoded.set(prefix, org)
  return org
}

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)

/** The address's hex digits, upper case ("00:1a:2b:…", "00-1A-…", "001a2b…" alike). */
function hexDigits(mac: string): string {
  let out = ''
  for (let i = 0; i < mac.length; i++) if (isHex(mac.charCodeAt(i))) out += mac[i]
  return out.toUpperCase()
}

/** The vendor of a MAC address, or undefined (unknown, locally administered, multicast, not a MAC). */
export function macVendor(mac: string): string | undefined {
  const hex = hexDigits(mac)
  if (hex.length < 6) return undefined
  if (parseInt(hex.slice(0, 2), 16) & 0x03) return undefined // multicast or locally administered
  const r = registry ??= load()
  for (const bits of [9, 7, 6]) {
    if (hex.length < bits || !r.valueAt.has(hex.slice(0, bits))) continue
    return organisation(r, hex.slice(0, bits))
  }
  return undefined
}
