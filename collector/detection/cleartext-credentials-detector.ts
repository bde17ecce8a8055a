/**
 * `cleartext_credentials`: a login protocol that sends credentials in clear (FTP USER/PASS,
 * telnet, POP3 USER/PASS, IMAP LOGIN, rlogin), spoken over an established connection with
 * client data and not upgraded to TLS (the flow's service would then name ssl). One
 * incident per (client, server, protocol), from two sources:
 *   * flows: service (or port) and client data — the login is inferred;
 *   * the agent's ftp and http rows: an FTP login's user name (guest logins, which Zeek's
 *     ftp.log marks by logging their password, are not credentials), and HTTP Basic
 *     credentials (http.log `username`), which flows cannot show at all. The alert names the
 *     user; the password never leaves the agent unless the agent is set to log it, and is
 *     never put in an alert.
 */
import type { DetectionAppRecord, DetectionFlow, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { isEstablished } from './failed-attempt.js'

export interface CleartextConfig { ports: readonly number[]; services: readonly string[]; minClientBytes: number; httpBasicAuth?: boolean }

/** Zeek's FTP::guest_ids: logins that are not credentials. */
const FTP_GUESTS = new Set(['anonymous', 'ftp', 'ftpuser', 'guest'])

const PORT_NAMES: Record<number, string> = { 21: 'ftp', 23: 'telnet', 110: 'pop3', 143: 'imap', 513: 'rlogin' }

export class CleartextCredentialsDetector implements Detector {
  readonly name = 'cleartext_credentials'
  private readonly ports: Set<number>
  private readonly services: Set<string>

  constructor(private readonly c: CleartextConfig) {
    this.ports = new Set(c.ports)
    this.services = new Set(c.services)
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (!isEstablished(f) || f.origBytes < this.c.minClientBytes || f.respBytes === 0) return
    let proto = ''
    if (f.service !== '') {
      // One name (most flows): no split.
      if (!f.service.includes(',')) {
        if (f.service === 'ssl') return
        if (this.services.has(f.service)) proto = f.service
      } else {
        const svcs = f.service.split(',')
        if (svcs.includes('ssl')) return
        for (const s of svcs) if (this.services.has(s)) { proto = s; break }
      }
    }
    if (proto === '' && f.service === '' && this.ports.has(f.respP)) proto = PORT_NAMES[f.respP] ?? `tcp/${f.respP}`
    if (proto === '') return
    emit({
      type: 'cleartext_credentials', key: `${f.origH}|${f.respH}|${proto}`, severity: 'medium', score: 60, confidence: f.service !== '' ? 0.85 : 0.6,
      mitre: MITRE.cleartext_credentials, src: f.origH, dst: f.respH, port: f.respP, firstSeenUs: f.tsUs, lastSeenUs: f.endUs, count: 1,
      summary: `${f.origH} logged in to ${proto} on ${f.respH}:${f.respP} in clear text`,
      evidence: { flowUids: [f.uid] }, agents: [f.agentId],
    })
  }

  onAppRecord(r: DetectionAppRecord, emit: Emit): void {
    let proto: string
    let user: string
    if (r.log === 'ftp') {
      if (!this.services.has('ftp')) return
      user = r.str('user')
      // Zeek's ftp.log keeps the password of guest (anonymous) logins only: those expose nothing.
      const pass = r.str('password')
      if (user === '' || user === '<unknown>' || FTP_GUESTS.has(user.toLowerCase()) || (pass !== '' && pass !== '<hidden>')) return
      proto = 'ftp'
    } else if (r.log === 'http') {
      if (this.c.httpBasicAuth !== true) return
      user = r.str('username')
      if (user === '') return
      proto = 'http'
    } else return
    if (r.origH === '' || r.respH === '') return
    const shown = JSON.stringify(user.length > 64 ? `${user.slice(0, 64)}…` : user)
    emit({
      type: 'cleartext_credentials', key: `${r.origH}|${r.respH}|${proto}`, severity: 'medium', score: 70, confidence: 0.95,
      mitre: MITRE.cleartext_credentials, src: r.origH, dst: r.respH, port: r.respP, firstSeenUs: r.tsUs, lastSeenUs: r.tsUs, count: 1,
      summary: `${r.origH} sent the credentials of user ${shown} to ${proto === 'http' ? 'HTTP Basic authentication' : 'FTP'} on ${r.respH}:${r.respP} in clear text`,
      evidence: r.uid !== '' ? { flowUids: [r.uid] } : {}, agents: [r.agentId],
    })
  }

  stateSize(): number { return 0 }
  evictions(): number { return 0 }
}
