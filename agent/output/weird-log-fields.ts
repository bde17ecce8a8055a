/**
 * weird.log columns, as Zeek writes them (base/frameworks/notice/weird.zeek, Weird::Info):
 * ts uid id.orig_h id.orig_p id.resp_h id.resp_p name addl notice peer source.
 */
import type { WeirdRecord } from '../flow/conn-record.js'
import type { ZeekField } from './zeek-ascii-writer.js'

export const WEIRD_LOG_PATH = 'weird'

export const WEIRD_LOG_FIELDS: readonly ZeekField[] = Object.freeze([
  { name: 'ts', type: 'time' },
  { name: 'uid', type: 'string' },
  { name: 'id.orig_h', type: 'addr' },
  { name: 'id.orig_p', type: 'port' },
  { name: 'id.resp_h', type: 'addr' },
  { name: 'id.resp_p', type: 'port' },
  { name: 'name', type: 'string' },
  { name: 'addl', type: 'string' },
  { name: 'notice', type: 'bool' },
  { name: 'peer', type: 'string' },
  { name: 'source', type: 'string' },
] satisfies ZeekField[])

const opt = (s: string): string | undefined => (s === '' ? undefined : s)

/** Values in WEIRD_LOG_FIELDS order; '' addl / peer / source are unset ("-"), as in Zeek. */
export function weirdRecordToZeekRow(rec: WeirdRecord): unknown[] {
  return [rec.ts, rec.uid, rec.origH, rec.origP, rec.respH, rec.respP, rec.name, opt(rec.addl), rec.notice, opt(rec.peer), opt(rec.source)]
}

/** Zeek JSON-log style object; unset fields omitted. */
export function weirdRecordToJson(rec: WeirdRecord): Record<string, unknown> {
  const o: Record<string, unknown> = { ts: rec.ts }
  if (rec.uid !== undefined) o.uid = rec.uid
  if (rec.origH !== undefined) o['id.orig_h'] = rec.origH
  if (rec.origP !== undefined) o['id.orig_p'] = rec.origP
  if (rec.respH !== undefined) o['id.resp_h'] = rec.respH
  if (rec.respP !== undefined) o['id.resp_p'] = rec.respP
  o.name = rec.name
  if (rec.addl !== '') o.addl = rec.addl
  o.notice = rec.notice
  if (rec.peer !== '') o.peer = rec.peer
  if (rec.source !== '') o.source = rec.source
  return o
}
