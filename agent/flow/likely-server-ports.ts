/**
 * Zeek's `likely_server_ports`: the ports of the protocol analyzers its default (base) scripts
 * load (IRC ports are not among them: the irc-port pcap in the corpus shows Zeek flipping
 * 80→6669 SYN-ACKs at creation). Used only for Zeek's orientation heuristic when a connection does not start with a
 * plain SYN (TCP) or starts from a server port (UDP). Keys are `port | PROTO_MASK`.
 */
const TCP = 0x10000
const UDP = 0x20000

const TCP_PORTS = [
  21, 2811, // ftp
  22, // ssh
  25, 587, // smtp
  53, // dns
  80, 81, 631, 1080, 3128, 8000, 8080, 8888, // http
  88, // krb
  110, // pop3
  135, // dce-rpc
  139, 445, // smb
  143, // imap
  443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223, // ssl
  502, // modbus
  1433, 3306, // sql
  1723, // pptp
  3389, // rdp
  5060, 5061, // sip
  5222, 5269, // xmpp
  5900, 5901, 5902, 5903, 5904, 5905, 5906, 5907, 5908, 5909, // vnc/rfb
  20000, // dnp3
  1812, // radius (tcp too)
  6379, // redis
  11211, // memcached
]

const UDP_PORTS = [
  53, 137, 5353, 5355, // dns (incl. NetBIOS-NS, mDNS, LLMNR)
  67, // dhcp server
  69, // tftp
  88, // krb
  123, // ntp
  161, 162, // snmp
  500, 4500, // ike
  514, // syslog
  1812, 1813, // radius
  1900, // ssdp
  3544, // teredo
  4789, // vxlan
  5060, // sip
  5246, 5247, // capwap
  2152, 2123, // gtp
  47808, // bacnet
]

const SET = new Set<number>([...TCP_PORTS.map((p) => p | TCP), ...UDP_PORTS.map((p) => p | UDP)])

export function isLikelyServerPort(port: number, proto: 'tcp' | 'udp'): boolean {
  return SET.has(port | (proto === 'tcp' ? TCP : UDP))
}
