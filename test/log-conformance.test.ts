import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseLogLine } from '../agent/logs/parse/parse-line.js'
import { isHostAuthFailure } from '../agent/logs/log-event.js'
import { CORPUS_DIR, CORPUS_SKIP_MESSAGE, corpusAvailable } from './helpers/paths.js'
import { readParserAssert } from './helpers/log-crowdsec-assert.js'
import { CROWDSEC_MAPPING } from './helpers/log-crowdsec-mapping.js'

/**
 * Conformance of the log parsers against independent oracles: CrowdSec hub parser tests
 * (`*.parser.assert`) and fail2ban's `# failJSON:` expectations in sshd-fail2ban.log.
 * Every mismatch must be listed below with its reason; the match rate is printed.
 */
const LOGS = join(CORPUS_DIR, 'logs')
const OPTS = { nowMs: Date.UTC(2026, 10, 22), utc: true }

/**
 * CrowdSec rows we knowingly do not match. Each entry: file, line indexes (0-based, '*' =
 * all), fields, reason. Expanded into "<file>:<line>:<field>" keys below.
 */
const CROWDSEC_EXCEPTION_RULES: ReadonlyArray<readonly [string, number[] | '*', string[], string]> = [
  ['apache2-access-crowdsec.log', '*', ['Parsed.program'], 'CrowdSec sets program from the acquisition label (type: apache2), not from the line; a line without syslog header has no program'],
  ['nginx-access-crowdsec.log', '*', ['Parsed.program'], 'CrowdSec sets program from the acquisition label (type: nginx)'],
  ['suricata-eve-crowdsec.ndjson', '*', ['Parsed.program'], 'CrowdSec sets program from the acquisition label (suricata-evelogs)'],
  ['apache2-access-crowdsec.log', [7, 8], ['Parsed.message', 'Parsed.pid', 'Parsed.timestamp', 'Meta.http_path', 'Meta.log_type', 'Meta.service', 'Meta.source_ip'], 'Apache error-log line: no error-log parser yet (kept raw with parse-failure mark)'],
  ['nginx-access-crowdsec.log', [8], ['Parsed.message', 'Parsed.http_version', 'Parsed.pid', 'Parsed.remote_addr', 'Parsed.request', 'Parsed.target_fqdn', 'Parsed.time', 'Parsed.verb', 'Meta.http_path', 'Meta.http_verb', 'Meta.log_type', 'Meta.service', 'Meta.source_ip', 'Meta.target_fqdn'], 'nginx error-log line: no error-log parser yet (kept raw with parse-failure mark)'],
  ['charon-rfc5424-crowdsec.log', '*', ['Meta.service', 'Meta.log_type', 'Meta.source_ip'], 'no strongSwan charon message parser (not in issue 4); the syslog header fields of every charon line are compared and match'],
  ['iptables-crowdsec.log', [0, 1], ['Meta.log_type'], 'CrowdSec calls every netfilter LOG line iptables_drop; a line without a log prefix does not say the packet was dropped, so our event.action is "log"'],
  ['iptables-proxmox-crowdsec.log', [0], ['Meta.service'], 'CrowdSec says service "tcp" for a PROTO=UDP line; we report udp'],
  ['iptables-proxmox-crowdsec.log', [5], ['Parsed.action'], 'prefix "PVEFW-reject" is normalised to event.action "reject" (rule.name keeps the chain)'],
]

function expandRules(): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [file, idx, fields, reason] of CROWDSEC_EXCEPTION_RULES) {
    const exp = readParserAssert(join(LOGS, file.replace(/\.(log|ndjson)$/, '.parser.assert')))
    for (const [i, row] of exp) {
      if (idx !== '*' && !idx.includes(i)) continue
      for (const f of fields) if (row.has(f)) out[`${file}:${i}:${f}`] = reason
    }
  }
  return out
}

const MULTILINE = 'fail2ban decides this from earlier lines of the same sshd pid (multi-line state / failure counting); a line parser sees no such state'
const NO_IP = 'the line names no peer address; fail2ban takes it from an earlier "Connection from" line of the same pid (multi-line)'
const PUBKEY = 'fail2ban ignores "Failed publickey" for valid users in normal mode (clients try several keys); we report the failed attempt as an authentication failure'
const PAM_DEFERRED = 'fail2ban defers pam_unix auth failures until the connection ends (gh-2070); we report the failure when it is logged, as CrowdSec does (ssh_failed-auth)'
const MODE = 'expectation depends on fail2ban mode (normal vs aggressive/ddos); we follow the line: a pre-auth disconnect is a failed attempt'

/** fail2ban rows we knowingly do not match: line number (1-based) → reason. */
const FAIL2BAN_EXCEPTIONS: Record<number, string> = {
  157: PUBKEY, 159: PUBKEY, 169: PUBKEY, 171: PUBKEY,
  173: NO_IP, 175: MODE, 203: NO_IP, 208: NO_IP,
  222: PAM_DEFERRED, 232: MULTILINE, 236: PAM_DEFERRED, 238: PAM_DEFERRED,
  248: PAM_DEFERRED, 252: MULTILINE, 258: PAM_DEFERRED, 260: PAM_DEFERRED,
  262: MULTILINE, 271: MODE, 289: NO_IP, 295: NO_IP, 301: NO_IP,
  322: NO_IP, 324: NO_IP, 354: MULTILINE, 359: NO_IP, 388: NO_IP, 390: NO_IP, 396: NO_IP,
}

function logLines(file: string): string[] {
  const lines = readFileSync(file, 'utf8').split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

t.test('CrowdSec parser.assert conformance', { skip: corpusAvailable() ? false : CORPUS_SKIP_MESSAGE }, async (t) => {
  const files = readdirSync(LOGS).filter((f) => f.endsWith('.parser.assert')).sort()
  t.ok(files.length >= 8, 'all parser.assert files found')
  let total = 0
  let matched = 0
  const unexpected: string[] = []
  const seenExceptions = new Set<string>()
  const CROWDSEC_EXCEPTIONS = expandRules()
  for (const f of files) {
    const stem = f.replace(/\.parser\.assert$/, '')
    const logFile = readdirSync(LOGS).find((x) => x.startsWith(`${stem}.`) && !x.endsWith('.assert'))!
    const lines = logLines(join(LOGS, logFile))
    const exp = readParserAssert(join(LOGS, f))
    let ft = 0
    let fm = 0
    for (const [idx, fields] of exp) {
      const line = lines[idx]
      if (line === undefined) { unexpected.push(`${logFile}:${idx}: no such line`); continue }
      const ev = parseLogLine(line, 'auto', OPTS)
      for (const [field, want] of fields) {
        const cmp = CROWDSEC_MAPPING[field]
        if (!cmp) continue
        ft++
        if (cmp(ev, want)) { fm++; continue }
        const key = `${logFile}:${idx}:${field}`
        if (CROWDSEC_EXCEPTIONS[key]) { seenExceptions.add(key); continue }
        unexpected.push(`${key}: want ${JSON.stringify(want)} got ${JSON.stringify(ev)}`)
      }
    }
    total += ft
    matched += fm
    t.comment(`${logFile}: ${fm}/${ft} mapped CrowdSec fields match (${ft ? ((100 * fm) / ft).toFixed(1) : '100.0'}%)`)
  }
  t.comment(`CrowdSec overall: ${matched}/${total} (${((100 * matched) / total).toFixed(1)}%), ${seenExceptions.size} listed exceptions`)
  t.same(unexpected, [], 'every mismatch is a listed exception')
  t.same(Object.keys(CROWDSEC_EXCEPTIONS).filter((k) => !seenExceptions.has(k)), [], 'no stale exceptions')
})

t.test('fail2ban sshd failJSON conformance', { skip: corpusAvailable() ? false : CORPUS_SKIP_MESSAGE }, async (t) => {
  const lines = logLines(join(LOGS, 'sshd-fail2ban.log'))
  let total = 0
  let matched = 0
  const unexpected: string[] = []
  const seen = new Set<number>()
  for (let i = 0; i < lines.length - 1; i++) {
    const c = lines[i]!
    if (!c.startsWith('# failJSON:')) continue
    const spec = JSON.parse(c.slice(11)) as { match: boolean; host?: string; constraint?: string }
    const lineNo = i + 2
    const line = lines[i + 1]!
    const ev = parseLogLine(line, 'auto', { ...OPTS, year: 2005 })
    total++
    const failure = isHostAuthFailure(ev)
    const ok = spec.match ? failure && ev['source.address'] === spec.host : !failure
    if (ok) { matched++; continue }
    if (FAIL2BAN_EXCEPTIONS[lineNo]) { seen.add(lineNo); continue }
    unexpected.push(`line ${lineNo} ${JSON.stringify(spec)}: ${line}\n   got ${JSON.stringify(ev)}`)
  }
  t.comment(`sshd-fail2ban.log: ${matched}/${total} failJSON rows match (${((100 * matched) / total).toFixed(1)}%), ${seen.size} listed exceptions`)
  t.same(unexpected, [], 'every mismatch is a listed exception')
  t.same(Object.keys(FAIL2BAN_EXCEPTIONS).map(Number).filter((n) => !seen.has(n)), [], 'no stale exceptions')
})
