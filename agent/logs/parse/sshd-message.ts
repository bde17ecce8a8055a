import type { LogEvent } from '../log-event.js'
import { isHostToken, isIp, parseUint, trimEnd, unmapIPv4 } from './text-scan.js'

/**
 * OpenSSH sshd messages → authentication events. The peer address, user, port and method
 * are taken by scanning for the fixed words sshd writes, from the side that a user name
 * cannot forge (user names may contain " from …"; the structured tail is checked whole).
 * Returns false when the message is not one sshd writes (the caller keeps a syslog event).
 */
const AUTH = ['authentication']
const SESSION = ['session']
const NET = ['network']

function setPeer(ev: LogEvent, addr: string, port: number): void {
  const a = unmapIPv4(addr)
  ev['source.address'] = a
  if (isIp(a)) ev['source.ip'] = a
  if (port >= 0) ev['source.port'] = port
}

interface Tail { addr: string; port: number; protoEnd: number }

/**
 * At s[i] expect `ADDR[ port N][ sshX]` followed by end, ':' + anything, or ' [preauth]'.
 * Returns null when it does not fit (then the " from " was part of a user name).
 */
function readFromTail(s: string, i: number, allowMore = false): Tail | null {
  let e = s.indexOf(' ', i)
  if (e === -1) e = s.length
  let addrEnd = e
  if (s.charCodeAt(addrEnd - 1) === 58) addrEnd-- // "from 1.2.3.4: 11: Bye"
  const addr = s.slice(i, addrEnd)
  if (!isHostToken(addr)) return null
  let j = addrEnd
  let port = -1
  if (s.startsWith(' port ', j)) {
    const ps = j + 6
    let pe = ps
    while (pe < s.length && s.charCodeAt(pe) >= 48 && s.charCodeAt(pe) <= 57) pe++
    port = parseUint(s, ps, pe)
    if (port < 0 || port > 65535) return null
    j = pe
  }
  if (s.startsWith(' ssh2', j) || s.startsWith(' ssh1', j)) j += 5
  if (j === s.length || s.charCodeAt(j) === 58 || s.startsWith(' [preauth]', j) || allowMore) return { addr, port, protoEnd: j }
  if (s.charCodeAt(j) === 32 && j + 1 === s.length) return { addr, port, protoEnd: j }
  return null
}

/** First " from " (at or after start) whose tail is a well-formed peer. */
function findFrom(s: string, start: number, allowMore = false): { at: number; tail: Tail } | null {
  let k = s.indexOf(' from ', start - 1)
  while (k !== -1) {
    const tail = readFromTail(s, k + 6, allowMore)
    if (tail) return { at: k, tail }
    k = s.indexOf(' from ', k + 1)
  }
  return null
}

/** "… ADDR port N" at the end (after removing " [preauth]"): the last two tokens decide. */
function readTrailingPeer(s: string): { before: number; addr: string; port: number } | null {
  let t = trimEnd(s)
  if (t.endsWith(' [preauth]')) t = trimEnd(t.slice(0, -10))
  let port = -1
  let end = t.length
  const pk = t.lastIndexOf(' port ')
  if (pk !== -1) {
    const n = parseUint(t, pk + 6, t.length)
    if (n >= 0 && n <= 65535) { port = n; end = pk }
  }
  const sp = t.lastIndexOf(' ', end - 1)
  const addr = t.slice(sp + 1, end)
  if (!isHostToken(addr) || !(isIp(unmapIPv4(addr)) || addr.indexOf('.') !== -1)) return null
  return { before: sp, addr, port }
}

function fail(ev: LogEvent, action: string): true {
  ev['event.category'] = AUTH
  ev['event.action'] = action
  ev['event.outcome'] = 'failure'
  return true
}

export function parseSshdMessage(raw: string, ev: LogEvent): boolean {
  let m = raw
  // Prefixes sshd or the platform puts before the text.
  if (m.startsWith('[ID ')) { const e = m.indexOf('] '); if (e !== -1) m = m.slice(e + 2) }
  if (m.startsWith('error: ')) m = m.slice(7)
  else if (m.startsWith('fatal: ')) m = m.slice(7)
  const preauth = m.endsWith('[preauth]') || m.endsWith('[preauth] ')

  if (m.startsWith('Accepted ') || m.startsWith('Failed ') || m.startsWith('Postponed ')) {
    const sp = m.indexOf(' ')
    const methodEnd = m.indexOf(' for ', sp)
    if (methodEnd === -1) return false
    const method = m.slice(sp + 1, methodEnd)
    let userStart = methodEnd + 5
    const invalid = m.startsWith('invalid user ', userStart)
    if (invalid) userStart += 13
    const f = findFrom(m, userStart)
    if (!f) return false
    ev['user.name'] = m.slice(userStart, f.at)
    ev['telltale.auth_method'] = method
    setPeer(ev, f.tail.addr, f.tail.port)
    ev['event.category'] = AUTH
    if (m.charCodeAt(0) === 65) { ev['event.action'] = 'accepted'; ev['event.outcome'] = 'success' } else if (m.charCodeAt(0) === 80) { ev['event.action'] = 'postponed'; ev['event.outcome'] = 'unknown' } else {
      ev['event.action'] = invalid ? 'failed_invalid_user' : method === 'password' ? 'failed_password' : method === 'publickey' ? 'failed_publickey' : 'failed_other'
      ev['event.outcome'] = 'failure'
    }
    return true
  }
  if (m.startsWith('Invalid user ') || m.startsWith('Illegal user ')) {
    const f = findFrom(m, 13)
    if (!f) return false
    ev['user.name'] = m.slice(13, f.at)
    setPeer(ev, f.tail.addr, f.tail.port)
    return fail(ev, 'invalid_user')
  }
  if (m.startsWith('User ')) {
    const nb = m.indexOf(' not allowed because ')
    if (nb === -1) return false
    const fr = m.lastIndexOf(' from ', nb)
    if (fr < 5) { ev['user.name'] = m.slice(5, nb); return fail(ev, 'user_not_allowed') }
    ev['user.name'] = m.slice(5, fr)
    setPeer(ev, m.slice(fr + 6, nb), -1)
    return fail(ev, 'user_not_allowed')
  }
  for (const [prefix, action] of CLOSE_PREFIXES) {
    if (!m.startsWith(prefix)) continue
    let rest = m.slice(prefix.length)
    let user: string | undefined
    let withUser = false
    for (const up of ['authenticating user ', 'invalid user ', 'user ']) {
      if (rest.startsWith(up)) { withUser = true; rest = rest.slice(up.length); break }
    }
    // "Disconnecting invalid user U ADDR port N: reason"
    let reason = ''
    if (action === 'disconnecting') {
      const c = rest.indexOf(': ')
      if (c !== -1) { reason = rest.slice(c + 2); rest = rest.slice(0, c) }
    }
    const peer = readTrailingPeer(rest)
    if (!peer) {
      if (action === 'disconnecting' && m.startsWith('Disconnecting: Too many authentication failures')) {
        const fo = m.indexOf(' for ')
        if (fo !== -1) ev['user.name'] = trimEnd(m.slice(fo + 5).replace(' [preauth]', ''))
        return fail(ev, 'max_auth_attempts')
      }
      return false
    }
    if (withUser) user = peer.before > 0 ? rest.slice(0, peer.before) : ''
    if (user !== undefined) ev['user.name'] = user
    setPeer(ev, peer.addr, peer.port)
    ev['event.category'] = AUTH
    ev['event.action'] = reason.startsWith('Too many authentication failures') ? 'max_auth_attempts' : action
    // A connection that ends before authentication completed is a failed attempt.
    ev['event.outcome'] = preauth || withUser || action === 'disconnecting' ? 'failure' : 'unknown'
    return true
  }
  if (m.startsWith('Received disconnect from ')) {
    const t = readFromTail(m, 25, true)
    if (!t) return false
    setPeer(ev, t.addr, t.port)
    // "…: 11: Bye Bye [preauth]" / "… port N:11: …"
    const rest = m.slice(t.protoEnd).replace(/^:\s*/, '')
    const code = parseUint(rest, 0, rest.indexOf(':') === -1 ? 0 : rest.indexOf(':'))
    ev['event.category'] = AUTH
    ev['event.action'] = 'disconnected'
    ev['event.outcome'] = preauth || code === 3 || code === 14 ? 'failure' : 'unknown'
    return true
  }
  if (m.startsWith('maximum authentication attempts exceeded for ')) {
    let us = 46
    if (m.startsWith('invalid user ', us)) us += 13
    const f = findFrom(m, us)
    if (!f) return false
    ev['user.name'] = m.slice(us, f.at)
    setPeer(ev, f.tail.addr, f.tail.port)
    return fail(ev, 'max_auth_attempts')
  }
  if (m.startsWith('Unable to negotiate with ')) {
    const t = readFromTail(m, 25, true)
    if (!t) return false
    setPeer(ev, t.addr, t.port)
    return fail(ev, 'negotiation_failed')
  }
  if (m.startsWith('Did not receive identification string from ') || m.startsWith('Bad protocol version identification ')) {
    const f = findFrom(m, 20)
    if (!f) return false
    setPeer(ev, f.tail.addr, f.tail.port)
    return fail(ev, 'bad_identification')
  }
  if (m.startsWith('Timeout before authentication for ')) {
    let s = 34
    if (m.startsWith('connection from ', s)) s += 16
    const t = readFromTail(m, s, true)
    if (!t) return false
    setPeer(ev, t.addr, t.port)
    return fail(ev, 'auth_timeout')
  }
  for (const p of ['ssh_dispatch_run_fatal: Connection from ', 'banner exchange: Connection from ']) {
    if (m.startsWith(p)) {
      const t = readFromTail(m, p.length)
      if (!t) return false
      setPeer(ev, t.addr, t.port)
      return fail(ev, p.charCodeAt(0) === 115 ? 'dispatch_fatal' : 'protocol_error')
    }
  }
  if (m.startsWith('Magic value check failed ')) {
    const f = findFrom(m, 20)
    if (!f) return false
    setPeer(ev, f.tail.addr, f.tail.port)
    return fail(ev, 'protocol_error')
  }
  if (m.startsWith('ROOT LOGIN REFUSED FROM ')) {
    const t = readFromTail(m, 24)
    if (!t) return false
    ev['user.name'] = 'root'
    setPeer(ev, t.addr, t.port)
    return fail(ev, 'root_login_refused')
  }
  if (m.startsWith('refused connect from ')) {
    const o = m.lastIndexOf('(')
    const c = m.lastIndexOf(')')
    if (o === -1 || c < o) return false
    setPeer(ev, m.slice(o + 1, c), -1)
    return fail(ev, 'refused_connect')
  }
  if (m.startsWith('pam_unix(')) return parsePamUnix(m, ev)
  if (m.startsWith('PAM: ')) {
    // "PAM: Authentication failure for U from H[ via X]" / "… for illegal user U from H"
    const fo = m.indexOf(' for ')
    if (fo === -1) return false
    let us = fo + 5
    if (m.startsWith('illegal user ', us)) us += 13
    const fr = m.indexOf(' from ', us)
    if (fr === -1) return false
    ev['user.name'] = m.slice(us, fr)
    let he = m.indexOf(' ', fr + 6)
    if (he === -1) he = m.length
    setPeer(ev, m.slice(fr + 6, he), -1)
    return fail(ev, 'pam_auth_failure')
  }
  if (m.startsWith('Connection from ')) {
    const t = readFromTail(m, 16, true)
    if (!t) return false
    setPeer(ev, t.addr, t.port)
    ev['event.category'] = NET
    ev['event.action'] = 'connection_from'
    return true
  }
  if (m.startsWith('input_userauth_request: invalid user ')) {
    ev['user.name'] = trimEnd(m.slice(37).replace(' [preauth]', ''))
    return fail(ev, 'invalid_user')
  }
  if (m.startsWith('Address ') && m.indexOf('POSSIBLE BREAK-IN ATTEMPT') !== -1) {
    const e = m.indexOf(' ', 8)
    if (e !== -1) setPeer(ev, m.slice(8, e), -1)
    ev['event.category'] = NET
    ev['event.action'] = 'reverse_mapping_mismatch'
    ev['event.outcome'] = 'unknown'
    return true
  }
  if (m.startsWith('Server listening on ') || m.startsWith('Received signal ')) {
    ev['event.action'] = m.startsWith('S') ? 'listening' : 'signal'
    return true
  }
  return false
}

const CLOSE_PREFIXES: ReadonlyArray<readonly [string, string]> = [
  ['Connection closed by ', 'connection_closed'],
  ['Connection reset by ', 'connection_reset'],
  ['Disconnected from ', 'disconnected'],
  ['Disconnecting ', 'disconnecting'],
  ['Disconnecting: ', 'disconnecting'],
]

/** pam_unix(sshd:auth) / pam_unix(sshd:session) / pam_unix(sudo:session) … */
export function parsePamUnix(m: string, ev: LogEvent): boolean {
  const close = m.indexOf('): ')
  if (close === -1) return false
  const text = m.slice(close + 3)
  if (text.startsWith('authentication failure;')) {
    const kv = parseKv(text.slice(23))
    const rhost = kv.get('rhost')
    if (rhost) setPeer(ev, rhost, -1)
    const user = kv.get('user')
    if (user) ev['user.name'] = user
    return fail(ev, 'pam_auth_failure')
  }
  if (text.startsWith('session opened for user ') || text.startsWith('session closed for user ')) {
    const us = 24
    let ue = m.indexOf(' ', close + 3 + us)
    ue = ue === -1 ? m.length : ue
    let user = m.slice(close + 3 + us, ue)
    const paren = user.indexOf('(')
    if (paren > 0) user = user.slice(0, paren)
    ev['user.name'] = user
    ev['event.category'] = SESSION
    ev['event.action'] = text.charCodeAt(8) === 111 ? 'session_opened' : 'session_closed'
    ev['event.outcome'] = 'success'
    return true
  }
  return false
}

/** `k=v k2= k3=v3` (values without spaces; empty allowed). */
export function parseKv(s: string): Map<string, string> {
  const out = new Map<string, string>()
  let i = 0
  while (i < s.length) {
    while (s.charCodeAt(i) === 32) i++
    let e = s.indexOf(' ', i)
    if (e === -1) e = s.length
    const eq = s.indexOf('=', i)
    if (eq !== -1 && eq < e) out.set(s.slice(i, eq), s.slice(eq + 1, e))
    i = e + 1
  }
  return out
}
