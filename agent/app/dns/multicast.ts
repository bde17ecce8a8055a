/** Zeek's DNS::multicast_subnets: 224.0.0.0/4 and ff00::/8. */
export function isMulticastAddr(addr: string): boolean {
  if (addr.includes(':')) return /^ff/i.test(addr)
  const first = Number(addr.split('.', 1)[0])
  return first >= 224 && first <= 239
}
