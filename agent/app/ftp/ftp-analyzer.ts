/**
 * FTP control-connection analyzer (ftp.log), following Zeek's FTP analyzer (FTP.cc: command
 * and reply line parsing, multi-line replies) and base/protocols/ftp/main.zeek (pending
 * commands matched to replies, one row per logged command written when the next command
 * arrives, passwords only for guest users, data channels from PORT/EPRT/PASV/EPSV announced
 * as expected connections with service ftp-data, file size from 150/213 replies, URLs for file
 * commands, the working directory from CWD/CDUP/PWD).
 *
 * Limits per connection: lines are cut at MAX_LINE bytes; at most MAX_PENDING commands wait for
 * a reply (more are counted as FTP_too_many_pending_commands, as Zeek); user/password are cut
 * at 128 bytes, arg and reply_msg at 4096 in the log (Zeek's defaults).
 * Not done: mime_type (Zeek fills it from file content sniffing, which the bare-mode baseline
 * does not load either), Telnet IAC stripping, GSSAPI ADAT.
 */
import type { AppAnalyzer, AppConnInfo, AppOutput } from '../app-analyzer.js'
import { LineSplitter } from './ftp-lines.js'
import { bestPendingCmd, type CmdArg } from './ftp-pending.js'
import { parseEftp, parseFtpEpsv, parseFtpPasv, parseFtpPort, type FtpPort } from './ftp-port-parse.js'
import { buildPathCompressed, buildUrlFtp, extractPath } from './ftp-paths.js'
import type { FtpDataChannels, FtpDataTarget } from './ftp-data-channels.js'

export const MAX_LINE = 16 * 1024
export const MAX_PENDING = 20
const MAX_USER = 128
const MAX_PASSWORD = 128
const MAX_ARG = 4096
const MAX_REPLY = 4096
const DATA_TTL_SEC = 300

const LOGGED = new Set(['APPE', 'DELE', 'RETR', 'STOR', 'STOU', 'ACCT', 'PORT', 'PASV', 'EPRT', 'EPSV'])
const GUESTS = new Set(['anonymous', 'ftp', 'ftpuser', 'guest'])
const FILE_CMDS = new Set(['APPE', 'CWD', 'DELE', 'MKD', 'RETR', 'RMD', 'RNFR', 'RNTO', 'STOR', 'STOU', 'REST', 'SIZE', 'MDTM'])
const INTERMEDIATE_WITH_CODE = /^[1-9][0-9]{2} [\x20-\x7e]{10}/

interface DataChannel { passive: boolean; origH: string; respH: string; respP: number }

/** main.zeek FTP::Info (the per-session record). */
interface Session extends FtpDataTarget {
  ts: number
  user: string
  password: string | undefined
  cwd: string
  pending: Map<number, CmdArg>
  seq: number
  passive: boolean
  cmdarg: CmdArg | undefined
  replyCode: number | undefined
  replyMsg: string | undefined
  fileSize: number | undefined
  dataChannel: DataChannel | undefined
}

export class FtpAnalyzer implements AppAnalyzer {
  private readonly lines = [new LineSplitter(MAX_LINE), new LineSplitter(MAX_LINE)]
  private s: Session | undefined
  private pendingReply = 0
  private confirmed = false
  private authRequested = ''
  private tlsActive = false

  constructor(private readonly conn: AppConnInfo, private readonly out: AppOutput, private readonly channels: FtpDataChannels) {}

  deliver(isOrig: boolean, data: Buffer, ts: number): void {
    if (this.tlsActive) return
    const split = this.lines[isOrig ? 0 : 1]!
    const before = split.truncated
    split.push(data, (line) => {
      if (this.tlsActive) return
      if (isOrig) this.request(line, ts)
      else this.reply(line, ts)
    })
    if (split.truncated !== before) this.out.anomaly('ftp_line_too_long')
  }

  finish(): void {
    const s = this.s
    if (s === undefined) return
    for (const c of [...s.pending.values()].sort((a, b) => a.seq - b.seq)) {
      s.cmdarg = c
      this.message()
    }
    s.pending.clear()
  }

  private request(line: string, ts: number): void {
    const m = /^[ \t]*(\S*)[ \t]*/.exec(line)!
    const word = m[1]!
    if (word.length < 3 || !/^[\x21-\x7e]+$/.test(word)) {
      if (this.confirmed) this.out.anomaly('FTP_invalid_command')
      return
    }
    const command = word.toUpperCase()
    const arg = line.slice(m[0].length)
    if (!this.confirmed) { this.confirmed = true; this.out.confirm('ftp') }
    if (command === 'AUTH') this.authRequested = arg
    // main.zeek ftp_request
    let s = this.s
    if (s !== undefined && s.cmdarg !== undefined && s.replyCode !== undefined && s.pending.delete(s.cmdarg.seq)) this.message()
    s = this.session(ts)
    if (s.pending.size < MAX_PENDING) this.addPending(command, arg, ts)
    else this.out.anomaly('FTP_too_many_pending_commands')
    if (command === 'USER') {
      if (arg.length > MAX_USER) this.out.anomaly('FTP_user_too_long')
      s.user = arg.slice(0, MAX_USER)
    } else if (command === 'PASS') {
      if (arg.length > MAX_PASSWORD) this.out.anomaly('FTP_password_too_long')
      s.password = arg.slice(0, MAX_PASSWORD)
    } else if (command === 'PORT' || command === 'EPRT') {
      const d = command === 'PORT' ? parseFtpPort(arg) : parseEftp(arg)
      if (d.valid) this.expectData(s, { passive: false, origH: this.conn.respH, respH: d.h, respP: d.p }, ts)
    }
  }

  private reply(line: string, ts: number): void {
    let code = /^\d{3}/.test(line) ? Number(line.slice(0, 3)) : 0
    let cont: boolean
    let msg: string
    if (this.pendingReply !== 0) {
      if (code === this.pendingReply && line.length > 3 && line[3] === ' ') {
        msg = line.slice(3).replace(/^[ \t]+/, '')
        this.pendingReply = 0
        cont = false
      } else {
        cont = true
        code = 0
        msg = line
      }
    } else {
      cont = false
      if (code < 100) {
        if (!this.confirmed) this.out.violation(code === 0 ? 'non-numeric reply code' : 'invalid reply code')
        else this.out.anomaly('FTP_invalid_reply')
        return
      }
      if (line.length > 3 && line[3] === '-') {
        this.pendingReply = code
        msg = line.slice(4).replace(/^[ \t]+/, '')
        cont = true
      } else if (line.length > 3 && line[3] !== ' ') {
        if (!this.confirmed) this.out.violation('invalid reply line')
        else this.out.anomaly('FTP_invalid_reply')
        return
      } else {
        msg = line.slice(3).replace(/^[ \t]+/, '')
      }
    }
    if (code === 234 && this.authRequested === 'TLS') {
      this.tlsActive = true
      this.out.upgrade('ssl')
    }
    this.ftpReply(code, msg, cont, ts)
  }

  /** main.zeek ftp_reply. */
  private ftpReply(code: number, msg: string, cont: boolean, ts: number): void {
    const s = this.session(ts)
    if (cont && code === 0 && s.replyCode !== undefined && !INTERMEDIATE_WITH_CODE.test(msg)) return
    const c = bestPendingCmd(s.pending, code, msg)
    if (c === undefined) { this.out.anomaly('FTP_reply_without_command'); return }
    s.cmdarg = c
    s.replyCode = code
    s.replyMsg = msg
    if (cont) return
    if ((code === 150 && c.cmd === 'RETR') || (code === 213 && c.cmd === 'SIZE')) {
      const nums = msg.match(/[0-9]+/g)
      s.fileSize = nums ? Number(nums[nums.length - 1]) : 0
    } else if ((code === 227 || code === 229) && (c.cmd === 'PASV' || c.cmd === 'EPSV')) {
      const d: FtpPort = code === 227 ? parseFtpPasv(msg) : parseFtpEpsv(msg)
      if (d.valid) {
        s.passive = true
        const h = code === 229 && d.h === '::' ? this.conn.respH : d.h
        this.expectData(s, { passive: true, origH: this.conn.origH, respH: h, respP: d.p }, ts)
      }
    }
    if (!c.cwdConsumed) {
      if (c.cmd === 'CWD' && code === 250) { c.cwdConsumed = true; s.cwd = buildPathCompressed(s.cwd, c.arg) }
      else if (c.cmd === 'CDUP' && (code === 200 || code === 250)) { c.cwdConsumed = true; s.cwd = buildPathCompressed(s.cwd, '/..') }
      else if ((c.cmd === 'PWD' || c.cmd === 'XPWD') && code === 257) { c.cwdConsumed = true; s.cwd = extractPath(msg) }
    }
    if (s.pending.size > 1) {
      s.pending.delete(c.seq)
      this.message()
    }
  }

  private expectData(s: Session, chan: DataChannel, ts: number): void {
    s.passive = chan.passive
    s.dataChannel = chan
    this.channels.add(chan.respH, chan.respP, s, ts)
    this.out.expect({ origH: chan.origH, respH: chan.respH, respP: chan.respP, service: 'ftp-data', analyzer: 'ftp-data', ttlSec: DATA_TTL_SEC })
  }

  /** main.zeek ftp_message: writes the row of the current command if it is a logged one. */
  private message(): void {
    const s = this.s
    const c = s?.cmdarg
    if (s === undefined || c === undefined) return
    let arg = FILE_CMDS.has(c.cmd) ? buildUrlFtp(this.conn.respH, s.cwd, c.arg) : c.arg
    if (arg.length > MAX_ARG) { this.out.anomaly('FTP_arg_too_long'); arg = arg.slice(0, MAX_ARG) }
    let reply = s.replyMsg
    if (reply !== undefined && reply.length > MAX_REPLY) { this.out.anomaly('FTP_reply_msg_too_long'); reply = reply.slice(0, MAX_REPLY) }
    s.replyMsg = reply
    const hide = !GUESTS.has(s.user.toLowerCase())
    if (c.cmd === 'PASS' && hide) arg = '<hidden>'
    if (s.password !== undefined && hide) s.password = '<hidden>'
    if (LOGGED.has(c.cmd)) {
      const dc = s.dataChannel
      this.out.log('ftp', {
        ts: c.ts,
        uid: this.conn.uid,
        'id.orig_h': this.conn.origH,
        'id.orig_p': this.conn.origP,
        'id.resp_h': this.conn.respH,
        'id.resp_p': this.conn.respP,
        user: s.user,
        password: s.password,
        command: c.cmd,
        arg: arg === '' ? undefined : arg,
        file_size: s.fileSize,
        reply_code: s.replyCode,
        reply_msg: reply,
        'data_channel.passive': dc?.passive,
        'data_channel.orig_h': dc?.origH,
        'data_channel.resp_h': dc?.respH,
        'data_channel.resp_p': dc?.respP,
        fuid: s.fuid,
      })
    }
    s.fileSize = undefined
    s.dataChannel = undefined
    s.fuid = undefined
  }

  private session(ts: number): Session {
    if (this.s === undefined) {
      this.s = {
        ts, user: '<unknown>', password: undefined, cwd: '.', pending: new Map(), seq: 0, passive: false,
        cmdarg: undefined, replyCode: undefined, replyMsg: undefined, fileSize: undefined, dataChannel: undefined, fuid: undefined,
      }
      this.addPending('<init>', '', ts)
      this.out.observe({ ts, ip: this.conn.respH, service: { port: this.conn.respP, proto: 'tcp', name: 'ftp' } })
    }
    return this.s
  }

  private addPending(cmd: string, arg: string, ts: number): void {
    const s = this.s!
    const seq = ++s.seq
    s.pending.set(seq, { ts, cmd, arg, seq, cwdConsumed: false })
  }
}
