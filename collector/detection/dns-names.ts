/** DNS name helpers for the tunnel detector: registered domain and label entropy. Pure. */

/** Second-level labels under which registrations happen one level deeper (co.uk, com.au…). */
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go', 'gob', 'mil'])

/** 'a.b.example.co.uk' → 'example.co.uk' (a small built-in suffix rule, not the full PSL). */
export function registeredDomain(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1).toLowerCase() : name.toLowerCase()
  const labels = n.split('.')
  if (labels.length <= 2) return n
  const sld = labels[labels.length - 2]!
  const tld = labels[labels.length - 1]!
  const take = tld.length === 2 && SECOND_LEVEL.has(sld) ? 3 : 2
  return labels.slice(-take).join('.')
}

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  if (s.length === 0) return 0
  const counts = new Map<number, number>()
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); counts.set(c, (counts.get(c) ?? 0) + 1) }
  let h = 0
  for (const n of counts.values()) { const p = n / s.length; h -= p * Math.log2(p) }
  return h
}
