/**
 * One application-log row (what the analyzers hand to onAppLog: dns, http, ssl, x509, ssh,
 * dhcp, ftp…) → the telltale.v1.AppRecord the batch encoder takes. `zeekJson` is the row as
 * `replay --json` writes it (agent/output/zeek-json.ts); ts, uid, id.orig_h, id.resp_h and
 * id.resp_p are copied beside it for the collector to index (protocol/telltale/v1/app.proto).
 *
 * Pure and never throws. A copied field the row lacks or holds in an unexpected form is sent
 * empty (0, '', no address bytes). A row whose JSON is larger than APP_RECORD_MAX_JSON_BYTES,
 * or that JSON cannot render (a BigInt, a cycle: no analyzer produces one), is not sent: the
 * result says why and the batcher counts it (batcher_app_records_oversized_total,
 * batcher_app_records_unencodable_total). Truncating the JSON would make it invalid, and
 * cutting fields would ship a row that is not the one the log holds.
 */
import type { AppRecordProperties } from '../../protocol/index.js'
import { zeekJson } from '../output/zeek-json.js'
import { addressBytes } from './flow-encoding.js'

/** Largest zeek_json shipped (UTF-8 bytes): far above any real row, far below the collector's body limit. */
export const APP_RECORD_MAX_JSON_BYTES = 64 * 1024

export type AppRecordResult =
  | { ok: true; record: AppRecordProperties; tsUs: number }
  | { ok: false; reason: 'oversized' | 'unencodable' }

const EMPTY = new Uint8Array(0)
/** Largest |ts| in µs that is still an exact integer (year ~2255). */
const MAX_TS_US = Number.MAX_SAFE_INTEGER

function micros(ts: unknown): number {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return 0
  const us = Math.round(ts * 1e6)
  return Math.abs(us) <= MAX_TS_US ? us : 0
}

function address(v: unknown): Uint8Array {
  return typeof v === 'string' ? addressBytes(v) ?? EMPTY : EMPTY
}

function port(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffff ? v : 0
}

export function appRowToWire(log: string, row: Record<string, unknown>): AppRecordResult {
  let json: string
  try {
    json = zeekJson(row)
  } catch {
    return { ok: false, reason: 'unencodable' }
  }
  // Cheap bound first: a UTF-16 code unit is at most 3 UTF-8 bytes.
  if (json.length * 3 > APP_RECORD_MAX_JSON_BYTES && Buffer.byteLength(json, 'utf8') > APP_RECORD_MAX_JSON_BYTES) {
    return { ok: false, reason: 'oversized' }
  }
  const tsUs = micros(row.ts)
  return {
    ok: true,
    tsUs,
    record: {
      log,
      tsUs,
      uid: typeof row.uid === 'string' ? row.uid : '',
      origH: address(row['id.orig_h']),
      respH: address(row['id.resp_h']),
      respP: port(row['id.resp_p']),
      zeekJson: json,
    },
  }
}
