/** Address (+ VLAN) → zone name, from the policy's zones: VLAN ids first, then CIDRs in order. */
import { CidrSet } from '../detection/net-match.js'
import type { PolicyConfig } from './policy-config.js'

export class ZoneMap {
  private readonly byVlan = new Map<number, string>()
  private readonly cidrs: Array<[string, CidrSet]> = []
  readonly invalid: string[] = []

  constructor(private readonly cfg: Pick<PolicyConfig, 'zones' | 'default_zone'>) {
    for (const z of cfg.zones) {
      for (const v of z.vlans) if (!this.byVlan.has(v)) this.byVlan.set(v, z.name)
      if (z.cidrs.length > 0) {
        const set = new CidrSet(z.cidrs)
        this.invalid.push(...set.invalid)
        this.cidrs.push([z.name, set])
      }
    }
  }

  /** `v4`: the address as an unsigned IPv4 number, -1 when not IPv4; `ip` is read only then. */
  zoneOf(ip: string, v4: number, vlan: number | undefined): string {
    if (vlan !== undefined) { const z = this.byVlan.get(vlan); if (z !== undefined) return z }
    // Indexed, no destructuring: asked for both sides of every flow.
    const cidrs = this.cidrs
    for (let i = 0; i < cidrs.length; i++) { const z = cidrs[i]!; if (v4 >= 0 ? z[1].hasV4(v4) : z[1].has(ip)) return z[0] }
    return this.cfg.default_zone
  }
}
