/**
 * The per-connection SSL/TLS analyzer: record layer → plaintext records (handshake, CCS,
 * alert, heartbeat) → handshake messages → Zeek's SSL events, folded into an ssl.log row
 * (tls-ssl-state.ts) and x509.log rows. Follows Zeek's binpac analyzer: encryption starts per
 * direction at ChangeCipherSpec (or, for TLS 1.3, at the first application-data record); the
 * first ciphertext record once both directions are encrypted is `ssl_established`, which
 * writes the row and ends analysis (SSL::disable_analyzer_after_detection).
 */
import type { AppAnalyzer, AppConnInfo, AppOutput } from '../app-analyzer.js'
import { cipherName } from './tls-cipher-names.js'
import {
  alertName, CT_ALERT, CT_APPLICATION_DATA, CT_CHANGE_CIPHER_SPEC, CT_HANDSHAKE, CT_HEARTBEAT, curveName,
  HRR_RANDOM, HS_CERTIFICATE, HS_CLIENT_HELLO, HS_CLIENT_KEY_EXCHANGE,
  HS_SERVER_HELLO, HS_SERVER_KEY_EXCHANGE, SSLv2, SSLv3, TLSv10, TLSv11, TLSv12, TLSv13, versionName, versionOk,
} from './tls-constants.js'
import { ja3, ja3s, ja4Memo, ja4sMemo } from './tls-fingerprints.js'
import {
  parseCertificateList, parseClientHello, parseEcdheServerKeyExchange, parseServerHello, parseV2ClientHello,
  type ClientHello,
} from './tls-hello-parse.js'
import { HandshakeReader, RecordReader, type HandshakeTarget, type RecordTarget, type RecordVerdict } from './tls-record-reader.js'
import { handshakeLetter, SslState, x509Row } from './tls-ssl-state.js'
import type { KnownCerts } from './x509-known-certs.js'
import { parseCertificate, type X509Info } from './x509-parse.js'

export interface TlsAnalyzerConfig {
  /** Largest handshake message reassembled (bigger ones are skipped and counted). */
  maxHandshakeMessage: number
  /** Certificates parsed per Certificate message. */
  maxCertsPerMessage: number
  /** Called with the full connection state when its ssl.log row is written (tests, debugging). */
  onRecord?: (conn: AppConnInfo, state: SslState) => void
}

export const DEFAULT_TLS_CONFIG: TlsAnalyzerConfig = { maxHandshakeMessage: 256 * 1024, maxCertsPerMessage: 16 }

const hex = (b: Buffer): string => b.toString('hex')
const legacyVersion = (v: number): boolean => v === SSLv2 || v === SSLv3 || v === TLSv10 || v === TLSv11 || v === TLSv12

export class TlsSession implements AppAnalyzer, RecordTarget, HandshakeTarget {
  /** Record and handshake readers per direction, made on the first data (idle sessions hold none). */
  private recs: [RecordReader, RecordReader] | undefined
  private hss: [HandshakeReader, HandshakeReader] | undefined
  private readonly encrypted = [false, false]
  private recordLayerVersion = -1
  private negotiatedVersion = -1
  private ts = 0
  private stopped = false
  private state: SslState | undefined
  /** A (non-SSLv2) ClientHello gave the fingerprints (only the first one does). */
  private fingerprinted = false
  constructor(private readonly conn: AppConnInfo, private readonly out: AppOutput,
    private readonly knownCerts: KnownCerts, private readonly cfg: TlsAnalyzerConfig = DEFAULT_TLS_CONFIG) {}

  private get rec(): [RecordReader, RecordReader] {
    return (this.recs ??= [new RecordReader(), new RecordReader()])
  }

  private get hs(): [HandshakeReader, HandshakeReader] {
    return (this.hss ??= [new HandshakeReader(this.cfg.maxHandshakeMessage), new HandshakeReader(this.cfg.maxHandshakeMessage)])
  }

  deliver(isOrig: boolean, data: Buffer, ts: number): void {
    if (this.stopped) return
    if (ts > 0) {
      this.ts = ts
      if (this.state && this.state.ts <= 0) this.state.ts = ts
    }
    const d = isOrig ? 0 : 1
    const ok = this.rec[d].push(data, isOrig, this)
    if (!ok && !this.stopped) this.violation('invalid SSL record')
  }

  gap(): void {
    // Zeek's SSL analyzer stops parsing after a content gap.
    this.stopped = true
    this.out.anomaly('ssl_content_gap')
  }

  finish(_ts?: number): void {
    this.stopped = true
    this.writeLog()
  }

  private session(): SslState {
    return (this.state ??= new SslState(this.ts))
  }

  private stop(): void {
    if (this.stopped) return
    this.stopped = true
    // Nothing is parsed any more: let go of the readers (and any partial record they hold).
    this.recs = undefined
    this.hss = undefined
    this.out.done?.()
  }

  private violation(reason: string): void {
    this.writeLog()
    this.stop()
    this.out.violation(reason)
  }

  private writeLog(): void {
    const s = this.state
    if (!s || s.logged) return
    s.logged = true
    this.out.log('ssl', s.toRow(this.conn))
    this.cfg.onRecord?.(this.conn, s)
  }

  /** Zeek's determine_ssl_record_layer, on the record header at h[p] (RecordTarget; not for other callers). */
  classifyRecord(h: Buffer, p: number, isOrig: boolean): RecordVerdict {
    if (this.recordLayerVersion !== -1 && this.recordLayerVersion !== SSLv2) {
      const v = (h[p + 1]! << 8) | h[p + 2]!
      return v === SSLv3 || v === TLSv10 || v === TLSv11 || v === TLSv12 ? 'v3' : 'bad'
    }
    if (this.recordLayerVersion === SSLv2) return 'v2'
    if (h[p]! & 0x80) {
      if (h[p + 2] === 0x01 && isOrig) {
        const v = (h[p + 3]! << 8) | h[p + 4]!
        return v === SSLv2 || v === SSLv3 || v === TLSv10 || v === TLSv11 || v === TLSv12 ? 'v2' : 'bad'
      }
      if (h[p + 2] === 0x04 && h[p + 4]! < 2 && !isOrig) {
        this.recordLayerVersion = SSLv2
        return 'v2'
      }
      return 'bad'
    }
    const v = (h[p + 1]! << 8) | h[p + 2]!
    if (v !== SSLv3 && v !== TLSv10 && v !== TLSv11 && v !== TLSv12) return 'bad'
    if (h[p]! < 20 || h[p]! > 30) return 'bad'
    this.recordLayerVersion = v
    return 'v3'
  }

  /** One complete record (RecordTarget; not for other callers). */
  onRecord(isOrig: boolean, contentType: number, body: Buffer): boolean {
    if (this.stopped) return false
    const d = isOrig ? 0 : 1
    if (contentType >= 300) return this.v2Record(isOrig, contentType, body)
    // Zeek's determine_state: TLS 1.3 application data switches a direction to encrypted.
    if (!this.encrypted[d] && contentType === CT_APPLICATION_DATA && !legacyVersion(this.negotiatedVersion)) this.encrypted[d] = true
    if (this.encrypted[d]) {
      if (this.encrypted[0] && this.encrypted[1]) {
        this.established()
        return false
      }
      return true
    }
    this.session()
    switch (contentType) {
      case CT_HANDSHAKE:
        return this.hs[d]!.push(body, isOrig, this)
      case CT_CHANGE_CIPHER_SPEC: {
        const s = this.session()
        this.history(isOrig, 'i')
        this.encrypted[d] = true
        if (isOrig && s.clientTicketEmptySessionSeen && !s.clientKeyExchangeSeen) s.resumed = true
        return true
      }
      case CT_ALERT:
        for (let i = 0; i + 1 < body.length; i += 2) {
          this.history(isOrig, 'l')
          this.session().lastAlert = alertName(body[i + 1]!)
        }
        return true
      case CT_HEARTBEAT:
        this.history(isOrig, 'b')
        return true
      case CT_APPLICATION_DATA:
        if (this.state?.version !== undefined) this.out.anomaly('ssl_early_application_data')
        return true
      default:
        this.violation(`unknown SSL record type (${contentType})`)
        return false
    }
  }

  private established(): void {
    const s = this.session()
    s.established = true
    this.writeLog()
    this.stop()
  }

  private history(isOrig: boolean, letter: string): void {
    if (!this.session().addHistory(isOrig, letter)) this.out.anomaly('SSL_max_ssl_history_length_reached')
  }

  private v2Record(isOrig: boolean, contentType: number, body: Buffer): boolean {
    const s = this.session()
    if (contentType === 301 && isOrig) {
      const ch = parseV2ClientHello(body)
      if (!ch) { this.violation('malformed SSLv2 client hello'); return false }
      this.clientHello(ch)
      s.addHistory(true, 'c')
      return !this.stopped
    }
    if (contentType === 304 && !isOrig) {
      // SSLv2 SERVER-HELLO: session_id_hit, cert type, version, cert len, cipher-specs len, conn-id len, cert, ciphers.
      const b = body
      if (b.length < 8) { this.violation('malformed SSLv2 server hello'); return false }
      const version = b.readUInt16BE(0)
      const certLen = b.readUInt16BE(2)
      const ciphLen = b.readUInt16BE(4)
      if (version !== SSLv2) { this.violation('Invalid version in SSL server hello'); return false }
      this.negotiatedVersion = SSLv2
      s.versionNum ??= SSLv2
      s.version ??= versionName(SSLv2)
      const cOff = 8 + certLen
      if (ciphLen >= 3 && cOff + 3 <= b.length) s.cipher = cipherName(b.readUIntBE(cOff, 3))
      s.addHistory(false, 's')
      if (certLen > 0 && 8 + certLen <= b.length) this.certificates(false, [b.subarray(8, 8 + certLen)])
      return true
    }
    if (contentType === 302 && isOrig) {
      // CLIENT-MASTER-KEY: encryption starts for both sides; Zeek raises ssl_established here.
      this.encrypted[0] = this.encrypted[1] = true
      this.established()
      return false
    }
    if (contentType === 300) return true
    this.violation(`unknown SSLv2 record type (${contentType - 300})`)
    return false
  }

  private clientHello(ch: ClientHello): void {
    const s = this.session()
    if (!versionOk(ch.version)) {
      this.violation(`unsupported client SSL version 0x${ch.version.toString(16).padStart(4, '0')}`)
      return
    }
    this.out.confirm('ssl')
    if (ch.ticketData) s.clientTicketEmptySessionSeen = true
    if (ch.psk) s.clientPskSeen = true
    if (ch.serverNames.length > 0) {
      s.serverName = ch.serverNames[0]
      if (ch.serverNames.length > 1) this.out.anomaly('SSL_many_server_names')
      this.out.observe({ ts: this.ts, ip: this.conn.respH, name: ch.serverNames[0], nameSource: 'ssl_sni' })
    }
    if (ch.sessionId.length > 0 && !ch.sessionId.every((b) => b === 0)) {
      s.sessionId = hex(ch.sessionId)
      s.clientTicketEmptySessionSeen = false
    }
    if (!this.fingerprinted && !ch.v2) {
      this.fingerprinted = true
      const fp = ja3(ch)
      s.ja3 = fp.hash
      s.ja3String = fp.string
      s.ja4 = ja4Memo(ch, fp.string)
    }
  }

  /** One complete handshake message (HandshakeTarget; not for other callers). */
  onHandshake(isOrig: boolean, type: number, body: Buffer): boolean {
    const s = this.session()
    let letter = handshakeLetter(type)
    if (isOrig && type === HS_CLIENT_KEY_EXCHANGE) s.clientKeyExchangeSeen = true
    switch (type) {
      case HS_CLIENT_HELLO: {
        const ch = parseClientHello(body)
        if (!ch) { this.violation('malformed client hello'); return false }
        this.clientHello(ch)
        if (this.stopped) return false
        break
      }
      case HS_SERVER_HELLO: {
        const sh = parseServerHello(body)
        if (!sh) { this.violation('malformed server hello'); return false }
        if (!versionOk(sh.version)) {
          this.history(isOrig, letter)
          this.violation(`unsupported server SSL version 0x${sh.version.toString(16).padStart(4, '0')}`)
          return false
        }
        if (sh.psk && s.clientPskSeen) s.resumed = true
        if (sh.alpn.length > 0) s.nextProtocol = sh.alpn[0]
        if (sh.supportedVersions.length === 1) { s.versionNum = sh.supportedVersions[0]; s.version = versionName(sh.supportedVersions[0]!) }
        if (sh.keyShareGroups.length === 1) s.curve = curveName(sh.keyShareGroups[0]!)
        if (s.versionNum === undefined) { s.versionNum = sh.version; s.version = versionName(sh.version) }
        this.negotiatedVersion = s.versionNum
        s.cipher = cipherName(sh.cipher)
        if (sh.random.equals(HRR_RANDOM)) letter = 'j'
        const vn = s.versionNum
        if (s.sessionId !== undefined && s.sessionId === hex(sh.sessionId) && Math.floor(vn / 0xff) !== 0x7f && vn !== TLSv13) s.resumed = true
        if (s.ja3s === undefined || s.ja4s === undefined) {
          const fp = ja3s(sh)
          if (s.ja3s === undefined) {
            s.ja3s = fp.hash
            s.ja3sString = fp.string
          }
          s.ja4s ??= ja4sMemo(sh, fp.string)
        }
        break
      }
      case HS_CERTIFICATE: {
        if (this.negotiatedVersion === TLSv13) break
        const { certs, ok, dropped } = parseCertificateList(body, this.cfg.maxCertsPerMessage)
        if (!ok) this.out.anomaly('ssl_malformed_certificate_message')
        if (dropped > 0) this.out.anomaly('ssl_certificates_dropped')
        this.certificates(isOrig, certs)
        break
      }
      case HS_SERVER_KEY_EXCHANGE: {
        const name = s.cipher ?? ''
        if (!isOrig && (name.includes('_ECDHE_') || name.includes('_ECDH_ANON_'))) {
          const curve = parseEcdheServerKeyExchange(body)
          if (curve !== undefined) s.curve = curveName(curve)
        }
        break
      }
      default: break
    }
    this.history(isOrig, letter)
    return true
  }

  private certificates(isOrig: boolean, ders: Buffer[]): void {
    const s = this.session()
    if (ders.length === 0) return
    s.serverCerts ??= []
    s.clientCerts ??= []
    const chain = isOrig ? s.clientCerts : s.serverCerts
    ders.forEach((der, i) => {
      const info: X509Info | undefined = parseCertificate(der)
      chain.push(info)
      if (!info) { this.out.anomaly('x509_certificate_parse_error'); return }
      const hostCert = i === 0
      if (this.knownCerts.shouldLog(info.fingerprint, hostCert, isOrig, this.ts)) this.out.log('x509', x509Row(info, this.ts, hostCert, isOrig))
    })
  }
}
