/** http.log columns in Zeek's order and types (Zeek 9.1 base/protocols/http/main.zeek + entities.zeek). */
import type { AppLogSpec } from '../app-analyzer.js'
import type { ZeekField, ZeekType } from '../../output/zeek-ascii-writer.js'

const f = (name: string, type: ZeekType): ZeekField => ({ name, type })

export const HTTP_LOG: AppLogSpec = Object.freeze({
  path: 'http',
  fields: Object.freeze([
    f('ts', 'time'), f('uid', 'string'), f('id.orig_h', 'addr'), f('id.orig_p', 'port'), f('id.resp_h', 'addr'), f('id.resp_p', 'port'),
    f('trans_depth', 'count'), f('method', 'string'), f('host', 'string'), f('uri', 'string'), f('referrer', 'string'),
    f('version', 'string'), f('user_agent', 'string'), f('origin', 'string'), f('request_body_len', 'count'),
    f('response_body_len', 'count'), f('status_code', 'count'), f('status_msg', 'string'), f('info_code', 'count'),
    f('info_msg', 'string'), f('tags', 'set[enum]'), f('username', 'string'), f('password', 'string'), f('proxied', 'set[string]'),
    f('orig_fuids', 'vector[string]'), f('orig_filenames', 'vector[string]'), f('orig_mime_types', 'vector[string]'),
    f('resp_fuids', 'vector[string]'), f('resp_filenames', 'vector[string]'), f('resp_mime_types', 'vector[string]'),
  ]),
})
