/**
 * SSH protocol version from the two identification strings, twice, as Zeek does it:
 * - `wireVersion`: what the binpac parser uses to read binary packets (ssh-protocol.pac
 *   update_version): 1.99 is "both", so 1.99 vs 2 is 2, 1.x vs 1.99 is 1, 1 vs 2 is unknown.
 * - `logVersion`: the `version` column (main.zeek set_version), computed only once both
 *   banners are known and only when both are longer than 4 characters.
 */
export const SSH_UNKNOWN = 0
export const SSH1 = 1
export const SSH2 = 2
const SSH199 = 3

/** Kind of one banner: SSH2, SSH199, SSH1, or unknown (too short / other digit). */
export function bannerKind(v: string): number {
  if (v.length < 5) return SSH_UNKNOWN
  if (v[4] === '2') return SSH2
  if (v[4] === '1') return v.length >= 8 && v[6] === '9' && v[7] === '9' ? SSH199 : SSH1
  return SSH_UNKNOWN
}

/** The version binary packets are parsed with (SSH1, SSH2 or unknown = not parsed). */
export function wireVersion(client: number, server: number): number {
  if (client === server) return server === SSH199 ? SSH2 : server
  if (client === SSH199 && server === SSH2) return SSH2
  if (client === SSH2 && server === SSH199) return SSH2
  if (client === SSH1 && server === SSH199) return SSH1
  if (client === SSH199 && server === SSH1) return SSH1
  return SSH_UNKNOWN
}

const is99 = (v: string): boolean => v.length > 7 && v[6] === '9' && v[7] === '9'

/** The ssh.log `version` value, or undefined when Zeek leaves it unset. */
export function logVersion(client: string | undefined, server: string | undefined): number | undefined {
  if (client === undefined || server === undefined || client.length <= 4 || server.length <= 4) return undefined
  const c = client[4]
  const s = server[4]
  if (c === '1' && s === '2') return is99(client) ? 2 : 0
  if (c === '2' && s === '1') return is99(server) ? 2 : 0
  if (c === '1' && s === '1') return is99(server) ? (is99(client) ? 2 : 1) : 1
  if (c === '2' && s === '2') return 2
  return undefined
}
