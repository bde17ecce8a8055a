/**
 * Site names. A site is a network whose private address plan may repeat elsewhere (branch
 * offices that all use 192.168.1.0/24): the topology scopes the private addresses an agent
 * reports by the agent's site, so 192.168.1.10 at "berlin" and at "paris" are two hosts.
 * Public addresses stay one host whatever site saw them.
 *
 * A site name is part of host ids ("192.168.1.10%berlin"), so it is short, lower-case and
 * cannot be mistaken for the VLAN scope ("vlan7").
 */

/** The JSON-schema pattern (TypeBox) and the check (CLI): 1–32 of a-z 0-9 _ -, starting with a letter or digit. */
export const SITE_PATTERN = '^[a-z0-9][a-z0-9_-]{0,31}$'
const SITE_RE = new RegExp(SITE_PATTERN)
const VLAN_LIKE = /^vlan\d+$/

/** Why `name` is not a site name, or undefined when it is one. */
export function siteNameProblem(name: string): string | undefined {
  if (!SITE_RE.test(name)) return `"${name.slice(0, 64)}" is not a site name (1–32 characters of a-z, 0-9, _ and -, starting with a letter or digit)`
  if (VLAN_LIKE.test(name)) return `"${name}" is not a site name: names like vlan<N> are the VLAN scope's`
  return undefined
}
