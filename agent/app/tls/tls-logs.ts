/**
 * ssl.log and x509.log columns: Zeek's own (copied from Zeek 9.1's #fields/#types), then in
 * ssl.log the fingerprint columns the common Zeek JA3/JA4 packages append (ja3, ja3s, ja4, ja4s).
 */
import type { AppLogSpec } from '../app-analyzer.js'
import type { ZeekField, ZeekType } from '../../output/zeek-ascii-writer.js'

const cols = (names: string, types: string): ZeekField[] => {
  const n = names.split(' ')
  const t = types.split(' ')
  return n.map((name, i) => ({ name, type: t[i] as ZeekType }))
}

export const SSL_LOG: AppLogSpec = {
  path: 'ssl',
  fields: cols(
    'ts uid id.orig_h id.orig_p id.resp_h id.resp_p version cipher curve server_name resumed last_alert next_protocol established ssl_history cert_chain_fps client_cert_chain_fps sni_matches_cert ja3 ja3s ja4 ja4s',
    'time string addr port addr port string string string string bool string string bool string vector[string] vector[string] bool string string string string',
  ),
}

export const X509_LOG: AppLogSpec = {
  path: 'x509',
  fields: cols(
    'ts fingerprint certificate.version certificate.serial certificate.subject certificate.issuer certificate.not_valid_before certificate.not_valid_after certificate.key_alg certificate.sig_alg certificate.key_type certificate.key_length certificate.exponent certificate.curve san.dns san.uri san.email san.ip basic_constraints.ca basic_constraints.path_len host_cert client_cert',
    'time string count string string string time time string string string count string string vector[string] vector[string] vector[string] vector[addr] bool count bool bool',
  ),
}
