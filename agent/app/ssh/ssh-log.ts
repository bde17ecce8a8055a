/**
 * ssh.log columns: Zeek's (base/protocols/ssh/main.zeek, as Zeek 9.1 writes them, copied from
 * the corpus oracle's #fields/#types) followed by two extra columns of our own: `hassh` and
 * `hasshServer` (Salesforce HASSH fingerprints of the client's and the server's KEXINIT).
 */
import type { AppLogSpec } from '../app-analyzer.js'

export const SSH_LOG: AppLogSpec = Object.freeze({
  path: 'ssh',
  fields: Object.freeze([
    { name: 'ts', type: 'time' },
    { name: 'uid', type: 'string' },
    { name: 'id.orig_h', type: 'addr' },
    { name: 'id.orig_p', type: 'port' },
    { name: 'id.resp_h', type: 'addr' },
    { name: 'id.resp_p', type: 'port' },
    { name: 'version', type: 'count' },
    { name: 'auth_success', type: 'bool' },
    { name: 'auth_attempts', type: 'count' },
    { name: 'direction', type: 'enum' },
    { name: 'client', type: 'string' },
    { name: 'server', type: 'string' },
    { name: 'cipher_alg', type: 'string' },
    { name: 'mac_alg', type: 'string' },
    { name: 'compression_alg', type: 'string' },
    { name: 'kex_alg', type: 'string' },
    { name: 'host_key_alg', type: 'string' },
    { name: 'host_key_fingerprint', type: 'string' },
    { name: 'hassh', type: 'string' },
    { name: 'hasshServer', type: 'string' },
  ]),
}) as AppLogSpec
