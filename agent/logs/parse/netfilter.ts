import type { LogEvent } from '../log-event.js'
import { parseClfTime } from './syslog-time.js'
import { isIp, parseUint, unmapIPv4 } from './text-scan.js'

/**
 * Netfilter kernel log payloads (iptables/ip6tables `LOG`, nftables `log prefix`, ufw
 * `[UFW BLOCK]`, Proxmox `pvefw-logger` lines): `PREFIX IN=… OUT=… MAC=… SRC=… DST=…
 * PROTO=… SPT=… DPT=… FLAGS`. The action comes from the prefix.
 */
const NETWORK = ['network']
const TCP_FLAGS = new Set(['CWR', 'ECE', 'URG', 'ACK', 'PSH', 'RST', 'SYN', 'FIN'])
const ACTION_WORDS: ReadonlyArray<readonly [string, string]> = [
  ['DROP', 'drop'], ['REJECT', 'reject'], ['BLOCK', 'block'], ['DENY', 'deny'], ['DENIED', 'deny'],
  ['ACCEPT', 'accept'], ['ALLOW', 'allow'], ['AUDIT', 'audit'], ['LIMIT', 'limit'],
]

export function actionFromPrefix(prefix: string): string {
  const up = prefix.toUpperCase()
  for (const [w, a] of ACTION_WORDS) if (up.indexOf(w) !== -1) return a
  return 'log'
}

/** Finds " IN=" or "IN=" at the start: the first key of every netfilter LOG payload. */
function findInKey(m: string, from: number): number {
  if (m.startsWith('IN=', from)) return from
  const k = m.indexOf(' IN=', from)
  return k === -1 ? -1 : k + 1
}

/** Parses the key=value payload from `kvStart`; `prefix` is the log prefix text. */
export function fillNetfilter(m: string, kvStart: number, prefix: string, ev: LogEvent): boolean {
  let src: string | undefined
  let dst: string | undefined
  let flags: string[] | undefined
  let i = kvStart
  const len = m.length
  while (i < len) {
    while (i < len && m.charCodeAt(i) === 32) i++
    if (i >= len) break
    let e = m.indexOf(' ', i)
    if (e === -1) e = len
    const eq = m.indexOf('=', i)
    if (eq !== -1 && eq < e) {
      const key = m.slice(i, eq)
      const val = m.slice(eq + 1, e)
      switch (key) {
        case 'IN': if (val) ev['observer.ingress.interface.name'] = val; break
        case 'OUT': if (val) ev['observer.egress.interface.name'] = val; break
        case 'MAC':
          if (val.length >= 35) { ev['destination.mac'] = val.slice(0, 17); ev['source.mac'] = val.slice(18, 35) } else if (val.length === 17) ev['source.mac'] = val
          break
        case 'SRC': src = val; break
        case 'DST': dst = val; break
        case 'PROTO': ev['network.transport'] = val.toLowerCase() === 'icmpv6' ? 'ipv6-icmp' : val.toLowerCase(); break
        case 'SPT': { const n = parseUint(val); if (n >= 0 && n <= 65535) ev['source.port'] = n; break }
        case 'DPT': { const n = parseUint(val); if (n >= 0 && n <= 65535) ev['destination.port'] = n; break }
        default: break
      }
    } else {
      const word = m.slice(i, e)
      if (TCP_FLAGS.has(word)) (flags ??= []).push(word)
    }
    i = e + 1
  }
  if (src === undefined || dst === undefined || !isIp(src) || !isIp(dst)) return false
  ev['source.ip'] = unmapIPv4(src)
  ev['source.address'] = ev['source.ip']
  ev['destination.ip'] = unmapIPv4(dst)
  if (flags) ev['telltale.tcp_flags'] = flags
  const p = prefix.trim()
  if (p) ev['rule.name'] = p.endsWith(':') ? p.slice(0, -1) : p
  ev['event.category'] = NETWORK
  ev['event.action'] = actionFromPrefix(p)
  ev['event.dataset'] = 'netfilter'
  return true
}

/** A kernel message (after the syslog header) that is a netfilter LOG line. */
export function parseNetfilterMessage(m: string, ev: LogEvent): boolean {
  let s = 0
  // "[50028442.088484] " kernel ring-buffer uptime
  if (m.charCodeAt(0) === 91) {
    const e = m.indexOf('] ')
    if (e > 0 && e < 20 && m.charCodeAt(1) !== 85) s = e + 2
  }
  const k = findInKey(m, s)
  if (k === -1 || m.indexOf('SRC=', k) === -1) return false
  return fillNetfilter(m, k, m.slice(s, k), ev)
}

/**
 * Proxmox VE firewall log (`/var/log/pve-firewall.log`):
 * `VMID LEVEL CHAIN dd/Mon/yyyy:HH:MM:SS +zzzz [policy ]ACTION: IN=…` (ACTION optional).
 */
export function parseProxmoxFirewall(line: string, ev: LogEvent): boolean {
  const a = line.indexOf(' ')
  if (a <= 0 || parseUint(line, 0, a) < 0) return false
  const b = line.indexOf(' ', a + 1)
  if (b === -1 || parseUint(line, a + 1, b) < 0) return false
  const c = line.indexOf(' ', b + 1)
  if (c === -1) return false
  const chain = line.slice(b + 1, c)
  const t = parseClfTime(line, c + 1)
  if (!t) return false
  const k = findInKey(line, t.end)
  const k2 = k === -1 ? line.indexOf(' OUT=', t.end) + 1 : k
  if (k2 <= 0) return false
  const actionText = line.slice(t.end, k2).trim()
  if (!fillNetfilter(line, k2, actionText, ev)) return false
  ev['rule.name'] = chain
  ev['event.action'] = actionText ? actionFromPrefix(actionText) : 'log'
  ev['@timestamp'] = new Date(t.ms).toISOString()
  ev['process.name'] = 'pve-firewall'
  ev['message'] = line
  return true
}

/**
 * pfSense/OPNsense `filterlog` CSV: rule,subrule,anchor,tracker,iface,reason,action,dir,
 * ipver, then IPv4 (tos,ecn,ttl,id,off,flags,protonum,proto,len,src,dst) or IPv6
 * (class,flowlabel,hoplimit,proto,protonum,len,src,dst), then ports for tcp/udp.
 */
export function parseFilterlog(m: string, ev: LogEvent): boolean {
  const f = m.split(',')
  if (f.length < 17) return false
  const ipver = f[8]
  let proto: string
  let src: string
  let dst: string
  let next: number
  if (ipver === '4') {
    if (f.length < 20) return false
    proto = f[16]!.toLowerCase(); src = f[18]!; dst = f[19]!; next = 20
  } else if (ipver === '6') {
    proto = f[12]!.toLowerCase(); src = f[15]!; dst = f[16]!; next = 17
  } else return false
  if (!isIp(src) || !isIp(dst)) return false
  ev['source.ip'] = src
  ev['source.address'] = src
  ev['destination.ip'] = dst
  ev['network.transport'] = proto === 'icmpv6' ? 'ipv6-icmp' : proto
  if ((proto === 'tcp' || proto === 'udp') && f.length >= next + 2) {
    const sp = parseUint(f[next]!), dp = parseUint(f[next + 1]!)
    if (sp >= 0 && sp <= 65535) ev['source.port'] = sp
    if (dp >= 0 && dp <= 65535) ev['destination.port'] = dp
    if (proto === 'tcp' && f[next + 3]) {
      const flags: string[] = []
      for (const ch of f[next + 3]!) {
        const name = FILTERLOG_FLAGS[ch]
        if (name) flags.push(name)
      }
      if (flags.length) ev['telltale.tcp_flags'] = flags
    }
  }
  if (f[4]) {
    if (f[7] === 'out') ev['observer.egress.interface.name'] = f[4]
    else ev['observer.ingress.interface.name'] = f[4]
  }
  ev['rule.id'] = f[3] || f[0]
  ev['event.category'] = NETWORK
  ev['event.action'] = (f[6] ?? '').toLowerCase() || 'log'
  ev['event.dataset'] = 'pfsense.filterlog'
  return true
}

const FILTERLOG_FLAGS: Record<string, string> = { S: 'SYN', A: 'ACK', F: 'FIN', R: 'RST', P: 'PSH', U: 'URG', E: 'ECE', W: 'CWR' }
