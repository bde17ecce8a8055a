import t from 'tap'
import fc from 'fast-check'
import { parseLogLine, LOG_TYPES } from '../agent/logs/parse/parse-line.js'
import { parseSshdMessage } from '../agent/logs/parse/sshd-message.js'
import { parseSudoMessage, parseSuMessage, parseLogindMessage } from '../agent/logs/parse/auth-messages.js'
import { parseNetfilterMessage, parseProxmoxFirewall, parseFilterlog } from '../agent/logs/parse/netfilter.js'
import { parseAccessLog } from '../agent/logs/parse/access-log.js'
import { parseJsonLine } from '../agent/logs/parse/json-log.js'
import { parseSyslogHeader } from '../agent/logs/parse/syslog-header.js'
import { LineFramer } from '../agent/logs/framing/line-framer.js'
import type { LogEvent } from '../agent/logs/log-event.js'

/** Every parser: no throw on any input, output bounded by the input (no runaway growth). */
const OPTS = { nowMs: Date.UTC(2026, 0, 10) }
const seeds = [
  'Feb 12 14:10:21 h sshd[1]: Failed password for invalid user x from 1.2.3.4 port 22 ssh2',
  '<38>1 2022-01-19T14:23:55+00:00 h sshd 1 - [meta a="b\\"]"] Invalid user t from ::ffff:1.2.3.4 port 3',
  'Jun  8 14:34:33 h kernel: [1.2] [UFW BLOCK] IN=e OUT= MAC=00:00:00:00:00:00:00:00:00:00:00:00:08:00 SRC=1.1.1.1 DST=2.2.2.2 PROTO=TCP SPT=1 DPT=2 SYN',
  '0 3 PVEFW-HOST-IN 20/Jun/2022:13:09:14 +0200 policy DROP: IN=v SRC=1.1.1.1 DST=2.2.2.2 PROTO=UDP SPT=1 DPT=2',
  'v:80 1.2.3.4 - u [08/Jun/2020:08:04:43 +0000] "GET /a\\"b HTTP/1.1" 200 5 "-" "ua"',
  '{"event_type":"alert","src_ip":"1.2.3.4","alert":{"signature":"x"}}',
  '7,,,1,em0,match,block,in,4,0x0,,64,1,0,DF,6,tcp,60,1.1.1.1,2.2.2.2,1,2,0,S,1,,1,,',
]
const line = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.tuple(fc.constantFrom(...seeds), fc.nat(200), fc.nat(200), fc.string({ maxLength: 20 })).map(([s, a, b, ins]) => s.slice(0, Math.min(a, s.length)) + ins + s.slice(Math.min(a, s.length) + (b % 10))),
)

function bounded(t: Tap, ev: LogEvent, input: string): void {
  const size = JSON.stringify(ev).length
  if (size > 4 * input.length + 2048) t.fail(`output ${size} bytes for ${input.length} bytes in`)
}
type Tap = { fail(m: string): void }

t.test('parseLogLine never throws, always returns an event, for every type', async (t) => {
  fc.assert(fc.property(line, fc.constantFrom(...LOG_TYPES), (l, type) => {
    const ev = parseLogLine(l, type, OPTS)
    if (typeof ev.message !== 'string' || typeof ev['event.dataset'] !== 'string') return false
    bounded(t, ev, l)
    return true
  }), { numRuns: 3000 })
  t.pass('3000 runs')
})

t.test('each message parser never throws', async (t) => {
  const parsers = [parseSshdMessage, parseSudoMessage, parseSuMessage, parseLogindMessage, parseNetfilterMessage, parseProxmoxFirewall, parseFilterlog, parseAccessLog, parseJsonLine]
  for (const p of parsers) {
    fc.assert(fc.property(line, (l) => {
      const ev: LogEvent = { 'event.dataset': 'x', 'message': l }
      const r = p(l, ev)
      bounded(t, ev, l)
      return typeof r === 'boolean'
    }), { numRuns: 1000 })
  }
  fc.assert(fc.property(line, (l) => { parseSyslogHeader(l, OPTS); return true }), { numRuns: 2000 })
  t.pass('no throw')
})

t.test('framing: any bytes in any chunking → frames that tile the input exactly (offsets contiguous, nothing lost)', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(200), { maxLength: 20 }), fc.integer({ min: 1, max: 64 }), (bytes, cuts, max) => {
    const f = new LineFramer({ maxLineBytes: max })
    const frames: { offset: number; nextOffset: number; len: number }[] = []
    const buf = Buffer.from(bytes)
    let pos = 0
    for (const c of cuts) { const e = Math.min(buf.length, pos + c); f.push(buf.subarray(pos, e), (fr) => frames.push({ offset: fr.offset, nextOffset: fr.nextOffset, len: Buffer.byteLength(fr.text) })); pos = e }
    f.push(buf.subarray(pos), (fr) => frames.push({ offset: fr.offset, nextOffset: fr.nextOffset, len: Buffer.byteLength(fr.text) }))
    f.flushPartial((fr) => frames.push({ offset: fr.offset, nextOffset: fr.nextOffset, len: 0 }))
    let at = 0
    for (const fr of frames) { if (fr.offset !== at) return false; at = fr.nextOffset }
    return at === buf.length && frames.every((fr) => fr.nextOffset > fr.offset)
  }), { numRuns: 2000 })
  t.pass('frames tile the input')
})
