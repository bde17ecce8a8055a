/**
 * Zeek's `x509_check_cert_hostname` as used for ssl.log `sni_matches_cert`: the host name matches
 * a SAN dNSName or else a subject CN, case-insensitively, where a "*." name matches exactly one
 * leading label.
 */
import type { X509Info } from './x509-parse.js'

export function hostnameMatches(hostname: string, certName: string): boolean {
  const h = hostname.toLowerCase()
  const c = certName.toLowerCase()
  if (!c.startsWith('*.')) return h === c
  const dot = h.indexOf('.')
  return dot > 0 && h.slice(dot) === c.slice(1)
}

export function certMatchesHost(cert: X509Info, hostname: string): boolean {
  for (const n of cert.sanDns ?? []) if (hostnameMatches(hostname, n)) return true
  for (const n of cert.commonNames) if (hostnameMatches(hostname, n)) return true
  return false
}
