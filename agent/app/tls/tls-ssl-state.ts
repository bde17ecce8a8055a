/**
 * What Zeek's SSL::Info record holds for one connection while the handshake is analysed, and
 * how it becomes an ssl.log row (base/protocols/ssl/main.zeek + files.zeek `ssl_finishing`),
 * with the JA3/JA3S/JA4/JA4S columns appended.
 */
import type { AppConnInfo } from '../app-analyzer.js'
import { certMatchesHost } from './x509-hostname.js'
import type { X509Info } from './x509-parse.js'

/** Zeek's SSL::max_ssl_history_length. */
export const MAX_SSL_HISTORY = 100

export class SslState {
  versionNum: number | undefined
  version: string | undefined
  cipher: string | undefined
  curve: string | undefined
  serverName: string | undefined
  sessionId: string | undefined
  resumed = false
  clientTicketEmptySessionSeen = false
  clientKeyExchangeSeen = false
  clientPskSeen = false
  lastAlert: string | undefined
  nextProtocol: string | undefined
  established = false
  logged = false
  hrrSeen = false
  history = ''
  /** Certificates per side; undefined until the first certificate of either side (Zeek's file_sniff). */
  serverCerts: Array<X509Info | undefined> | undefined
  clientCerts: Array<X509Info | undefined> | undefined
  ja3: string | undefined
  ja3s: string | undefined
  ja4: string | undefined
  ja4s: string | undefined
  /** The JA3/JA3S strings behind the hashes (not logged). */
  ja3String: string | undefined
  ja3sString: string | undefined

  /** Time of the first SSL event (0 while only replayed detection bytes were seen: fixed at the next real time). */
  constructor(public ts: number) {}

  /** Zeek's add_to_history: upper case for the client; returns false when the cap was just reached. */
  addHistory(isClient: boolean, letter: string): boolean {
    if (this.history.length >= MAX_SSL_HISTORY) return true
    this.history += isClient ? letter.toUpperCase() : letter.toLowerCase()
    return this.history.length < MAX_SSL_HISTORY
  }

  toRow(conn: AppConnInfo): Record<string, unknown> {
    const fps = (l: Array<X509Info | undefined> | undefined): string[] | undefined =>
      l === undefined ? undefined : l.filter((c): c is X509Info => c !== undefined).map((c) => c.fingerprint)
    const hostCert = this.serverCerts?.[0]
    let sniMatches: boolean | undefined
    if (hostCert !== undefined && this.serverName !== undefined) sniMatches = certMatchesHost(hostCert, this.serverName)
    return {
      ts: this.ts,
      uid: conn.uid,
      'id.orig_h': conn.origH,
      'id.orig_p': conn.origP,
      'id.resp_h': conn.respH,
      'id.resp_p': conn.respP,
      version: this.version,
      cipher: this.cipher,
      curve: this.curve,
      server_name: this.serverName,
      resumed: this.resumed,
      last_alert: this.lastAlert,
      next_protocol: this.nextProtocol,
      established: this.established,
      ssl_history: this.history,
      cert_chain_fps: fps(this.serverCerts),
      client_cert_chain_fps: fps(this.clientCerts),
      sni_matches_cert: sniMatches,
      ja3: this.ja3,
      ja3s: this.ja3s,
      ja4: this.ja4,
      ja4s: this.ja4s,
    }
  }
}

/** History letter of a handshake message type (main.zeek `ssl_handshake_message`). */
export function handshakeLetter(type: number): string {
  switch (type) {
    case 0: return 'h'
    case 1: return 'c'
    case 2: return 's'
    case 3: return 'v'
    case 4: return 't'
    case 5: return 'e'
    case 6: return 'j'
    case 8: return 'o'
    case 11: return 'x'
    case 12: return 'k'
    case 13: return 'r'
    case 14: return 'n'
    case 15: return 'y'
    case 16: return 'g'
    case 20: return 'f'
    case 21: return 'w'
    case 22: return 'u'
    case 23: return 'a'
    case 24: return 'p'
    case 254: return 'm'
    default: return 'z'
  }
}

/** The x509.log row of one certificate. */
export function x509Row(c: X509Info, ts: number, hostCert: boolean, clientCert: boolean): Record<string, unknown> {
  return {
    ts,
    fingerprint: c.fingerprint,
    'certificate.version': c.version,
    'certificate.serial': c.serial,
    'certificate.subject': c.subject,
    'certificate.issuer': c.issuer,
    'certificate.not_valid_before': c.notValidBefore,
    'certificate.not_valid_after': c.notValidAfter,
    'certificate.key_alg': c.keyAlg,
    'certificate.sig_alg': c.sigAlg,
    'certificate.key_type': c.keyType,
    'certificate.key_length': c.keyLength,
    'certificate.exponent': c.exponent,
    'certificate.curve': c.curve,
    'san.dns': c.sanDns,
    'san.uri': c.sanUri,
    'san.email': c.sanEmail,
    'san.ip': c.sanIp,
    'basic_constraints.ca': c.bcCa,
    'basic_constraints.path_len': c.bcPathLen,
    host_cert: hostCert,
    client_cert: clientCert,
  }
}
