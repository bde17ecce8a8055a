/**
 * Log parser throughput: lines/s per parser and for auto-detection, on ≥ 1M generated
 * lines (framed from one buffer, as the tailer does). Target: ≥ 200k lines/s on one core
 * for syslog+sshd. Run standalone: `node dist/bench/log-parse-bench.js`.
 */
import { pathToFileURL } from 'node:url'
import { LineFramer } from '../agent/logs/framing/line-framer.js'
import { parseLogLine, type LogType } from '../agent/logs/parse/parse-line.js'

export interface LogParseBenchRow { name: string; type: LogType; lines: number; seconds: number; linesPerSecond: number; parseFailures: number }

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
function ip(i: number): string { return `${(i * 7) % 223 + 1}.${(i * 13) % 256}.${(i * 17) % 256}.${(i * 31) % 254 + 1}` }
function bsd(i: number): string { return `${MONTHS[i % 12]} ${String((i % 28) + 1).padStart(2, ' ')} ${String(i % 24).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:${String((i * 7) % 60).padStart(2, '0')}` }

const GEN: Record<string, (i: number) => string> = {
  sshd: (i) => {
    const k = i % 5
    const h = `${bsd(i)} host${i % 50} sshd[${1000 + (i % 9000)}]: `
    if (k === 0) return `${h}Failed password for invalid user u${i % 977} from ${ip(i)} port ${1024 + (i % 60000)} ssh2`
    if (k === 1) return `${h}Accepted publickey for alice from ${ip(i)} port ${1024 + (i % 60000)} ssh2: RSA SHA256:abc`
    if (k === 2) return `${h}Invalid user admin${i % 13} from ${ip(i)} port ${1024 + (i % 60000)}`
    if (k === 3) return `${h}Connection closed by authenticating user root ${ip(i)} port ${1024 + (i % 60000)} [preauth]`
    return `${h}pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=${ip(i)}  user=root`
  },
  syslog: (i) => i % 2 ? `${bsd(i)} host${i % 50} CRON[${i % 30000}]: (root) CMD (run-parts /etc/cron.hourly)` : `<30>1 2024-02-18T02:29:57.${String(i % 1000).padStart(3, '0')}+08:00 fw charon ${i % 30000} - [meta sequenceId="${i}"] 06[NET] received packet`,
  netfilter: (i) => `${bsd(i)} gw kernel: [${i}.123456] [UFW BLOCK] IN=eth0 OUT= MAC=00:08:a2:0c:1f:12:00:c8:8b:e2:d6:87:08:00 SRC=${ip(i)} DST=10.0.0.1 LEN=40 TOS=0x00 PREC=0x00 TTL=245 ID=${i % 65535} PROTO=TCP SPT=${i % 65535} DPT=${(i * 3) % 65535} WINDOW=1024 RES=0x00 SYN URGP=0`,
  access: (i) => `${ip(i)} - - [08/Jun/2020:08:04:43 +0000] "GET /p/${i % 1000}?q=${i} HTTP/1.1" ${i % 7 ? 200 : 404} ${i % 5000} "-" "Mozilla/5.0 (X11; Linux x86_64) bench/${i % 10}"`,
  json: (i) => `{"timestamp":"2022-07-10T23:50:05.533101+0000","flow_id":${i},"event_type":"alert","src_ip":"${ip(i)}","src_port":${i % 65535},"dest_ip":"10.0.0.1","dest_port":80,"proto":"TCP","alert":{"action":"allowed","signature_id":2024468,"signature":"ET TEST ${i % 100}"}}`,
}

function buildBuffer(gens: Array<(i: number) => string>, n: number): Buffer {
  const parts: string[] = []
  for (let i = 0; i < n; i++) parts.push(gens[i % gens.length]!(i))
  return Buffer.from(`${parts.join('\n')}\n`)
}

function run(name: string, type: LogType, buf: Buffer): LogParseBenchRow {
  const opts = { nowMs: Date.UTC(2026, 10, 22) }
  let lines = 0
  let failures = 0
  const framer = new LineFramer({ maxLineBytes: 65536 })
  const t0 = process.hrtime.bigint()
  const CH = 64 * 1024
  for (let off = 0; off < buf.length; off += CH) {
    framer.push(buf.subarray(off, Math.min(buf.length, off + CH)), (fr) => {
      const ev = parseLogLine(fr.text, type, opts)
      if (ev['telltale.parse_failure']) failures++
      lines++
    })
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  return { name, type, lines, seconds, linesPerSecond: Math.round(lines / seconds), parseFailures: failures }
}

export async function benchLogParse(opts: { lines?: number } = {}): Promise<LogParseBenchRow[]> {
  const n = opts.lines ?? 1_000_000
  const rows: LogParseBenchRow[] = []
  const per = Math.max(1000, Math.floor(n / 4))
  const single: Array<[string, LogType]> = [['sshd', 'sshd'], ['syslog', 'syslog'], ['netfilter', 'netfilter'], ['access', 'access'], ['json', 'json']]
  for (const [name, type] of single) rows.push(run(`${name} (--type ${type}, ${per} lines)`, type, buildBuffer([GEN[name]!], per)))
  rows.push(run(`syslog+sshd (auto, ${n} lines)`, 'auto', buildBuffer([GEN.sshd!, GEN.syslog!], n)))
  rows.push(run(`all formats mixed (auto, ${n} lines)`, 'auto', buildBuffer(Object.values(GEN), n)))
  return rows
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await benchLogParse()
  for (const r of rows) process.stdout.write(`${r.name.padEnd(44)} ${String(r.linesPerSecond).padStart(9)} lines/s  (${r.lines} lines in ${r.seconds.toFixed(2)} s, ${r.parseFailures} parse failures)\n`)
}
