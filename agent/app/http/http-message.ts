/**
 * One HTTP message (request or reply) of one direction, after its first line: header fields
 * (with folding), then the body framed as Zeek's HTTP_Entity frames it (HTTP.cc):
 * Transfer-Encoding chunked (only for HTTP/1.1), Content-Length, no body (HEAD, 1xx, 204, 304,
 * or a request without length), until the connection closes (reply with "Connection: close"
 * or a compressed body without length, counted byte by byte), or, for a reply with neither,
 * line by line until the end (Zeek counts each line + 2 for its terminator).
 * Bodies with Content-Encoding gzip/deflate are counted and sniffed decompressed, as Zeek does.
 *
 * Bounds: `maxHeaders` fields per message (further ones are counted and ignored),
 * `maxHeaderBytes` per folded field, `maxInflateInput` compressed bytes kept for decompression
 * (beyond: counted compressed, anomaly), file sniffing keeps the first 4096 bytes.
 */
import { constants, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib'
import { contentType, firstToken, headerFilename, parseHeader, type HttpHeader } from './http-header.js'
import type { HttpLineReader } from './http-line-reader.js'
import { sniffMime, sniffMimeText, SNIFF_BYTES } from './mime-sniff.js'

export const enum ExpectBody { No, Maybe, Yes }

export interface MessageLimits {
  maxHeaders: number
  maxHeaderBytes: number
  maxInflateInput: number
}

/** What a message reports to its analyzer. */
export interface MessageEvents {
  header(isOrig: boolean, h: HttpHeader): void
  /** All header fields seen: the analyzer may adjust state (e.g. CONNECT tunnels). */
  fileNew(isOrig: boolean, filename: Buffer | undefined): void
  fileMime(isOrig: boolean, mime: string): void
  done(isOrig: boolean, bodyLength: number, interrupted: boolean): void
  weird(name: string): void
}

/** Analyzer-level facts a message needs to frame its body. */
export interface MessageContext {
  /** HTTP/1.1 exactly (chunked is only honoured then). */
  chunkedAllowed(isOrig: boolean): boolean
  /** The server said "Connection: close" (or HTTP/0.9). */
  connectionClose(): boolean
}

const enum Chunk { None, Before, Size, Data, Crlf, Trailer }
const enum Enc { Identity, Gzip, Deflate }

/** util::atoi_n: optional '-', then digits of `base` (the first must be one); stops at the first other byte. */
export function atoiN(s: string, base: number): number | undefined {
  let i = 0
  let neg = false
  if (s.length > 0 && s[0] === '-') { neg = true; i = 1 }
  let n = 0
  let digits = 0
  for (; i < s.length; i++) {
    const d = parseInt(s[i]!, base)
    if (Number.isNaN(d)) { if (digits > 0) break; return undefined }
    n = n * base + d
    digits++
  }
  if (digits === 0 && !neg) return undefined
  return neg ? -n : n
}

export class HttpMessage {
  inHeader = true
  finished = false
  bodyLength = 0
  headerCount = 0
  /**
   * The header field being assembled: its first line (owned copy) and, only when folded,
   * the continuation lines. (One array per message, emptied per field, reallocated its
   * store on every header line.)
   */
  private fieldFirst: Buffer | undefined
  /**
   * fieldFirst is still a view into the chunk being delivered: the field only ends at the next
   * line, which usually comes in the same chunk, so the copy is made only if the chunk ends
   * first (settle). Was a copy of every header line.
   */
  private fieldIsView = false
  private fieldMore: Buffer[] | undefined
  private fieldLen = 0
  private contentLength = -1
  private chunk = Chunk.None
  private expectData = 0
  private encoding = Enc.Identity
  private lineBody = false
  private filename: Buffer | undefined
  private fileStarted = false
  private sniffed = false
  /** The first body bytes as latin1 text, for sniffing (text, not buffer copies: sniffing reads text). */
  private bofText = ''
  private zipped: Buffer[] = []
  private zippedLen = 0

  constructor(
    readonly isOrig: boolean,
    private readonly expectBody: ExpectBody,
    private readonly reader: HttpLineReader,
    private readonly ctx: MessageContext,
    private readonly ev: MessageEvents,
    private readonly limits: MessageLimits,
  ) {}

  /** A line of this message (header, chunk size, chunk CRLF, trailer or line-mode body). */
  line(line: Buffer, truncated: boolean): void {
    if (this.finished) return
    if (this.inHeader) { this.headerLine(line, truncated); return }
    switch (this.chunk) {
      case Chunk.Size: {
        let size = atoiN(line.toString('latin1'), 16)
        if (size === undefined) { this.ev.weird('HTTP_bad_chunk_size'); size = 0 }
        if (size > 0) {
          this.chunk = Chunk.Data
          this.expectData = size
          this.reader.plainRemaining = size
        } else {
          this.chunk = Chunk.Trailer
          this.inHeader = true
        }
        return
      }
      case Chunk.Crlf:
        if (line.length > 0) this.ev.weird('inaccurate_chunk_size')
        this.chunk = Chunk.Size
        return
      default:
        break
    }
    if (this.lineBody) this.body(line, 2)
  }

  /** Raw body bytes (plain delivery). */
  plain(data: Buffer): void {
    if (this.finished) return
    if (this.chunk === Chunk.Data) {
      this.expectData -= data.length
      if (this.expectData <= 0) { this.reader.plainRemaining = 0; this.chunk = Chunk.Crlf }
      this.body(data, 0)
      return
    }
    if (this.contentLength >= 0) {
      this.body(data, 0)
      this.expectData -= data.length
      if (this.expectData <= 0) { this.reader.plainRemaining = 0; this.endOfData() }
      return
    }
    this.body(data, 0)
  }

  /**
   * `len` bytes of this direction were lost. True when they fall inside the body and were
   * skipped (counted in the body length, as Zeek's HTTP_Entity::Undelivered).
   */
  gap(len: number): boolean {
    if (this.finished || this.inHeader || this.bodyLength === 0) return false
    if (this.chunk !== Chunk.None) {
      if (this.chunk === Chunk.Data && this.expectData >= len) {
        this.bodyLength += len
        this.expectData -= len
        this.reader.plainRemaining = this.expectData
        if (this.expectData === 0) this.chunk = Chunk.Crlf
        this.sniffNow()
        return true
      }
      return false
    }
    if (this.contentLength >= 0 && this.expectData >= len) {
      this.bodyLength += len
      this.expectData -= len
      this.reader.plainRemaining = this.expectData
      this.sniffNow()
      if (this.expectData <= 0) this.endOfData()
      return true
    }
    return false
  }

  /** The message ends now (end of connection, gap, RST, next message). */
  finish(interrupted: boolean): void {
    if (this.finished) return
    if (this.inHeader && this.fieldLen > 0) this.flushField()
    this.endOfData(interrupted)
  }

  private headerLine(line: Buffer, truncated: boolean): void {
    if (truncated) this.ev.weird('HTTP_header_line_too_long')
    if (line.length === 0 || line[0] === 0) {
      this.flushField()
      this.inHeader = false
      this.allHeaders()
      return
    }
    if ((line[0] === 0x20 || line[0] === 0x09) && this.fieldLen > 0) {
      // Folded continuation: appended as it is (MIME_Multiline).
      if (this.fieldLen + line.length <= this.limits.maxHeaderBytes) {
        ;(this.fieldMore ??= []).push(Buffer.from(line))
        this.fieldLen += line.length
      } else this.ev.weird('HTTP_header_too_long')
      return
    }
    this.flushField()
    this.fieldFirst = line.length <= this.limits.maxHeaderBytes ? line : line.subarray(0, this.limits.maxHeaderBytes)
    this.fieldIsView = true
    this.fieldLen = Math.min(line.length, this.limits.maxHeaderBytes)
  }

  /**
   * The chunk handed to the line reader is done with: a header field still waiting for its
   * next line is copied now (the analyzer calls this after every chunk it feeds).
   */
  settle(): void {
    if (!this.fieldIsView) return
    this.fieldIsView = false
    if (this.fieldFirst !== undefined) this.fieldFirst = Buffer.from(this.fieldFirst)
  }

  private flushField(): void {
    if (this.fieldLen === 0) return
    // `raw` may be a view into the chunk being delivered (see fieldIsView): the header's value
    // is a view into it, so whoever keeps a value copies it (HttpTransactions.header).
    const more = this.fieldMore
    const raw = more === undefined ? this.fieldFirst! : Buffer.concat([this.fieldFirst!, ...more], this.fieldLen)
    this.fieldFirst = undefined
    this.fieldIsView = false
    this.fieldMore = undefined
    this.fieldLen = 0
    if (++this.headerCount > this.limits.maxHeaders) {
      if (this.headerCount === this.limits.maxHeaders + 1) this.ev.weird('HTTP_too_many_headers')
      return
    }
    const h = parseHeader(raw)
    if (!h) { this.ev.weird('HTTP_malformed_header'); return }
    this.submitHeader(h)
  }

  private submitHeader(h: HttpHeader): void {
    switch (h.upper) {
      case 'CONTENT-LENGTH': {
        const tok = firstToken(h.value)
        if (tok !== '') this.contentLength = atoiN(tok, 10) ?? 0
        break
      }
      case 'TRANSFER-ENCODING':
        if (firstToken(h.value) === 'chunked' && this.ctx.chunkedAllowed(this.isOrig)) this.chunk = Chunk.Before
        break
      case 'CONTENT-ENCODING': {
        const t = firstToken(h.value)
        if (t === 'gzip' || t === 'x-gzip') this.encoding = Enc.Gzip
        if (t === 'deflate') this.encoding = Enc.Deflate
        break
      }
      case 'CONTENT-TYPE':
        if (contentType(h.value).type === 'MULTIPART') this.ev.weird('HTTP_multipart_body_not_split')
        break
      default:
        break
    }
    const fn = headerFilename(h)
    if (fn) this.filename = fn
    this.ev.header(this.isOrig, h)
  }

  /** HTTP_Entity::SubmitAllHeaders: how the body is framed. */
  private allHeaders(): void {
    if (this.chunk === Chunk.Trailer) { this.chunk = Chunk.None; this.endOfData(); return }
    if (this.expectBody === ExpectBody.No) { this.endOfData(); return }
    if (this.chunk !== Chunk.None) { this.chunk = Chunk.Size; return }
    if (this.contentLength >= 0) {
      if (this.contentLength > 0) {
        this.expectData = this.contentLength
        this.reader.plainRemaining = this.contentLength
      } else this.endOfData()
      return
    }
    if (this.ctx.connectionClose() || this.encoding !== Enc.Identity) {
      this.reader.plainRemaining = Infinity
      return
    }
    if (this.expectBody !== ExpectBody.Yes) { this.endOfData(); return }
    this.lineBody = true
  }

  /** Body bytes: counted (+ `extra` for a line terminator) and fed to the file. */
  private body(data: Buffer, extra: number): void {
    if (this.encoding !== Enc.Identity) {
      if (this.zippedLen + data.length <= this.limits.maxInflateInput) {
        this.zipped.push(Buffer.from(data))
        this.zippedLen += data.length
      } else {
        if (this.zippedLen <= this.limits.maxInflateInput) this.ev.weird('HTTP_decompression_limit')
        this.zippedLen += data.length
        this.bodyLength += data.length
      }
      return
    }
    this.clear(data, extra)
  }

  /** Decoded body bytes (DeliverBodyClear). */
  private clear(data: Buffer, extra: number): void {
    if (data.length === 0 && extra === 0) return
    this.bodyLength += data.length + extra
    if (!this.fileStarted) {
      this.fileStarted = true
      this.ev.fileNew(this.isOrig, this.filename)
    }
    if (!this.sniffed) {
      const piece = extra ? Buffer.concat([data, Buffer.from('\r\n')]) : data
      const take = Math.min(piece.length, SNIFF_BYTES - this.bofText.length)
      if (take === SNIFF_BYTES) {
        // The first piece fills the sniff buffer by itself: sniff it in place, no copy.
        this.sniffed = true
        const mime = sniffMime(piece.subarray(0, take))
        if (mime !== undefined) this.ev.fileMime(this.isOrig, mime)
        return
      }
      if (take > 0) this.bofText += piece.toString('latin1', 0, take)
      if (this.bofText.length >= SNIFF_BYTES) this.sniffNow()
    }
  }

  private sniffNow(): void {
    if (this.sniffed || !this.fileStarted) return
    this.sniffed = true
    const mime = sniffMimeText(this.bofText)
    this.bofText = ''
    if (mime !== undefined) this.ev.fileMime(this.isOrig, mime)
  }

  private inflate(): void {
    const input = Buffer.concat(this.zipped)
    this.zipped = []
    const opts = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 64 * 1024 * 1024 }
    let out: Buffer | undefined
    try {
      out = this.encoding === Enc.Gzip ? gunzipSync(input, opts) : inflateSync(input, opts)
    } catch {
      if (this.encoding === Enc.Deflate) {
        try { out = inflateRawSync(input, opts) } catch { out = undefined }
      }
    }
    if (out === undefined) { this.ev.weird('HTTP_decompression_failed'); return }
    this.clear(out, 0)
  }

  private endOfData(interrupted = false): void {
    if (this.finished) return
    this.finished = true
    if (this.inHeader) { this.flushField(); this.inHeader = false }
    if (this.encoding !== Enc.Identity && this.zipped.length > 0) this.inflate()
    this.sniffNow()
    this.reader.plainRemaining = 0
    this.ev.done(this.isOrig, this.bodyLength, interrupted)
  }
}
