/**
 * One generator per attack of the labelled scenarios, each with its ground truth: the
 * alert type it must produce and the hosts that alert must name. Attackers are hosts
 * already on the network (a compromised client), except the external brute-forcer and the
 * deliberately new device, so an attack does not also show up as a new device.
 */
import type { AlertType } from '../../collector/detection/detection-types.js'
import type { CaptureFrame } from './pcap-writer.js'
import { BROADCAST_MAC, CLIENTS, dnsLookup, ep, FTP_SERVER, GW, macOf, PortAllocator, rng, SSH_SERVER, T0 } from './scenario-network.js'
import { tcpConversation, udpExchange } from './traffic.js'
import { dnsMessage, rdTxt } from './dns-builder.js'

export interface GroundTruth {
  type: AlertType
  /** The alert's src must equal this; dst too when given. */
  src: string
  dst?: string
  startS: number
  endS: number
}

export interface Attack {
  /** The scenario's name: the alert type, or a variant only the agent's app rows reveal. */
  name: string
  frames: () => CaptureFrame[]
  truth: GroundTruth
}

const ports = new PortAllocator()
const at = (s: number): number => T0 + s

function portScan(): CaptureFrame[] {
  const out: CaptureFrame[][] = []
  for (let p = 1; p <= 100; p++) {
    out.push(tcpConversation({ client: ep('10.0.0.12', 50000 + p), server: ep('10.0.0.39', p), t0: at(1500) + p * 0.2, open: p % 3 === 0 ? 'rejected' : 'syn-only' }))
  }
  return out.flat()
}

function addressScan(): CaptureFrame[] {
  return CLIENTS.filter((c) => c !== '10.0.0.13').flatMap((c, i) => tcpConversation({ client: ep('10.0.0.13', 51000 + i), server: ep(c, 445), t0: at(1600) + i * 0.5, open: 'syn-only' }))
}

function bruteforce(): CaptureFrame[] {
  const out: CaptureFrame[][] = []
  for (let i = 0; i < 40; i++) {
    out.push(tcpConversation({
      client: ep('91.240.118.77', 52000 + i), server: ep(SSH_SERVER, 22), t0: at(1300) + i * 3, rttUs: 30_000, close: 'rst-orig',
      exchanges: [{ from: 'resp', bytes: 40 }, { from: 'orig', bytes: 40 }, { from: 'orig', bytes: 1000 }, { from: 'resp', bytes: 900 }, { from: 'orig', bytes: 300 }, { from: 'resp', bytes: 100 }],
    }))
  }
  return out.flat()
}

function beaconing(): CaptureFrame[] {
  const r = rng(7)
  const out: CaptureFrame[][] = []
  for (let t = 600; t < 3500; t += 90 * (0.97 + 0.06 * r())) {
    out.push(tcpConversation({ client: ep('10.0.0.23', ports.get()), server: ep('45.77.12.34', 8443), t0: at(t), rttUs: 40_000, exchanges: [{ from: 'orig', bytes: 180 }, { from: 'resp', bytes: 60 }] }))
  }
  return out.flat()
}

function dnsTunnel(): CaptureFrame[] {
  const r = rng(11)
  const out: CaptureFrame[][] = []
  for (let i = 0; i < 600; i++) out.push(dnsLookup('10.0.0.24', at(1200) + i + r() * 0.5, ports, 150 + Math.floor(r() * 70), 250))
  return out.flat()
}

function exfiltration(): CaptureFrame[] {
  return tcpConversation({ client: ep('10.0.0.25', ports.get()), server: ep('104.248.50.60', 443), t0: at(2400), rttUs: 30_000, exchanges: [{ from: 'orig', bytes: 10_000_000 }, { from: 'resp', bytes: 200 }] })
}

function arpSpoof(): CaptureFrame[] {
  // 10.0.0.27 poisons 10.0.0.26's cache: the victim's DNS to the gateway goes to 10.0.0.27's MAC.
  const out: CaptureFrame[][] = []
  for (let i = 0; i < 20; i++) out.push(dnsLookup('10.0.0.26', at(1500) + i * 30, ports, 34, 90, macOf('10.0.0.27')))
  return out.flat()
}

function rogueDhcp(): CaptureFrame[] {
  const out: CaptureFrame[][] = []
  for (let i = 0; i < 3; i++) {
    out.push(udpExchange({ client: { ip: '10.0.0.28', port: 67, mac: macOf('10.0.0.28') }, server: { ip: '255.255.255.255', port: 68, mac: BROADCAST_MAC }, t0: at(1800) + i * 20, exchanges: [{ from: 'orig', bytes: 300 }] }))
  }
  return out.flat()
}

function newDevice(): CaptureFrame[] {
  const mac = '02:00:00:00:00:99'
  const out: CaptureFrame[][] = [udpExchange({ client: { ip: '10.0.0.99', port: ports.get(), mac }, server: ep(GW, 53), t0: at(1800), exchanges: [{ from: 'orig', bytes: 34 }, { from: 'resp', bytes: 90 }] })]
  for (let i = 0; i < 3; i++) out.push(tcpConversation({ client: ep('10.0.0.99', ports.get(), mac), server: ep('93.184.216.12', 443), t0: at(1800.2) + i * 40, rttUs: 20_000, exchanges: [{ from: 'orig', bytes: 400 }, { from: 'resp', bytes: 9000 }] }))
  return out.flat()
}

function cleartextCredentials(): CaptureFrame[] {
  return tcpConversation({
    client: ep('10.0.0.29', ports.get()), server: ep(FTP_SERVER, 21), t0: at(2000), rttUs: 1000,
    exchanges: [{ from: 'resp', bytes: 40 }, { from: 'orig', bytes: 14 }, { from: 'resp', bytes: 34 }, { from: 'orig', bytes: 15 }, { from: 'resp', bytes: 24 }, { from: 'orig', bytes: 6 }, { from: 'resp', bytes: 14 }],
  })
}

/**
 * A slow DNS tunnel over TXT records, with real DNS messages: 80 queries for distinct
 * 26-character base32 labels under one domain, one every 15 s. Too few and too small for the
 * volume rule (300 queries, 90 bytes each), too few names for the names rule (200) and no
 * label long enough to count as encoded (40): only the TXT/NULL rule on the agent's dns rows
 * sees it.
 */
function dnsTxtTunnel(): CaptureFrame[] {
  const r = rng(13)
  const b32 = 'abcdefghijklmnopqrstuvwxyz234567'
  const out: CaptureFrame[][] = []
  for (let i = 0; i < 80; i++) {
    const label = Array.from({ length: 26 }, () => b32[Math.floor(r() * 32)]).join('')
    const name = `${label}.${i}.t.cdn-sync.net`
    const id = 0x4000 + i
    const query = dnsMessage({ id, flags: 0x0100, questions: [{ name, type: 16 }] })
    const reply = dnsMessage({ id, flags: 0x8180, questions: [{ name, type: 16 }], answers: [{ name, type: 16, ttl: 0, rdata: rdTxt(Array.from({ length: 40 }, () => b32[Math.floor(r() * 32)]).join('')) }] })
    out.push(udpExchange({ client: ep('10.0.0.32', ports.get()), server: ep(GW, 53), t0: at(900) + i * 15, exchanges: [{ from: 'orig', bytes: query.length, data: query }, { from: 'resp', bytes: reply.length, data: reply }] }))
  }
  return out.flat()
}

/**
 * HTTP Basic credentials sent in clear to a web admin page outside: port 80 and service http
 * are not login protocols to the flow-based rule; only the agent's http row (username) shows it.
 */
function httpBasicAuth(): CaptureFrame[] {
  const req = Buffer.from('GET /admin/ HTTP/1.1\r\nHost: router-admin.example.com\r\nUser-Agent: curl/8.5.0\r\nAuthorization: Basic YWRtaW46aHVudGVyMg==\r\nAccept: */*\r\n\r\n', 'latin1')
  const res = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<p>admin</p>\n', 'latin1')
  return tcpConversation({ client: ep('10.0.0.33', ports.get()), server: ep('198.51.100.20', 80), t0: at(2300), rttUs: 20_000, exchanges: [{ from: 'orig', bytes: req.length, data: req }, { from: 'resp', bytes: res.length, data: res }] })
}

export const INTEL_BAD_IP = '185.220.101.5'

function intelMatch(): CaptureFrame[] {
  return [0, 1].flatMap((i) => tcpConversation({ client: ep('10.0.0.30', ports.get()), server: ep(INTEL_BAD_IP, 443), t0: at(2200) + i * 60, rttUs: 40_000, exchanges: [{ from: 'orig', bytes: 300 }, { from: 'resp', bytes: 3000 }] }))
}

function policyViolation(): CaptureFrame[] {
  return [0, 1, 2].flatMap((i) => tcpConversation({ client: ep('10.0.0.31', ports.get()), server: ep(SSH_SERVER, 3389), t0: at(2600) + i * 45, rttUs: 1000, exchanges: [{ from: 'orig', bytes: 20_000 }, { from: 'resp', bytes: 60_000 }] }))
}

export const ATTACKS: Attack[] = [
  { name: 'port_scan', frames: portScan, truth: { type: 'port_scan', src: '10.0.0.12', dst: '10.0.0.39', startS: 1500, endS: 1520 } },
  { name: 'address_scan', frames: addressScan, truth: { type: 'address_scan', src: '10.0.0.13', startS: 1600, endS: 1615 } },
  { name: 'bruteforce', frames: bruteforce, truth: { type: 'bruteforce', src: '91.240.118.77', dst: SSH_SERVER, startS: 1300, endS: 1420 } },
  { name: 'beaconing', frames: beaconing, truth: { type: 'beaconing', src: '10.0.0.23', dst: '45.77.12.34', startS: 600, endS: 3500 } },
  { name: 'dns_tunnel', frames: dnsTunnel, truth: { type: 'dns_tunnel', src: '10.0.0.24', dst: GW, startS: 1200, endS: 1800 } },
  { name: 'exfiltration', frames: exfiltration, truth: { type: 'exfiltration', src: '10.0.0.25', dst: '104.248.50.60', startS: 2400, endS: 2500 } },
  { name: 'arp_spoof', frames: arpSpoof, truth: { type: 'arp_spoof', src: GW, startS: 1500, endS: 2100 } },
  { name: 'rogue_dhcp', frames: rogueDhcp, truth: { type: 'rogue_dhcp', src: '10.0.0.28', startS: 1800, endS: 1860 } },
  { name: 'new_device', frames: newDevice, truth: { type: 'new_device', src: '10.0.0.99', startS: 1800, endS: 1900 } },
  { name: 'cleartext_credentials', frames: cleartextCredentials, truth: { type: 'cleartext_credentials', src: '10.0.0.29', dst: FTP_SERVER, startS: 2000, endS: 2001 } },
  { name: 'intel_match', frames: intelMatch, truth: { type: 'intel_match', src: '10.0.0.30', dst: INTEL_BAD_IP, startS: 2200, endS: 2270 } },
  { name: 'dns_txt_tunnel', frames: dnsTxtTunnel, truth: { type: 'dns_tunnel', src: '10.0.0.32', dst: GW, startS: 900, endS: 2100 } },
  { name: 'http_basic_auth', frames: httpBasicAuth, truth: { type: 'cleartext_credentials', src: '10.0.0.33', dst: '198.51.100.20', startS: 2300, endS: 2301 } },
  { name: 'policy_violation', frames: policyViolation, truth: { type: 'policy_violation', src: '10.0.0.31', dst: SSH_SERVER, startS: 2600, endS: 2700 } },
]
