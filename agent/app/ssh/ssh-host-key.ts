/**
 * Server host key from the key-exchange reply messages, and its fingerprint as Zeek 9.1 logs it
 * in ssh.log `host_key_fingerprint`: "SHA256:" + base64 of the SHA-256 of the key blob (the K_S
 * string of the reply), cut to 32 base64 characters. OpenSSH (`ssh-keygen -l`) prints the same
 * digest with all 43 characters; every fingerprint in Zeek's baselines (ssh.pcap, gre-sample)
 * is exactly the first 32 of them, i.e. the base64 of the digest's first 24 bytes, so that is
 * what we write (FINGERPRINT_B64_CHARS).
 */
import * as nodeCrypto from 'node:crypto'
import { KEX_DH, KEX_DH_GEX, KEX_ECC, KEX_GSS } from './ssh-kexinit.js'

/** Message types that carry K_S first, per key-exchange family (ssh-protocol.pac). */
export function carriesHostKey(family: number, msgType: number): boolean {
  if (family === KEX_DH || family === KEX_ECC) return msgType === 31 // KEXDH_REPLY / KEX_ECDH_REPLY
  if (family === KEX_DH_GEX || family === KEX_GSS) return msgType === 33 // KEX_DH_GEX_REPLY / KEXGSS_HOSTKEY
  return false
}

/** The first SSH string of a message payload (K_S), or undefined when truncated. */
export function firstString(p: Buffer): Buffer | undefined {
  if (p.length < 4) return undefined
  const len = p.readUInt32BE(0)
  if (len > p.length - 4) return undefined
  return p.subarray(4, 4 + len)
}

export const FINGERPRINT_B64_CHARS = 32

// crypto.hash (Node >= 20.12) is the one-shot form, much cheaper than a createHash object per key.
const oneShot = (nodeCrypto as unknown as { hash?: (alg: string, data: Buffer, enc: 'base64') => string }).hash

export function hostKeyFingerprint(blob: Buffer): string {
  // Base64 works in 3-byte groups: the first 32 characters of the whole digest's base64 are
  // the base64 of its first 24 bytes.
  if (oneShot) return 'SHA256:' + oneShot('sha256', blob, 'base64').slice(0, FINGERPRINT_B64_CHARS)
  return 'SHA256:' + nodeCrypto.createHash('sha256').update(blob).digest().subarray(0, (FINGERPRINT_B64_CHARS / 4) * 3).toString('base64')
}
