import type { LogEvent } from '../log-event.js'
import { parsePamUnix } from './sshd-message.js'
import { trimEnd } from './text-scan.js'

/** sudo, su and systemd-logind messages → authentication / session events. */

const AUTH = ['authentication']
const SESSION = ['session']

export function parseSudoMessage(raw: string, ev: LogEvent): boolean {
  const m = raw.trimStart()
  if (m.startsWith('pam_unix(')) return parsePamUnix(m, ev)
  // "alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls"
  const colon = m.indexOf(' : ')
  if (colon <= 0) return false
  ev['user.name'] = m.slice(0, colon)
  const rest = m.slice(colon + 3)
  ev['event.category'] = AUTH
  if (rest.startsWith('TTY=') || rest.startsWith('PWD=')) {
    ev['event.action'] = 'sudo_command'
    ev['event.outcome'] = 'success'
  } else if (rest.indexOf('incorrect password attempt') !== -1) {
    ev['event.action'] = 'sudo_failed_password'
    ev['event.outcome'] = 'failure'
  } else if (rest.startsWith('user NOT in sudoers') || rest.startsWith('user NOT authorized') || rest.startsWith('command not allowed')) {
    ev['event.action'] = 'sudo_denied'
    ev['event.outcome'] = 'failure'
  } else {
    ev['event.action'] = 'sudo_other'
    ev['event.outcome'] = 'unknown'
  }
  return true
}

export function parseSuMessage(raw: string, ev: LogEvent): boolean {
  const m = trimEnd(raw)
  if (m.startsWith('pam_unix(')) return parsePamUnix(m, ev)
  // util-linux: "FAILED SU (to root) alice on pts/0", "(to root) alice on pts/0"
  // shadow/newer: "FAILED su for root by alice", "Successful su for root by alice", "+ pts/0 alice:root", "- pts/0 alice:root"
  let failed = false
  let s = m
  if (s.startsWith('FAILED SU ')) { failed = true; s = s.slice(10) }
  if (s.startsWith('(to ')) {
    const e = s.indexOf(') ')
    if (e === -1) return false
    const on = s.indexOf(' on ', e)
    ev['user.name'] = s.slice(e + 2, on === -1 ? s.length : on)
    return su(ev, failed)
  }
  if (s.startsWith('FAILED su for ') || s.startsWith('Successful su for ')) {
    const by = s.lastIndexOf(' by ')
    if (by === -1) return false
    ev['user.name'] = s.slice(by + 4)
    return su(ev, s.charCodeAt(0) === 70)
  }
  if ((s.startsWith('+ ') || s.startsWith('- ')) && s.indexOf(':') !== -1) {
    const sp = s.indexOf(' ', 2)
    const pair = sp === -1 ? '' : s.slice(sp + 1)
    const c = pair.indexOf(':')
    if (c <= 0) return false
    ev['user.name'] = pair.slice(0, c)
    return su(ev, s.charCodeAt(0) === 45)
  }
  return false
}

function su(ev: LogEvent, failed: boolean): true {
  ev['event.category'] = AUTH
  ev['event.action'] = failed ? 'su_failed' : 'su'
  ev['event.outcome'] = failed ? 'failure' : 'success'
  return true
}

export function parseLogindMessage(raw: string, ev: LogEvent): boolean {
  const m = trimEnd(raw)
  // "New session 12 of user alice." / "Removed session 12." / "Session 12 logged out. …"
  if (m.startsWith('New session ')) {
    const of = m.indexOf(' of user ')
    if (of === -1) return false
    let u = m.slice(of + 9)
    if (u.endsWith('.')) u = u.slice(0, -1)
    ev['user.name'] = u
    ev['event.category'] = SESSION
    ev['event.action'] = 'session_opened'
    ev['event.outcome'] = 'success'
    return true
  }
  if (m.startsWith('Removed session ') || (m.startsWith('Session ') && m.indexOf(' logged out') !== -1)) {
    ev['event.category'] = SESSION
    ev['event.action'] = 'session_closed'
    ev['event.outcome'] = 'success'
    return true
  }
  return false
}
