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

export function vendorOf(mac: string): string | undefined {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '').toUpperCase()
  if (hex.length < 6) return undefined
  const first = parseInt(hex.slice(0, 2), 16)
  if (first & 0x03) return undefined // multicast or locally administered
  table ??= load()
  return table.get(hex.slice(0, 6))
}
