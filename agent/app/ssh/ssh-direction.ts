/**
 * ssh.log `direction` (main.zeek set_session): OUTBOUND when only the originator is local,
 * INBOUND when only the responder is, unset when both or neither are.
 */
import ipaddr from 'ipaddr.js'
import type { LocalNets } from '../../flow/local-nets.js'
import { rememberBounded } from '../../util/bounded-memo.js'

/** Bytes of a plain dotted-quad IPv4 text ("10.0.0.1"), else undefined (hand-written: no ipaddr.js objects). */
function dottedQuad(addr: string): Uint8Array | undefined {
  const out = new Uint8Array(4)
  let part = 0
  let v = 0
  let digits = 0
  for (let i = 0; i <= addr.length; i++) {
    const c = i < addr.length ? addr.charCodeAt(i) : 0x2e
    if (c >= 0x30 && c <= 0x39) {
      // No leading zeros (ipaddr.js reads those as octal): such text goes the slow way.
      if (digits === 1 && v === 0) return undefined
      v = v * 10 + (c - 0x30)
      if (++digits > 3 || v > 255) return undefined
    } else if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined
      out[part++] = v
      v = 0
      digits = 0
    } else return undefined
  }
  return part === 4 ? out : undefined
}

function parseLocal(nets: LocalNets, addr: string): boolean {
  const quad = dottedQuad(addr)
  if (quad !== undefined) return nets.isLocal(quad)
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
  return m.get(addr) ?? rememberBounded(m, addr, parseLocal(nets, addr), MEMO_MAX)
}

export function sshDirection(nets: LocalNets, origH: string, respH: string): string | undefined {
  const o = isLocal(nets, origH)
  const r = isLocal(nets, respH)
  if (o === r) return undefined
  return o ? 'OUTBOUND' : 'INBOUND'
}
