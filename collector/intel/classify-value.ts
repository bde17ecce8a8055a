/**
 * Classifies a bare indicator value (from a CSV or plain list): address, CIDR, URL, hash,
 * JA4 fingerprint or domain. An explicit type (CSV column, MISP type) wins. Pure.
 */
import ipaddr from 'ipaddr.js'
import type { Indicator, IndicatorKind } from './indicator-types.js'

const HEX = /^[0-9a-f]+$/
const JA4 = /^[tqd][0-9a-z]{9}_[0-9a-f]{12}_[0-9a-f]{12}$/
const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/

/** Normalises a value of a known kind; undefined when it is not valid for that kind. */
export function normalise(kind: IndicatorKind, raw: string): string | undefined {
  const v = raw.trim()
  if (v === '') return undefined
  switch (kind) {
    case 'ip':
      if (!ipaddr.isValid(v)) return undefined
      return ipaddr.process(v).toString()
    case 'cidr':
      try {
        const [a, bits] = ipaddr.parseCIDR(v)
        const addr = a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress() ? (a as ipaddr.IPv6).toIPv4Address() : a
        const b = addr.kind() === 'ipv4' && a.kind() === 'ipv6' ? bits - 96 : bits
        if (b < 0) return undefined
        return `${addr.toString()}/${b}`
      } catch { return undefined }
    case 'domain': {
      const d = v.toLowerCase().replace(/\.$/, '').replace(/^\*\./, '')
      return DOMAIN.test(d) ? d : undefined
    }
    case 'url': {
      const u = normaliseUrl(v)
      return u
    }
    case 'ja3': { const h = v.toLowerCase(); return h.length === 32 && HEX.test(h) ? h : undefined }
    case 'ja4': { const h = v.toLowerCase(); return JA4.test(h) ? h : undefined }
    case 'cert_hash': { const h = v.toLowerCase().replace(/:/g, ''); return (h.length === 40 || h.length === 64 || h.length === 32) && HEX.test(h) ? h : undefined }
  }
}

/** scheme://host[:port]/path?query, lower-case scheme and host, no fragment; undefined if not a URL. */
export function normaliseUrl(raw: string): string | undefined {
  const v = raw.trim()
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return undefined
  try {
    const u = new URL(v)
    return `${u.protocol}//${u.host}${u.pathname}${u.search}`
  } catch { return undefined }
}

/** Guesses the kind of a bare value. 32 hex digits are taken as a JA3 hash. */
export function classify(raw: string, label = ''): Indicator | undefined {
  const v = raw.trim()
  if (v === '') return undefined
  // Cheap dispatch on the shape first (parsing as an address is the slow path for names).
  const order: IndicatorKind[] = v.includes('://') ? ['url'] : v.includes('/') ? ['cidr']
    : v.includes(':') || /^[0-9.]+$/.test(v) ? ['ip', 'cert_hash']
      : HEX.test(v.toLowerCase()) ? ['ja3', 'cert_hash', 'domain']
        : v.includes('_') ? ['ja4', 'domain'] : ['domain']
  for (const kind of order) {
    const value = normalise(kind, v)
    if (value !== undefined) return kind === 'cidr' && (value.endsWith('/32') || value.endsWith('/128')) ? { kind: 'ip', value: value.slice(0, value.lastIndexOf('/')), label } : { kind, value, label }
  }
  return undefined
}
