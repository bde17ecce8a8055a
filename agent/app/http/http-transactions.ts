/**
 * The script layer of Zeek's HTTP logging (base/protocols/http/main.zeek + entities.zeek):
 * request/reply pairing for pipelining (pending table, current_request, current_response,
 * trans_depth), the fields each header fills, 1xx handling, body lengths, file ids, names and
 * MIME types, and the flush of unfinished pairs when the connection goes away.
 *
 * Bound: at most `maxPending` unanswered requests (Zeek's HTTP::max_pending_requests = 100):
 * beyond it the pending ones are logged and dropped (weird HTTP_excessive_pipelining).
 */
import type { AppConnInfo } from '../app-analyzer.js'
import { basicAuth, type HttpHeader } from './http-header.js'

/** One http.log row in the making (Zeek's HTTP::Info). */
export interface HttpInfo {
  ts: number
  trans_depth: number
  method?: Buffer
  /** Header values as their log text (textValue) when they come: no copy of the bytes kept. */
  host?: string | Uint8Array
  uri?: Buffer
  referrer?: string | Uint8Array
  version?: string
  user_agent?: string | Uint8Array
  origin?: string | Uint8Array
  request_body_len: number
  response_body_len: number
  status_code?: number
  status_msg?: Buffer
  info_code?: number
  info_msg?: Buffer
  username?: Buffer
  password?: Buffer
  proxied?: Buffer[]
  orig_fuids?: string[]
  orig_filenames?: Buffer[]
  orig_mime_types?: string[]
  resp_fuids?: string[]
  resp_filenames?: Buffer[]
  resp_mime_types?: string[]
}

/** HTTP::proxy_headers. */
const PROXY_HEADERS = new Set(['FORWARDED', 'X-FORWARDED-FOR', 'X-FORWARDED-FROM', 'CLIENT-IP', 'VIA', 'XROXY-CONNECTION', 'PROXY-CONNECTION'])
/** HTTP::http_methods; others are a weird. */
const METHODS = new Set(['GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE', 'CONNECT', 'PROPFIND', 'PROPPATCH', 'MKCOL',
  'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'POLL', 'REPORT', 'SUBSCRIBE', 'BMOVE', 'SEARCH'])
/** HTTP::max_files_orig / max_files_resp. */
const MAX_FILES = 15

export interface TransactionConfig {
  maxPending: number
  /** HTTP::default_capture_password (Zeek default F: the password column stays unset). */
  capturePassword: boolean
}

const inRange = (c: number | undefined, lo: number, hi: number): boolean => c !== undefined && c >= lo && c <= hi

/** Valid UTF-8 as a string, anything else as bytes (the Zeek writer escapes them). */
export function textValue(b: Buffer | undefined): string | Uint8Array | undefined {
  if (b === undefined) return undefined
  // Plain ASCII (the usual case) is valid UTF-8 as it is.
  let ascii = true
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) { ascii = false; break }
  if (ascii) return b.toString('latin1')
  const s = b.toString('utf8')
  return Buffer.byteLength(s, 'utf8') === b.length && !s.includes('\ufffd') ? s : new Uint8Array(b)
}

const FUID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'
/** "F" and the 17 characters of the file id being made. */
const fuidCodes: number[] = [0x46, ...new Array<number>(17).fill(0)]
/** UTF-16 codes of the text a file id is derived from (uid, '/', counter: well under 64; longer ones get their own array). */
const fuidText = new Uint16Array(64)

/** Where a connection's transactions report (an AppOutput). */
export interface TransactionOutput {
  log(path: string, row: Record<string, unknown>): void
  anomaly(name: string): void
}

/** The tags column: always empty (shared, never changed). */
const NO_TAGS: readonly string[] = Object.freeze([])

export class HttpTransactions {
  private readonly pending = new Map<number, HttpInfo>()
  private currentRequest = 0
  private currentResponse = 0
  private transDepth = 0
  private http: HttpInfo | undefined
  private fuidSeq = 0

  /** `out` gets the http.log rows and the weirds (the analyzer's AppOutput: no closures per connection). */
  constructor(
    private readonly conn: AppConnInfo,
    private readonly cfg: TransactionConfig,
    private readonly out: TransactionOutput,
  ) {}

  private write(row: Record<string, unknown>): void {
    this.out.log('http', row)
  }

  private weird(name: string): void {
    this.out.anomaly(name)
  }

  private newInfo(ts: number): HttpInfo {
    return { ts, trans_depth: ++this.transDepth, request_body_len: 0, response_body_len: 0 }
  }

  private setState(isOrig: boolean, ts: number): HttpInfo {
    const k = isOrig ? this.currentRequest : this.currentResponse
    let info = this.pending.get(k)
    if (!info) { info = this.newInfo(ts); this.pending.set(k, info) }
    this.http = info
    return info
  }

  request(method: Buffer, unescapedUri: Buffer, ts: number): void {
    if (this.currentRequest < this.currentResponse) {
      this.weird('HTTP_response_before_request')
      this.currentRequest = this.currentResponse
    }
    if (this.cfg.maxPending > 0 && this.pending.size > this.cfg.maxPending) {
      this.weird('HTTP_excessive_pipelining')
      if (this.currentResponse === 0) ++this.currentResponse
      while (this.currentResponse < this.currentRequest) {
        const info = this.pending.get(this.currentResponse)
        if (info) { this.log(info); this.pending.delete(this.currentResponse) }
        ++this.currentResponse
      }
    }
    ++this.currentRequest
    const info = this.setState(true, ts)
    info.method = method
    info.uri = unescapedUri
    if (!METHODS.has(method.toString('latin1'))) this.weird('unknown_HTTP_method')
  }

  reply(version: string, code: number, reason: Buffer, ts: number): void {
    const cur = this.pending.get(this.currentResponse)
    if (!cur || (cur.status_code !== undefined && !inRange(cur.status_code, 100, 199))) ++this.currentResponse
    const info = this.setState(false, ts)
    info.status_code = code
    info.status_msg = reason
    info.version = version
    if (inRange(code, 100, 199)) { info.info_code = code; info.info_msg = reason }
  }

  header(isOrig: boolean, h: HttpHeader, ts: number): void {
    const info = this.setState(isOrig, ts)
    if (!isOrig) return
    // Values kept until the row is written are made into their log text now (textValue makes
    // a string or a copy): h.value may be a view into the packet.
    switch (h.upper) {
      case 'REFERER': info.referrer = textValue(h.value); return
      case 'HOST': info.host = textValue(h.value); return
      case 'ORIGIN': info.origin = textValue(h.value); return
      case 'USER-AGENT': info.user_agent = textValue(h.value); return
      default: break
    }
    if (PROXY_HEADERS.has(h.upper)) {
      const v = Buffer.concat([Buffer.from(`${h.upper} -> `), h.value])
      info.proxied ??= []
      if (!info.proxied.some((p) => p.equals(v))) info.proxied.push(v)
    } else if (h.upper === 'AUTHORIZATION' || h.upper === 'PROXY-AUTHORIZATION') {
      const a = basicAuth(h.value)
      if (a) {
        info.username = a.username
        if (this.cfg.capturePassword) info.password = a.password
      }
    }
  }

  messageDone(isOrig: boolean, bodyLength: number, ts: number): void {
    const info = this.setState(isOrig, ts)
    if (isOrig) info.request_body_len = bodyLength
    else info.response_body_len = bodyLength
    if (!isOrig && !inRange(info.status_code, 100, 199)) {
      this.log(info)
      this.pending.delete(this.currentResponse)
    }
  }

  /** file_over_new_connection: a new file (body entity) in the current transaction. */
  fileNew(isOrig: boolean, filename: Buffer | undefined): string | undefined {
    const info = this.http
    if (!info) return undefined
    const fuid = this.makeFuid()
    const ids = isOrig ? (info.orig_fuids ??= []) : (info.resp_fuids ??= [])
    if (ids.length >= MAX_FILES) return fuid
    ids.push(fuid)
    if (filename) (isOrig ? (info.orig_filenames ??= []) : (info.resp_filenames ??= [])).push(filename)
    return fuid
  }

  /** file_sniff with a MIME type. */
  fileMime(isOrig: boolean, mime: string): void {
    const info = this.http
    if (!info) return
    const list = isOrig ? (info.orig_mime_types ??= []) : (info.resp_mime_types ??= [])
    if (list.length < MAX_FILES) list.push(mime)
  }

  /** finalize() would write nothing. */
  idle(): boolean {
    for (const k of this.pending.keys()) if (k !== 0) return false
    return true
  }

  /** finalize_http: every pending pair but index 0 is written. */
  finalize(): void {
    for (const [k, info] of this.pending) if (k !== 0) this.log(info)
    this.pending.clear()
  }

  /** File ids are random in Zeek; ours are derived from the connection uid and a counter. */
  private makeFuid(): string {
    let h = 2166136261 >>> 0
    const s = `${this.conn.uid}/${++this.fuidSeq}`
    // The text's codes read once (17 rounds of charCodeAt on a cons string before).
    const n = s.length
    const codes = n <= fuidText.length ? fuidText : new Uint16Array(n)
    for (let i = 0; i < n; i++) codes[i] = s.charCodeAt(i)
    for (let round = 0; round < 17; round++) {
      for (let i = 0; i < n; i++) h = Math.imul(h ^ codes[i]!, 16777619) >>> 0
      h = Math.imul(h ^ round, 16777619) >>> 0
      fuidCodes[round + 1] = FUID_ALPHABET.charCodeAt(h % 62)
    }
    // One string from the 18 codes, not 17 concatenations.
    return String.fromCharCode.apply(null, fuidCodes)
  }

  private log(info: HttpInfo): void {
    const c = this.conn
    this.write({
      ts: info.ts,
      uid: c.uid,
      'id.orig_h': c.origH,
      'id.orig_p': c.origP,
      'id.resp_h': c.respH,
      'id.resp_p': c.respP,
      trans_depth: info.trans_depth,
      method: textValue(info.method),
      host: info.host,
      uri: textValue(info.uri),
      referrer: info.referrer,
      version: info.version,
      user_agent: info.user_agent,
      origin: info.origin,
      request_body_len: info.request_body_len,
      response_body_len: info.response_body_len,
      status_code: info.status_code,
      status_msg: textValue(info.status_msg),
      info_code: info.info_code,
      info_msg: textValue(info.info_msg),
      tags: NO_TAGS,
      username: textValue(info.username),
      password: textValue(info.password),
      proxied: info.proxied?.map((p) => textValue(p)),
      orig_fuids: info.orig_fuids,
      orig_filenames: info.orig_filenames?.map((p) => textValue(p)),
      orig_mime_types: info.orig_mime_types,
      resp_fuids: info.resp_fuids,
      resp_filenames: info.resp_filenames?.map((p) => textValue(p)),
      resp_mime_types: info.resp_mime_types,
    })
  }
}
