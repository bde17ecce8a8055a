/**
 * The SSL/TLS analyzer factory: Zeek's `ssl` service on its registered ports (443, 563, 585,
 * 614, 636, 989, 990, 992, 993, 995, 5223/tcp), found elsewhere by Zeek's DPD signatures
 * (dpd_ssl_server after dpd_ssl_client), and attached by STARTTLS upgrades.
 */
import type { AppAnalyzerFactory } from '../app-analyzer.js'
import { KnownCerts } from './x509-known-certs.js'
import { DEFAULT_TLS_CONFIG, TlsSession, type TlsAnalyzerConfig } from './tls-session.js'

export const SSL_PORTS = [443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223] as const

/** dpd_ssl_client: a TLS ClientHello record or an SSLv2 CLIENT-HELLO. */
export function looksLikeClientHello(b: Buffer): boolean {
  if (b.length >= 11 && b[0] === 0x16 && b[1] === 0x03 && b[2]! <= 3 && b[5] === 0x01 && b[9] === 0x03 && b[10]! <= 3) return true
  // SSLv2: 2- or 3-byte header, message type 1, version 0x0002 or 0x03xx (h = 2, 3: no array per call).
  for (let h = 2; h <= 3; h++) {
    if (b.length >= h + 3 && b[h] === 0x01 && (b[h + 1] === 0x00 || b[h + 1] === 0x03) && b[h + 2]! <= 4) {
      if (h === 2 ? (b[0]! & 0x80) !== 0 : (b[0]! & 0xc0) === 0) return true
    }
  }
  return false
}

/** dpd_ssl_server: a ServerHello (optionally after an alert), or an SSLv2 SERVER-HELLO. */
export function looksLikeServerHello(b: Buffer): boolean {
  let p = 0
  if (b.length >= 7 && b[0] === 0x15 && b[1] === 0x03 && b[2]! <= 3) p = 5 + b.readUInt16BE(3)
  if (b.length >= p + 11 && b[p] === 0x16 && b[p + 1] === 0x03 && b[p + 2]! <= 3 && b[p + 5] === 0x02) {
    const v1 = b[p + 9]!
    const v2 = b[p + 10]!
    if ((v1 === 0x03 && v2 <= 4) || (v1 === 0x7f && v2 <= 0x50)) return true
  }
  for (let h = 2; h <= 3; h++) {
    if (b.length >= h + 4 && b[h] === 0x04 && b[h + 2] === 0x00 && b[h + 3] === 0x02) return true
  }
  return false
}

/** Bytes looksLikeServerHello reads at most for this prefix (an alert record first moves the hello). */
function serverHelloBytes(b: Buffer): number {
  if (b.length >= 7 && b[0] === 0x15 && b[1] === 0x03 && b[2]! <= 3) return 5 + b.readUInt16BE(3) + 11
  return 11
}

export function createTlsAnalyzerFactory(cfg: TlsAnalyzerConfig = DEFAULT_TLS_CONFIG, knownCerts = new KnownCerts()): AppAnalyzerFactory {
  return {
    name: 'ssl',
    transports: ['tcp'],
    ports: SSL_PORTS,
    detect: (isOrig, first) => isOrig ? false : looksLikeServerHello(first),
    detectSettled: (isOrig, first) => isOrig || first.length >= serverHelloBytes(first),
    create: (conn, out) => new TlsSession(conn, out, knownCerts, cfg),
  }
}

export const TLS_ANALYZER: AppAnalyzerFactory = createTlsAnalyzerFactory()
