/**
 * ssh.log `direction` (main.zeek set_session): OUTBOUND when only the originator is local,
 * INBOUND when only the responder is, unset when both or neither are.
 */
import ipaddr from 'ipaddr.js'
import type { LocalNets } from '../../flow/local-nets.js'

function isLocal(nets: LocalNets, addr: string): boolean {
  try {
    return nets.isLocal(Uint8Array.from(ipaddr.parse(addr).toByteArray()))
  } catch {
    return false
  }
}

export function sshDirection(nets: LocalNets, origH: string, respH: string): string | undefined {
  const o = isLocal(nets, origH)
  const r = isLocal(nets, respH)
  if (o === r) return undefined
  return o ? 'OUTBOUND' : 'INBOUND'
}
