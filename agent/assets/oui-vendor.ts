import { createRequire } from 'node:module'

/**
 * MAC vendor lookup from the IEEE OUI registry, via the maintained `oui-data` package
 * (the registry as JSON, updated from IEEE's published lists). Loaded lazily on first use
 * (5 MB of JSON, ~40k entries); only the first line of each entry (the organisation) is kept.
 * Locally administered and multicast addresses have no vendor.
 */
let table: Map<string, string> | undefined

function load(): Map<string, string> {
  const require = createRequire(import.meta.url)
  const raw = require('oui-data') as Record<string, string>
  const m = new Map<string, string>()
  for (const [prefix, text] of Object.entries(raw)) m.set(prefix, text.split('\n', 1)[0]!.trim())
  return m
}

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)

const HEX_AT = [0, 1, 3, 4, 6, 7] as const

/** "xx:xx:xx…" (the form the flow layer writes): the first three octets without a regex. */
function canonicalPrefix(mac: string): string | undefined {
  if (mac.length < 8 || mac.charCodeAt(2) !== 0x3a || mac.charCodeAt(5) !== 0x3a) return undefined
  for (const i of HEX_AT) if (!isHex(mac.charCodeAt(i))) return undefined
  return (mac.slice(0, 2) + mac.slice(3, 5) + mac.slice(6, 8)).toUpperCase()
}

export function vendorOf(mac: string): string | undefined {
  const hex = canonicalPrefix(mac) ?? mac.replace(/[^0-9a-fA-F]/g, '').toUpperCase()
  if (hex.length < 6) return undefined
  const first = parseInt(hex.slice(0, 2), 16)
  if (first & 0x03) return undefined // multicast or locally administered
  table ??= load()
  return table.get(hex.slice(0, 6))
}
