/**
 * `cleartext_credentials`: a login protocol that sends credentials in clear (FTP USER/PASS,
 * telnet, POP3 USER/PASS, IMAP LOGIN, rlogin), spoken over an established connection with
 * client data and not upgraded to TLS (the flow's service would then name ssl). One
 * incident per (client, server, protocol). From flows: what protocol v1 carries (service,
 * port, sizes); the agent's own FTP/HTTP analyzers see the commands, but their log rows
 * are not shipped yet, so HTTP basic auth cannot be seen here (docs/detection.md).
 */
import type { DetectionFlow, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { isEstablished } from './failed-attempt.js'

export interface CleartextConfig { ports: readonly number[]; services: readonly string[]; minClientBytes: number }

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
      const svcs = f.service.split(',')
      if (svcs.includes('ssl')) return
      for (const s of svcs) if (this.services.has(s)) { proto = s; break }
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

  stateSize(): number { return 0 }
  evictions(): number { return 0 }
}
