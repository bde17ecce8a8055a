/**
 * Registration of the HTTP analyzer: Zeek's HTTP ports (main.zeek `ports`) and its DPD
 * signatures (base/protocols/http/dpd.sig): the responder's first bytes are "HTTP/<digit>"
 * (Zeek also requires the originator to have started with GET/HEAD/POST; with one direction
 * per call, the originator side is checked by the analyzer's request-line parser instead).
 */
import type { AppAnalyzerFactory, AppConnInfo, AppOutput } from '../app-analyzer.js'
import { DEFAULT_HTTP_CONFIG, HttpAnalyzer, type HttpAnalyzerConfig } from './http-analyzer.js'

const SERVER_RE = /^HTTP\/[0-9]/

/** dpd_http_server: the responder starts with "HTTP/<digit>". */
export function detectHttp(isOrig: boolean, first: Buffer): boolean {
  if (isOrig || first.length < 6 || first[0] !== 0x48) return false // 'H'
  return SERVER_RE.test(first.toString('latin1', 0, Math.min(first.length, 8)))
}

export function createHttpAnalyzerFactory(cfg: Partial<HttpAnalyzerConfig> = {}): AppAnalyzerFactory {
  const full: HttpAnalyzerConfig = Object.freeze({ ...DEFAULT_HTTP_CONFIG, ...cfg })
  const factory: AppAnalyzerFactory = {
    name: 'http',
    transports: ['tcp'] as const,
    ports: [80, 81, 631, 1080, 3128, 8000, 8080, 8888],
    detect: detectHttp,
    // detectHttp looks at the first 8 bytes at most.
    detectSettled: (_isOrig, first) => first.length >= 8,
    create: (conn: AppConnInfo, out: AppOutput) => new HttpAnalyzer(conn, out, full),
  }
  return Object.freeze(factory)
}

export const HTTP_ANALYZER: AppAnalyzerFactory = createHttpAnalyzerFactory()
