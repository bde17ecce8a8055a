/**
 * ssh.log `direction` (main.zeek set_session): OUTBOUND when only the originator is local,
 * INBOUND when only the responder is, unset when both or neither are.
 */
import ipaddr from 'ipaddr.js'
import type { LocalNets } from '../../flow/local-nets.js'

function parseLocal(nets: LocalNets, addr: string): boolean {
  try {
    return nets.isLocal(Uint8Array.from(ipaddr.parse(addr).toByteArray()))
  } catch {
    return false
  }
}

/** Answers per address set, remembered (bounded: emptied at MEMO_MAX): servers and clients repeat. */
const MEMO_MAX = 4096
const memo = new WeakMap<LocalNets, Map<string, boolean>>()

function isLocal(nets: LocalNets, addr: string): boolean {
  let m = memo.get(nets)
  if (m === undefined) { m = new Map(); memo.set(nets, m) }
  let v = m.get(addr)
  if (v === undefined) {
    v = parseLocal(nets, addr)
    if (m.size >= MEMO_MAX) m.clear()
    m.set(addr, v)
  }
  return v
}

export function sshDirection(nets: LocalNets, origH: string, respH: string): string | undefined {
  const o = isLocal(nets, origH)
  const r = isLocal(nets, respH)
  if (o === r) return undefined
  return o ? 'OUTBOUND' : 'INBOUND'
}
