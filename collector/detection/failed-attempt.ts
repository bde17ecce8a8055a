/** Which flows count as failed or unanswered attempts (Zeek's scan policy). */
import type { DetectionFlow } from './detection-types.js'

const FAILED_TCP = new Set(['S0', 'REJ', 'RSTOS0', 'RSTRH', 'SH', 'SHR'])
const ESTABLISHED = new Set(['SF', 'S1', 'S2', 'S3', 'RSTO', 'RSTR'])

/** TCP attempt the responder refused or never answered; UDP datagrams never answered. */
export function isFailedAttempt(f: DetectionFlow): boolean {
  if (f.proto === 'tcp') return FAILED_TCP.has(f.connState) || (f.connState === 'OTH' && f.respPkts === 0)
  if (f.proto === 'udp') return f.respPkts === 0 && f.origPkts > 0
  return false
}

/** TCP connection whose handshake completed. */
export function isEstablished(f: DetectionFlow): boolean {
  return f.proto === 'tcp' && ESTABLISHED.has(f.connState)
}
