/**
 * Zeek's HTTP analyzer for one TCP connection (HTTP_Analyzer in src/analyzer/protocol/http/HTTP.cc):
 * request lines from the originator, status lines from the responder, pipelining, HTTP/0.9,
 * CONNECT tunnels and 101 upgrades (analysis stops; a TLS tunnel is handed to 'ssl'), content
 * gaps (skipped inside a body of known length, otherwise the direction stops, as Zeek).
 * Confirms the service on the first valid request line (AnalyzerConfirmation in HTTP_Request).
 * Reports host names (Host), client software (User-Agent) and server software (Server).
 *
 * Bounds per connection: lines of `maxLineBytes` (longer ones cut, counted), `maxHeaders`
 * fields per message, `maxPending` unanswered requests, `maxInflateInput` bytes of a
 * compressed body, 64 remembered request methods, 16 observed names/banners.
 */
import type { AppAnalyzer, AppConnInfo, AppOutput } from '../app-analyzer.js'
import type { HttpHeader } from './http-header.js'
import { firstToken } from './http-header.js'
import { HttpLineReader, type LineSink } from './http-line-reader.js'
import { ExpectBody, HttpMessage, type MessageContext, type MessageEvents, type MessageLimits } from './http-message.js'
import { NO_VERSION, parseReplyLine, parseRequestLine, sameVersion, versionString, type HttpVersion } from './http-start-line.js'
import { HttpTransactions, textValue, type TransactionConfig } from './http-transactions.js'

export interface HttpAnalyzerConfig extends MessageLimits, TransactionConfig {
  maxLineBytes: number
}

export const DEFAULT_HTTP_CONFIG: HttpAnalyzerConfig = Object.freeze({
  maxLineBytes: 16 * 1024,
  maxHeaders: 256,
  maxHeaderBytes: 16 * 1024,
  maxInflateInput: 1024 * 1024,
  maxPending: 100,
  capturePassword: false,
})

const enum ReqState { Line, Message, Nothing }
const enum RepState { Line, Message, Nothing, Http09 }
const MAX_UNANSWERED = 64
const MAX_OBSERVED = 16
/** Kinds of observed values (firstTime). */
const OBS_NAME = 0
const OBS_CLIENT = 1
const OBS_SERVER = 2

export class HttpAnalyzer implements AppAnalyzer, MessageContext, MessageEvents {
  private readonly readers: [HttpLineReader, HttpLineReader]
  private readonly tx: HttpTransactions
  private reqState = ReqState.Line
  private repState = RepState.Line
  private request: HttpMessage | undefined
  private reply: HttpMessage | undefined
  private requestVersion: HttpVersion = NO_VERSION
  private replyVersion: HttpVersion = NO_VERSION
  private replyCode = 0
  private unanswered: string[] = []
  private keepAlive = false
  private connClose = false
  private numRequests = 0
  private connectRequest = false
  private upgradeConnection = false
  private upgradeProtocol = ''
  /** Analysis is over for both directions (tunnel, upgrade). */
  private over = false
  private requestOngoing = false
  /** Bytes ignored because the connection was partial (no start seen). */
  partialBytes = 0
  private replyOngoing = false
  private tunnelHanded = false
  private confirmed = false
  private ts = 0
  /** Observations already reported (made on the first one). */
  private observed: string[] | undefined
  /** The kind (OBS_*) of each observed value. */
  private observedKinds: number[] | undefined
  private readonly sinks: [LineSink, LineSink]

  constructor(private readonly conn: AppConnInfo, private readonly out: AppOutput, private readonly cfg: HttpAnalyzerConfig = DEFAULT_HTTP_CONFIG) {
    this.readers = [new HttpLineReader(cfg.maxLineBytes), new HttpLineReader(cfg.maxLineBytes)]
    this.tx = new HttpTransactions(conn, cfg, out)
    // One small object per direction, not an object and two closures (each carried into old
    // space by every HTTP connection that lives past a young-generation cycle).
    this.sinks = [new RequestSink(this), new ReplySink(this)]
  }

  /** @internal The originator's line reader output (RequestSink). */
  requestSinkLine(line: Buffer, truncated: boolean): void { this.requestLine(line, truncated) }
  /** @internal */
  requestSinkPlain(data: Buffer): void { this.request?.plain(data) }
  /** @internal The responder's line reader output (ReplySink). */
  replySinkLine(line: Buffer, truncated: boolean): void { this.replyLine(line, truncated) }
  /** @internal */
  replySinkPlain(data: Buffer): void { this.replyPlain(data) }

  deliver(isOrig: boolean, data: Buffer, ts: number): void {
    this.ts = ts > 0 ? ts : this.ts > 0 ? this.ts : this.conn.ts
    // HTTP_Analyzer::DeliverStream: nothing is parsed while the TCP connection is partial.
    if (this.conn.partial === true) { this.partialBytes += data.length; return }
    if (this.over) { this.tunnel(isOrig, data); return }
    if (!isOrig && this.repState === RepState.Http09) { this.http09Data(data); return }
    const r = this.readers[isOrig ? 0 : 1]
    r.feed(data, this.sinks[isOrig ? 0 : 1])
    // Header lines are kept as views while the chunk lasts; a field still open is copied now.
    // Only the current messages can hold one (a message is dropped only after finish()).
    this.request?.settle()
    this.reply?.settle()
  }

  gap(isOrig: boolean, len: number): void {
    if (this.over) return
    const msg = isOrig ? this.request : this.reply
    const r = this.readers[isOrig ? 0 : 1]
    if (msg && !msg.finished && msg.gap(len)) return
    this.out.anomaly('HTTP_content_gap')
    r.reset()
    r.stopped = true
    if (isOrig) {
      this.requestMade(true)
      this.replyMade(true)
    } else this.replyMade(true)
  }

  finish(ts: number): void {
    if (ts > 0) this.ts = ts
    // EndpointEOF: a pending unterminated line is still delivered.
    if (!this.over) {
      this.readers[0].flush(this.sinks[0])
      if (this.repState !== RepState.Http09) this.readers[1].flush(this.sinks[1])
    }
    this.requestMade(true)
    this.replyMade(true)
    this.tx.finalize()
  }

  /** No message under way, no partial line, no transaction unlogged: finish() would write nothing. */
  idle(): boolean {
    return !this.requestOngoing && !this.replyOngoing && this.repState !== RepState.Http09 &&
      this.readers[0].idle && this.readers[1].idle && this.tx.idle()
  }

  // MessageContext
  chunkedAllowed(isOrig: boolean): boolean {
    const v = isOrig ? this.requestVersion : this.replyVersion
    return v.major === 1 && v.minor === 1
  }

  connectionClose(): boolean { return this.connClose }

  // MessageEvents
  header(isOrig: boolean, h: HttpHeader): void {
    if (isOrig && h.upper === 'CONNECTION' && firstToken(h.value) === 'keep-alive') this.keepAlive = true
    if (!isOrig && h.upper === 'CONNECTION') {
      const t = firstToken(h.value)
      if (t === 'close') this.connClose = true
      else if (t === 'upgrade') this.upgradeConnection = true
    }
    if (!isOrig && h.upper === 'UPGRADE') this.upgradeProtocol = firstToken(h.value)
    this.tx.header(isOrig, h, this.ts)
    if (isOrig && h.upper === 'HOST') {
      const host = hostName(h.value)
      if (host && this.firstTime(OBS_NAME, host)) this.out.observe({ ts: this.ts, ip: this.conn.respH, name: host, nameSource: 'http_host' })
    } else if (isOrig && h.upper === 'USER-AGENT') {
      const ua = textValue(h.value)
      if (typeof ua === 'string' && ua !== '' && this.firstTime(OBS_CLIENT, ua)) this.out.observe({ ts: this.ts, ip: this.conn.origH, software: ua, softwareRole: 'client' })
    } else if (!isOrig && h.upper === 'SERVER') {
      const sv = textValue(h.value)
      if (typeof sv === 'string' && sv !== '' && this.firstTime(OBS_SERVER, sv)) {
        this.out.observe({
          ts: this.ts, ip: this.conn.respH, software: sv, softwareRole: 'server',
          service: { port: this.conn.respP, proto: 'tcp', name: 'http' },
        })
      }
    }
  }

  fileNew(isOrig: boolean, filename: Buffer | undefined): void { this.tx.fileNew(isOrig, filename) }
  fileMime(isOrig: boolean, mime: string): void { this.tx.fileMime(isOrig, mime) }
  weird(name: string): void { this.out.anomaly(name) }

  done(isOrig: boolean, bodyLength: number): void {
    this.tx.messageDone(isOrig, bodyLength, this.ts)
    if (isOrig) this.requestMade(false)
    else this.replyMade(false)
  }

  // --- originator side ---------------------------------------------------------------------

  private requestLine(line: Buffer, truncated: boolean): void {
    switch (this.reqState) {
      case ReqState.Message:
        this.request?.line(line, truncated)
        return
      case ReqState.Nothing:
        return
      case ReqState.Line:
        break
    }
    if (truncated) this.out.anomaly('HTTP_request_line_too_long')
    const weirds: string[] = []
    const req = parseRequestLine(line, weirds)
    for (const w of weirds) this.out.anomaly(w)
    if (typeof req === 'string') {
      this.out.anomaly(req)
      if (line.length === 0) { this.out.anomaly('empty_http_request'); return }
      this.out.violation('not a http request line')
      this.reqState = ReqState.Nothing
      this.readers[0].stopped = true
      return
    }
    ++this.numRequests
    if (!this.keepAlive && this.numRequests > 1) this.out.anomaly('unexpected_multiple_HTTP_requests')
    this.setVersion(true, req.version)
    this.reqState = ReqState.Message
    if (this.unanswered.length < MAX_UNANSWERED) this.unanswered.push(req.method.toString('latin1'))
    else this.out.anomaly('HTTP_too_many_unanswered_requests')
    if (!this.confirmed) { this.confirmed = true; this.out.confirm('http') }
    if (req.method.toString('latin1').toUpperCase() === 'CONNECT') this.connectRequest = true
    this.requestOngoing = true
    this.tx.request(req.method, req.unescapedUri, this.ts)
    this.request = this.newMessage(true, ExpectBody.Maybe)
    if (req.http09) this.repState = RepState.Http09
  }

  /** HTTP_Analyzer::RequestMade (re-entered from the message's own end, which is then a no-op). */
  private requestMade(interrupted: boolean): void {
    if (!this.requestOngoing) return
    this.requestOngoing = false
    const m = this.request
    this.request = undefined
    m?.finish(interrupted)
    this.reqState = interrupted ? ReqState.Nothing : ReqState.Line
  }

  // --- responder side ----------------------------------------------------------------------

  private replyLine(line: Buffer, truncated: boolean): void {
    switch (this.repState) {
      case RepState.Message: {
        const m = this.reply
        m?.line(line, truncated)
        if (this.connectRequest && m && !m.inHeader && line.length === 0) this.startTunnel()
        return
      }
      case RepState.Nothing:
      case RepState.Http09:
        return
      case RepState.Line:
        break
    }
    const rep = parseReplyLine(line)
    if (!rep) {
      if (line.length > 0) {
        this.out.anomaly('bad_HTTP_reply')
        this.out.violation('not a http reply line')
        this.repState = RepState.Nothing
        this.readers[1].stopped = true
      }
      return
    }
    if (this.unanswered.length > 0 && !this.confirmed) { this.confirmed = true; this.out.confirm('http') }
    this.setVersion(false, rep.version)
    this.replyCode = rep.code
    this.repState = RepState.Message
    if (this.connectRequest && rep.code !== 200) this.connectRequest = false
    this.replyOngoing = true
    this.tx.reply(versionString(this.replyVersion), rep.code, rep.reason ?? Buffer.from('<empty>'), this.ts)
    this.reply = this.newMessage(false, this.expectReplyBody())
  }

  private replyPlain(data: Buffer): void {
    this.reply?.plain(data)
  }

  /** HTTP_Analyzer::ReplyMade (re-entered from the message's own end, which is then a no-op). */
  private replyMade(interrupted: boolean): void {
    if (!this.replyOngoing) return
    this.replyOngoing = false
    const m = this.reply
    this.reply = undefined
    m?.finish(interrupted)
    if ((this.replyCode < 100 || this.replyCode >= 200) && this.unanswered.length > 0) this.unanswered.shift()
    const upgraded = this.replyCode === 101 && this.unanswered.length === 1 && this.upgradeConnection && this.upgradeProtocol !== ''
    this.replyCode = 0
    this.upgradeConnection = false
    this.upgradeProtocol = ''
    if (upgraded) { this.stopAnalysis(); this.out.anomaly('HTTP_connection_upgraded') }
    this.repState = interrupted || upgraded ? RepState.Nothing : RepState.Line
  }

  /** HTTP/0.9: everything from the server is the body of one reply. */
  private http09Data(data: Buffer): void {
    if (!this.reply) {
      this.setVersion(false, { major: 0, minor: 9 })
      if (this.unanswered.length > 0) {
        if (!this.confirmed) { this.confirmed = true; this.out.confirm('http') }
        this.unanswered.shift()
      }
      this.connClose = true
      this.replyOngoing = true
      this.tx.reply(versionString(this.replyVersion), 0, Buffer.from('<empty>'), this.ts)
      this.reply = this.newMessage(false, ExpectBody.Yes)
      this.reply.line(Buffer.alloc(0), false)
    }
    this.reply.plain(data)
  }

  private expectReplyBody(): ExpectBody {
    const method = this.unanswered[0]
    if (method !== undefined && method.toUpperCase() === 'HEAD') return ExpectBody.No
    const c = this.replyCode
    if ((c >= 100 && c < 200) || c === 204 || c === 304) return ExpectBody.No
    return ExpectBody.Yes
  }

  // --- tunnels -------------------------------------------------------------------------------

  /** CONNECT answered with 200: the rest of the connection is the tunnel (Zeek hands it to PIA). */
  private startTunnel(): void {
    this.stopAnalysis()
    this.out.anomaly('HTTP_CONNECT_tunnel')
  }

  private stopAnalysis(): void {
    this.over = true
    this.readers[0].stopped = true
    this.readers[1].stopped = true
  }

  /** After CONNECT 200: a TLS client hello from the client hands the stream to the TLS analyzer. */
  private tunnel(isOrig: boolean, data: Buffer): void {
    if (this.tunnelHanded || !this.connectRequest || !isOrig || data.length < 3) return
    this.tunnelHanded = true
    if (data[0] === 0x16 && data[1] === 0x03) this.out.upgrade('ssl')
  }

  // --- helpers -------------------------------------------------------------------------------

  private newMessage(isOrig: boolean, expect: ExpectBody): HttpMessage {
    return new HttpMessage(isOrig, expect, this.readers[isOrig ? 0 : 1], this, this, this.cfg)
  }

  private setVersion(isOrig: boolean, v: HttpVersion): void {
    const cur = isOrig ? this.requestVersion : this.replyVersion
    if (!sameVersion(cur, NO_VERSION) && !sameVersion(cur, v)) this.out.anomaly('HTTP_version_mismatch')
    if (isOrig) this.requestVersion = v
    else this.replyVersion = v
    if (v.major > 1 || (v.major === 1 && v.minor > 0)) this.keepAlive = true
  }

  /**
   * True the first time `key` is seen on this connection (at most MAX_OBSERVED are kept).
   * A short array, not a Set: a connection has a few keys, and a Set per connection was
   * heavier state to carry through young-generation collections. The observation object is
   * only made when this says yes.
   */
  /**
   * The first time this (kind, value) is seen on the connection, among at most MAX_OBSERVED.
   * Kind and value are kept side by side (was one "kind:value" string per header, built and
   * compared as a new cons string on every request of a keep-alive connection).
   */
  private firstTime(kind: number, value: string): boolean {
    const seen = (this.observed ??= [])
    const kinds = (this.observedKinds ??= [])
    if (seen.length >= MAX_OBSERVED) return false
    for (let i = 0; i < seen.length; i++) if (kinds[i] === kind && seen[i] === value) return false
    seen.push(value)
    kinds.push(kind)
    return true
  }
}

/** The host name of a Host header: without port, brackets or trailing dot; undefined if not a name. */
export function hostName(value: Buffer): string | undefined {
  let s = value.toString('latin1').trim().toLowerCase()
  if (s.startsWith('[')) return undefined // IPv6 literal
  s = s.replace(/:\d*$/, '').replace(/\.$/, '')
  if (s === '' || !/^[a-z0-9_.-]+$/.test(s) || /^\d+\.\d+\.\d+\.\d+$/.test(s)) return undefined
  return s
}

/** The originator's LineSink: forwards to its analyzer. */
class RequestSink implements LineSink {
  constructor(private readonly a: HttpAnalyzer) {}
  line(line: Buffer, truncated: boolean): void { this.a.requestSinkLine(line, truncated) }
  plain(data: Buffer): void { this.a.requestSinkPlain(data) }
}

/** The responder's LineSink: forwards to its analyzer. */
class ReplySink implements LineSink {
  constructor(private readonly a: HttpAnalyzer) {}
  line(line: Buffer, truncated: boolean): void { this.a.replySinkLine(line, truncated) }
  plain(data: Buffer): void { this.a.replySinkPlain(data) }
}
