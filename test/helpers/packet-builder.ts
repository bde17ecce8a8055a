/**
 * Test packet builders: pure functions returning Buffers (header + payload), with correct
 * IPv4/TCP/UDP/ICMP/ICMPv6 checksums unless `badChecksum` is set. Compose inside out:
 *
 *   ethernet({ etherType: ETHERTYPE_IPV4 },
 *     ipv4({ src, dst, protocol: IPPROTO_TCP },
 *       tcp({ src, dst, sport: 1234, dport: 80, flags: 'S' })))
 */
export * from './packet-builder-l2.js'
export * from './packet-builder-ip.js'
export * from './packet-builder-l4.js'
export { parseIp, parseIpv4, parseIpv6, parseMac } from './inet-checksum.js'
