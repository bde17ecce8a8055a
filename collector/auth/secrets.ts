/**
 * Secrets and ids. Tokens are 32 random bytes (base64url) with a readable prefix naming the
 * role; only their SHA-256 is stored (they are high-entropy, so a fast hash is enough and
 * lookups stay O(1)). Ids are public and safe to log.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { TokenRole } from '../storage/records.js'

/** A new secret for a token of `role`: "tt_<role>_<43 chars>". */
export function newSecret(role: TokenRole): string {
  return `tt_${role}_${randomBytes(32).toString('base64url')}`
}

/** SHA-256 of a secret (raw 32 bytes), the key under which its record is stored. */
export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}

/** SHA-256 hex of any text (machine ids, nonces). */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex')
}

/** A public id: "<prefix>_<16 base64url chars>" (96 random bits). */
export function newId(prefix: 'tok' | 'agt' | 'cfl'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`
}

/** Longest token lifetime accepted: 100 years (a longer one overflowed Date into a 500). */
export const MAX_DURATION_S = 100 * 365 * 86400

/** Parses "1h", "30m", "7d", "45s" or a bare number of seconds; undefined when invalid or above MAX_DURATION_S. */
export function parseDurationSeconds(text: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(text.trim())
  if (m === null) return undefined
  const n = Number(m[1])
  const mult = m[2] === 'd' ? 86400 : m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1
  const s = n * mult
  return Number.isSafeInteger(s) && s > 0 && s <= MAX_DURATION_S ? s : undefined
}
