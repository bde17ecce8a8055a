/**
 * What the decoder learned about one packet. ONE instance is reused for every packet
 * (zero allocation on the hot path); fields are offsets into `buf`, never copies.
 * `reset()` must be called before decoding the next packet.
 */
export class PacketInfo {
  /** Buffer holding the network-layer packet (the capture buffer, or a reassembled datagram). */
  buf: Buffer = Buffer.alloc(0)

  // ---- link layer ----
  /** Offset of the source/destination MAC in the capture buffer, -1 when the link has none. */
  srcMacOff = -1
  dstMacOff = -1
  /** The frame the MACs live in (the capture buffer; kept apart from `buf`, which may be reassembled). */
  l2Buf: Buffer = Buffer.alloc(0)
  /** Outer and inner 802.1Q/802.1ad VLAN ids, -1 when absent. */
  vlan = -1
  innerVlan = -1

  // ---- network layer ----
  /** 4 or 6; 0 when the packet carries no IP (ARP, unknown ethertype). */
  ipVersion = 0
  ipOff = 0
  /** Header length (IPv6: 40 + extension headers up to the transport). */
  ipHdrLen = 0
  /** Bytes of the IP packet per its length field (Zeek's ip_bytes). */
  ipTotalLen = 0
  /** Offsets of source/destination address (4 or 16 bytes) in `buf`. */
  srcAddrOff = 0
  dstAddrOff = 0
  addrLen = 4
  ttl = 0
  /** Final transport protocol number after extension headers. */
  ipProto = -1
  /** IPv4 header checksum verified (false when not checked or bad). */
  ipChecksumBad = false
  /** Fragment fields (set when the packet is a fragment that still needs reassembly). */
  isFragment = false
  fragOffset = 0
  fragMore = false
  fragId = 0
  /** Offset where the fragmentable payload starts (after IPv4 header / IPv6 fragment header). */
  fragPayloadOff = 0

  // ---- transport ----
  l4Off = 0
  /** Transport bytes per the IP length (header + payload), not limited by caplen. */
  l4Len = 0
  /** Transport bytes actually captured (≤ l4Len). */
  l4CapLen = 0
  sport = 0
  dport = 0
  tcpFlags = 0
  seq = 0
  ack = 0
  window = 0
  tcpHdrLen = 0
  /** Payload per the IP length (TCP: after the TCP header; UDP: ulen-derived; ICMP: after 8 bytes). */
  payloadOff = 0
  payloadLen = 0
  icmpType = 0
  icmpCode = 0
  udpLen = 0

  // ---- encapsulation found inside this packet (handled by the pipeline) ----
  /** 0 none, else one of TUNNEL_* below. */
  tunnelType = 0
  /** Where the inner packet starts in `buf`, and what it is (ethernet frame or IP). */
  innerOff = 0
  innerIsEthernet = false

  // ---- ARP (ipVersion 0) ----
  isArp = false
  arpOff = 0

  reset(): void {
    this.srcMacOff = -1; this.dstMacOff = -1; this.vlan = -1; this.innerVlan = -1
    this.ipVersion = 0; this.ipOff = 0; this.ipHdrLen = 0; this.ipTotalLen = 0
    this.srcAddrOff = 0; this.dstAddrOff = 0; this.addrLen = 4; this.ttl = 0; this.ipProto = -1
    this.ipChecksumBad = false; this.isFragment = false; this.fragOffset = 0; this.fragMore = false
    this.fragId = 0; this.fragPayloadOff = 0
    this.l4Off = 0; this.l4Len = 0; this.l4CapLen = 0; this.sport = 0; this.dport = 0
    this.tcpFlags = 0; this.seq = 0; this.ack = 0; this.window = 0; this.tcpHdrLen = 0
    this.payloadOff = 0; this.payloadLen = 0; this.icmpType = 0; this.icmpCode = 0; this.udpLen = 0
    this.tunnelType = 0; this.innerOff = 0; this.innerIsEthernet = false
    this.isArp = false; this.arpOff = 0
  }
}

export const TUNNEL_NONE = 0
export const TUNNEL_GRE = 1
export const TUNNEL_VXLAN = 2
export const TUNNEL_TEREDO = 3
export const TUNNEL_IP_IN_IP = 4

export const TUNNEL_NAMES = ['', 'Tunnel::GRE', 'Tunnel::VXLAN', 'Tunnel::TEREDO', 'Tunnel::IP'] as const

export const TCP_FIN = 0x01
export const TCP_SYN = 0x02
export const TCP_RST = 0x04
export const TCP_PSH = 0x08
export const TCP_ACK = 0x10
export const TCP_URG = 0x20
