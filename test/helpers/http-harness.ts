/** Test harness for the HTTP analyzer: a recording AppOutput and byte-feeding helpers. */
import type { AppConnInfo, AppOutput, HostObservation } from '../../agent/app/app-analyzer.js'
import { HttpAnalyzer, DEFAULT_HTTP_CONFIG, type HttpAnalyzerConfig } from '../../agent/app/http/index.js'

export interface Recorded {
  rows: Record<string, unknown>[]
  confirmed: string[]
  violations: string[]
  anomalies: string[]
  observations: HostObservation[]
  upgrades: string[]
}

export function makeConn(over: Partial<AppConnInfo> = {}): AppConnInfo {
  return { uid: 'CTest1', ts: 1000, origH: '10.0.0.1', origP: 40000, respH: '10.0.0.2', respP: 80, proto: 'tcp', ...over }
}

export function harness(cfg: Partial<HttpAnalyzerConfig> = {}, conn: AppConnInfo = makeConn()): { a: HttpAnalyzer; rec: Recorded } {
  const rec: Recorded = { rows: [], confirmed: [], violations: [], anomalies: [], observations: [], upgrades: [] }
  const out: AppOutput = {
    log: (path, row) => { if (path === 'http') rec.rows.push(row) },
    confirm: (s) => rec.confirmed.push(s),
    violation: (r) => rec.violations.push(r),
    anomaly: (n) => rec.anomalies.push(n),
    observe: (o) => rec.observations.push(o),
    upgrade: (n) => rec.upgrades.push(n),
    expect: () => {},
  }
  return { a: new HttpAnalyzer(conn, out, { ...DEFAULT_HTTP_CONFIG, ...cfg }), rec }
}

/** Feeds a text in chunks of `size` bytes (1 = byte by byte). */
export function feed(a: HttpAnalyzer, isOrig: boolean, data: string | Buffer, size = 1 << 30, ts = 1001): void {
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : data
  for (let i = 0; i < b.length; i += size) a.deliver(isOrig, b.subarray(i, i + size), ts)
}
