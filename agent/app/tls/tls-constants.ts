/**
 * TLS protocol constants and the names Zeek gives them in ssl.log (base/protocols/ssl/consts.zeek):
 * versions, alert descriptions, named groups (curves), content and handshake types, GREASE.
 */

export const CT_CHANGE_CIPHER_SPEC = 20
export const CT_ALERT = 21
export const CT_HANDSHAKE = 22
export const CT_APPLICATION_DATA = 23
export const CT_HEARTBEAT = 24

export const HS_HELLO_REQUEST = 0
export const HS_CLIENT_HELLO = 1
export const HS_SERVER_HELLO = 2
export const HS_CERTIFICATE = 11
export const HS_SERVER_KEY_EXCHANGE = 12
export const HS_CLIENT_KEY_EXCHANGE = 16

export const EXT_SERVER_NAME = 0
export const EXT_SUPPORTED_GROUPS = 10
export const EXT_EC_POINT_FORMATS = 11
export const EXT_SIGNATURE_ALGORITHMS = 13
export const EXT_ALPN = 16
export const EXT_SESSION_TICKET = 35
export const EXT_PRE_SHARED_KEY = 41
export const EXT_SUPPORTED_VERSIONS = 43
export const EXT_KEY_SHARE = 51

export const SSLv2 = 0x0002
export const SSLv3 = 0x0300
export const TLSv10 = 0x0301
export const TLSv11 = 0x0302
export const TLSv12 = 0x0303
export const TLSv13 = 0x0304

/** ServerHello.random of a TLS 1.3 HelloRetryRequest (RFC 8446 4.1.3). */
export const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')

const VERSIONS: Record<number, string> = {
  0x0002: 'SSLv2', 0x0300: 'SSLv3', 0x0301: 'TLSv10', 0x0302: 'TLSv11', 0x0303: 'TLSv12', 0x0304: 'TLSv13',
  0xfeff: 'DTLSv10', 0xfefd: 'DTLSv12', 0xfefc: 'DTLSv13',
}

/** Zeek's `SSL::version_strings[v]`, including its default for TLS 1.3 drafts and unknown values. */
export function versionName(v: number): string {
  const s = VERSIONS[v]
  if (s !== undefined) return s
  if (Math.floor(v / 0xff) === 0x7f) return `TLSv13-draft${v % 0x7f}`
  return `unknown-${v}`
}

/** Versions Zeek's binpac `version_ok` accepts in hellos (SSLv2 .. TLS 1.2, TLS 1.3 and its drafts, DTLS). */
export function versionOk(v: number): boolean {
  if (v === SSLv2 || v === SSLv3 || v === TLSv10 || v === TLSv11 || v === TLSv12 || v === TLSv13) return true
  if (v === 0xfeff || v === 0xfefd || v === 0xfefc) return true
  return (v >> 8) === 0x7f || (v >> 8) === 0x7e
}

const ALERTS: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 21: 'decryption_failed', 22: 'record_overflow',
  30: 'decompression_failure', 40: 'handshake_failure', 41: 'no_certificate', 42: 'bad_certificate',
  43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired', 46: 'certificate_unknown',
  47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error', 51: 'decrypt_error',
  60: 'export_restriction', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
  86: 'inappropriate_fallback', 90: 'user_canceled', 100: 'no_renegotiation', 110: 'unsupported_extension',
  111: 'certificate_unobtainable', 112: 'unrecognized_name', 113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value', 115: 'unknown_psk_identity', 116: 'certificate_required', 117: 'general_error',
  120: 'no_application_protocol', 121: 'ech_required',
}

export function alertName(desc: number): string {
  return ALERTS[desc] ?? `unknown-${desc}`
}

const CURVES: Record<number, string> = {
  1: 'sect163k1', 2: 'sect163r1', 3: 'sect163r2', 4: 'sect193r1', 5: 'sect193r2', 6: 'sect233k1', 7: 'sect233r1',
  8: 'sect239k1', 9: 'sect283k1', 10: 'sect283r1', 11: 'sect409k1', 12: 'sect409r1', 13: 'sect571k1', 14: 'sect571r1',
  15: 'secp160k1', 16: 'secp160r1', 17: 'secp160r2', 18: 'secp192k1', 19: 'secp192r1', 20: 'secp224k1', 21: 'secp224r1',
  22: 'secp256k1', 23: 'secp256r1', 24: 'secp384r1', 25: 'secp521r1', 26: 'brainpoolP256r1', 27: 'brainpoolP384r1',
  28: 'brainpoolP512r1', 29: 'x25519', 30: 'x448', 31: 'brainpoolP256r1tls13', 32: 'brainpoolP384r1tls13',
  33: 'brainpoolP512r1tls13', 34: 'GC256A', 35: 'GC256B', 36: 'GC256C', 37: 'GC256D', 38: 'GC512A', 39: 'GC512B',
  40: 'GC512C', 41: 'curveSM2', 256: 'ffdhe2048', 257: 'ffdhe3072', 258: 'ffdhe4096', 259: 'ffdhe6144', 260: 'ffdhe8192',
  512: 'MLKEM512', 513: 'MLKEM768', 514: 'MLKEM1024', 4587: 'SecP256r1MLKEM768', 4588: 'X25519MLKEM768',
  4589: 'SecP384r1MLKEM1024', 4590: 'curveSM2MLKEM768', 16696: 'CECPQ2', 25497: 'X25519Kyber768Draft00',
  25498: 'SecP256r1Kyber768Draft00', 0xff01: 'arbitrary_explicit_prime_curves', 0xff02: 'arbitrary_explicit_char2_curves',
}

/** Zeek's `SSL::ec_curves[c]` (GREASE values are named grease_0xXAXA). */
export function curveName(c: number): string {
  const s = CURVES[c]
  if (s !== undefined) return s
  if (isGrease(c)) return `grease_0x${c.toString(16).toUpperCase().padStart(4, '0')}`
  return `unknown-${c}`
}

/** RFC 8701 GREASE value (0x0A0A, 0x1A1A, … 0xFAFA). */
export function isGrease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff)
}
