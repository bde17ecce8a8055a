/**
 * One HTTP attempt per call: POST the gzipped batch to the collector's ingest route over
 * a keep-alive undici Pool (TLS with a pinned CA and an optional client certificate), and
 * classify the answer. No retries here (retrying-transport.ts wraps this).
 */
import { readFileSync } from 'node:fs'
import { Pool } from 'undici'
import { Ack, INGEST_PATH, PROTOBUF_CONTENT_TYPE, PROTOCOL_VERSION, SENT_AT_HEADER } from '../../protocol/index.js'
import { Counters } from '../util/counters.js'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import { isCredentialRefusal, isRetryableStatus, parseRetryAfter } from './retry-policy.js'
import type { BatchRequest, BatchTransport, SendResult } from './transport.js'

export interface TlsFiles {
  /** PEM file of the CA(s) the collector's certificate must chain to (pinned: system CAs are not used). */
  caFile?: string
  /** Client certificate and key (PEM) for mutual TLS. */
  certFile?: string
  keyFile?: string
}

export interface HttpTransportConfig extends TlsFiles {
  /** Collector base URL, e.g. https://collector.example:8270 */
  url: string
  connections: number
  requestTimeoutMs: number
  keepAliveTimeoutMs: number
  /** Value of the Authorization header. */
  authorization: string
  userAgent: string
}

export type HttpTransportCounter =
  | 'transport_requests_total' | 'transport_ok_total' | 'transport_network_errors_total'
  | 'transport_retryable_status_total' | 'transport_rejected_total' | 'transport_credential_refused_total' | 'transport_bad_ack_total' | 'transport_bytes_sent_total'

/** undici connect options (TLS) from the configured files; throws a clear error when one is unreadable. */
export function tlsConnectOptions(t: TlsFiles): Record<string, unknown> {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new AgentError(AgentErrorCode.CONFIG_INVALID, `cannot read the ${what} file ${file}: ${(err as Error).message}`, { cause: err })
    }
  }
  const out: Record<string, unknown> = {}
  if (t.caFile) out.ca = read('CA', t.caFile)
  if (t.certFile || t.keyFile) {
    if (!t.certFile || !t.keyFile) throw new AgentError(AgentErrorCode.CONFIG_INVALID, 'mutual TLS needs both a client certificate file and its key file')
    out.cert = read('client certificate', t.certFile)
    out.key = read('client key', t.keyFile)
  }
  return out
}

export class HttpTransport implements BatchTransport {
  readonly counters = new Counters<HttpTransportCounter>()
  private readonly cfg: HttpTransportConfig
  private pool: Pool | undefined
  private readonly origin: string
  private readonly path: string

  constructor(cfg: HttpTransportConfig) {
    this.cfg = cfg
    const u = new URL(cfg.url)
    this.origin = u.origin
    this.path = `${u.pathname.replace(/\/+$/, '')}${INGEST_PATH}`
  }

  start(): void {
    this.pool = new Pool(this.origin, {
      connections: this.cfg.connections,
      keepAliveTimeout: this.cfg.keepAliveTimeoutMs,
      headersTimeout: this.cfg.requestTimeoutMs,
      bodyTimeout: this.cfg.requestTimeoutMs,
      connect: { ...tlsConnectOptions(this.cfg), timeout: this.cfg.requestTimeoutMs },
    })
  }

  async stop(): Promise<void> {
    const p = this.pool
    this.pool = undefined
    await p?.destroy()
  }

  async send(req: BatchRequest, signal?: AbortSignal): Promise<SendResult> {
    const pool = this.pool
    if (!pool) return { kind: 'retryable', reason: 'transport stopped' }
    this.counters.inc('transport_requests_total')
    let status: number
    let headers: Record<string, string | string[] | undefined>
    let body: Buffer
    try {
      const res = await pool.request({
        path: this.path,
        method: 'POST',
        headers: {
          'content-type': PROTOBUF_CONTENT_TYPE,
          'content-encoding': 'gzip',
          'authorization': this.cfg.authorization,
          'user-agent': this.cfg.userAgent,
          'accept': PROTOBUF_CONTENT_TYPE,
          [SENT_AT_HEADER]: String(Date.now() * 1000),
        },
        body: req.body,
        ...(signal ? { signal } : {}),
      })
      status = res.statusCode
      headers = res.headers
      body = Buffer.from(await res.body.arrayBuffer())
    } catch (err) {
      this.counters.inc('transport_network_errors_total')
      const e = err as NodeJS.ErrnoException
      return { kind: 'retryable', reason: `${e.code ?? e.name}: ${e.message}` }
    }
    this.counters.inc('transport_bytes_sent_total', req.body.length)
    if (status >= 200 && status < 300) {
      let ack: Ack
      try {
        ack = Ack.decode(body)
      } catch (err) {
        this.counters.inc('transport_bad_ack_total')
        return { kind: 'retryable', status, reason: `unreadable ack: ${(err as Error).message}` }
      }
      if (ack.epoch !== req.epoch || ack.seq !== req.seq) {
        this.counters.inc('transport_bad_ack_total')
        return { kind: 'retryable', status, reason: `ack for epoch ${ack.epoch} seq ${ack.seq}, expected ${req.epoch}/${req.seq}` }
      }
      this.counters.inc('transport_ok_total')
      return { kind: 'ok', status, ack }
    }
    const { text, code } = errorInfo(body)
    if (isRetryableStatus(status)) {
      this.counters.inc('transport_retryable_status_total')
      const ra = parseRetryAfter(headers['retry-after'], Date.now())
      return ra === undefined ? { kind: 'retryable', status, reason: `HTTP ${status}${text}` } : { kind: 'retryable', status, reason: `HTTP ${status}${text}`, retryAfterMs: ra }
    }
    if (isCredentialRefusal(status, code)) {
      this.counters.inc('transport_credential_refused_total')
      return { kind: 'refused', status, reason: `HTTP ${status}${text}` }
    }
    this.counters.inc('transport_rejected_total')
    const rejected: SendResult = { kind: 'rejected', status, reason: `HTTP ${status}${text} (agent speaks protocol version ${PROTOCOL_VERSION})` }
    return code !== undefined ? { ...rejected, code } : rejected
  }
}

/**
 * A short, printable excerpt of an error body (JSON `message`/`error` when present) and the
 * collector's error `code` when the body is its JSON error.
 */
function errorInfo(body: Buffer): { text: string; code: string | undefined } {
  if (body.length === 0) return { text: '', code: undefined }
  const s = body.subarray(0, 2048).toString('utf8')
  try {
    const o = JSON.parse(s) as Record<string, unknown>
    const code = typeof o.code === 'string' ? o.code : undefined
    const m = o.message ?? o.error
    if (typeof m === 'string') return { text: `: ${m}${code !== undefined ? ` (${code})` : ''}`, code }
    return { text: `: ${s.replace(/\s+/g, ' ').slice(0, 200)}`, code }
  } catch { /* not JSON */ }
  return { text: `: ${s.replace(/\s+/g, ' ').slice(0, 200)}`, code: undefined }
}
