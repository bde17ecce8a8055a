/**
 * SSH_MSG_KEXINIT (RFC 4253 §7.1): the algorithm name-lists each side offers, the negotiated
 * algorithms as Zeek's main.zeek picks them (first client preference the server also offers),
 * and the HASSH fingerprints (github.com/salesforce/hassh: MD5 of
 * "kex;encryption;mac;compression", client→server lists for the client, server→client lists
 * for the server, each list exactly as sent).
 */
import { createHash } from 'node:crypto'
import { rememberBounded } from '../../util/bounded-memo.js'

export interface KexInit {
  kex: string
  hostKey: string
  encC2S: string
  encS2C: string
  macC2S: string
  macS2C: string
  compC2S: string
  compS2C: string
}

const LIST_KEYS = ['kex', 'hostKey', 'encC2S', 'encS2C', 'macC2S', 'macS2C', 'compC2S', 'compS2C'] as const

/** Parses a KEXINIT payload (after the message type byte). Undefined when truncated. */
export function parseKexInit(p: Buffer): KexInit | undefined {
  let off = 16 // cookie
  const out: Partial<Record<(typeof LIST_KEYS)[number], string>> = {}
  for (const k of LIST_KEYS) {
    if (off + 4 > p.length) return undefined
    const len = p.readUInt32BE(off)
    off += 4
    if (len > p.length - off) return undefined
    out[k] = p.toString('latin1', off, off + len)
    off += len
  }
  return out as KexInit
}

/**
 * Zeek's name_list_to_vector: leading commas skipped, empty words dropped, the tail kept.
 */
export function nameList(s: string): string[] {
  const out: string[] = []
  for (const w of s.split(',')) if (w.length > 0) out.push(w)
  return out
}

export const NEGOTIATION_FAILED = 'Algorithm negotiation failed'

/**
 * Answers of findAlg by their input (bounded, emptied at FIND_MEMO_MAX): the same client and
 * server builds meet on every connection, and each answer split both lists and made a Set
 * (eight per SSH connection).
 */
const FIND_MEMO_MAX = 4096
const findSeen = new Map<string, string>()

/** First client algorithm the server also lists (main.zeek find_alg). */
export function findAlg(client: string, server: string): string {
  // The client list's length first: no two (client, server) pairs share a key.
  const key = `${client.length}:${client}${server}`
  return findSeen.get(key) ?? rememberBounded(findSeen, key, findAlgUncached(client, server), FIND_MEMO_MAX)
}

function findAlgUncached(client: string, server: string): string {
  const srv = new Set(nameList(server))
  for (const a of nameList(client)) if (srv.has(a)) return a
  return NEGOTIATION_FAILED
}

/** main.zeek find_bidirectional_alg. */
export function findBidirectional(c2sClient: string, c2sServer: string, s2cClient: string, s2cServer: string): string {
  const up = findAlg(c2sClient, c2sServer)
  const down = findAlg(s2cClient, s2cServer)
  return up === down ? up : `To server: ${up}, to client: ${down}`
}

export function hasshString(k: KexInit, isServer: boolean): string {
  return isServer
    ? `${k.kex};${k.encS2C};${k.macS2C};${k.compS2C}`
    : `${k.kex};${k.encC2S};${k.macC2S};${k.compC2S}`
}

/**
 * HASSH inputs repeat across connections (one per client/server build) and a createHash per
 * KEXINIT was ~1 % of the replay's CPU: hashes are remembered by their input, in a bounded map
 * emptied when it reaches HASSH_MEMO_MAX.
 */
const HASSH_MEMO_MAX = 4096
const hasshSeen = new Map<string, string>()

export function hassh(k: KexInit, isServer: boolean): string {
  const s = hasshString(k, isServer)
  return hasshSeen.get(s) ?? rememberBounded(hasshSeen, s, createHash('md5').update(s, 'latin1').digest('hex'), HASSH_MEMO_MAX)
}

/** The negotiated algorithms, as ssh.log columns. */
export function negotiate(client: KexInit, server: KexInit): Record<string, string> {
  return {
    cipher_alg: findBidirectional(client.encC2S, server.encC2S, client.encS2C, server.encS2C),
    mac_alg: findBidirectional(client.macC2S, server.macC2S, client.macS2C, server.macS2C),
    compression_alg: findBidirectional(client.compC2S, server.compC2S, client.compS2C, server.compS2C),
    kex_alg: findAlg(client.kex, server.kex),
    host_key_alg: findAlg(client.hostKey, server.hostKey),
  }
}

export const KEX_DH = 1
export const KEX_DH_GEX = 2
export const KEX_ECC = 3
export const KEX_GSS = 4
export const KEX_RSA = 5
export const KEX_UNKNOWN = 6

/** The key-exchange message family of a negotiated kex algorithm (ssh-protocol.pac update_kex). */
export function kexFamily(alg: string): number {
  if (alg === 'rsa1024-sha1' || alg === 'rsa2048-sha256') return KEX_RSA
  if (alg === 'diffie-hellman-group1-sha1' || alg === 'diffie-hellman-group14-sha1') return KEX_DH
  if (alg === 'diffie-hellman-group-exchange-sha1' || alg === 'diffie-hellman-group-exchange-sha256') return KEX_DH_GEX
  if (alg.startsWith('gss-')) return KEX_GSS
  if (alg.startsWith('ecdh-sha2-') || alg === 'ecmqv-sha2' || alg.startsWith('curve25519-sha256')) return KEX_ECC
  return KEX_UNKNOWN
}
