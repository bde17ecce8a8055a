/** MAC vendor from the IEEE OUI registry (`oui-data`), loaded on first use. */
import { createRequire } from 'node:module'

let table: Record<string, string> | undefined

export function vendorOfMac(mac: string): string | undefined {
  if (table === undefined) {
    try {
      table = createRequire(import.meta.url)('oui-data') as Record<string, string>
    } catch {
      table = {}
    }
  }
  const oui = mac.replace(/[^0-9a-fA-F]/g, '').slice(0, 6).toUpperCase()
  const v = table[oui]
  return v === undefined ? undefined : v.split('\n')[0]
}
