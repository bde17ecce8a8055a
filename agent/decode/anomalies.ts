import { Counters } from '../util/counters.js'

/**
 * Named anomalies (Zeek's "weirds"): every malformed or truncated packet bumps one of these
 * instead of throwing. Names follow Zeek's weird names where Zeek has one, so people who
 * grep weird.log for `truncated_IP` find the same thing here.
 */
export type AnomalyName =
  | 'truncated_link_header' | 'truncated_VLAN_header' | 'truncated_MPLS_header' | 'truncated_PPPoE_header'
  | 'unknown_link_type' | 'unknown_ethertype' | 'non_ip_packet'
  | 'truncated_IP' | 'truncated_IPv6' | 'bad_IP_version' | 'bad_IP_header_len' | 'bad_IP_checksum'
  | 'internally_truncated_header' | 'truncated_header' | 'bad_TCP_header_len'
  | 'bad_TCP_checksum' | 'bad_UDP_checksum' | 'bad_ICMP_checksum'
  | 'UDP_datagram_length_mismatch' | 'truncated_ipv6_ext_header' | 'excessive_ipv6_ext_headers'
  | 'truncated_ARP' | 'truncated_GRE' | 'unknown_gre_version' | 'unknown_gre_protocol' | 'truncated_VXLAN'
  | 'exceeded_tunnel_max_depth' | 'unknown_protocol' | 'fragment_pending'
  | 'ip_hdr_len_zero' | 'capture_caplen_exceeds_len'

export class AnomalyCounters extends Counters<AnomalyName | string> {}
