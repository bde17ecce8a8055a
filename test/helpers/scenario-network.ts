/**
 * The labelled scenario generator's network and benign background: a /24 with a gateway
 * (DNS, DHCP, NTP; 10.0.0.1), an SSH server (10.0.0.5), an FTP server (10.0.0.6) and 30
 * clients (10.0.0.10–39) browsing external HTTPS/HTTP sites at Poisson-random times with a
 * DNS lookup first, a few SSH sessions, DHCP renewals, a periodic NTP poll from the gateway
 * (periodic but on an ignored port) and a few refused connections (noise for the scan
 * detectors). Frames are as a tap on the LAN sees them: external hosts behind the
 * gateway's MAC. Deterministic for a seed.
 */
import type { CaptureFrame } from './pcap-writer.js'
import { tcpConversation, udpExchange, type Endpoint } from './traffic.js'

export const T0 = 1_700_000_000
export const GW = '10.0.0.1'
export const GW_MAC = '02:00:00:00:01:01'
export const SSH_SERVER = '10.0.0.5'
export const FTP_SERVER = '10.0.0.6'
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff'

export const CLIENTS: string[] = Array.from({ length: 30 }, (_, i) => `10.0.0.${10 + i}`)

export function macOf(ip: string): string {
  if (ip === GW) return GW_MAC
  const last = Number(ip.split('.')[3])
  if (ip === SSH_SERVER || ip === FTP_SERVER) return `02:00:00:00:01:${last.toString(16).padStart(2, '0')}`
  return `02:00:00:00:00:${last.toString(16).padStart(2, '0')}`
}

/** An endpoint on the LAN (own MAC) or outside (the gateway's MAC). */
export function ep(ip: string, port: number, mac?: string): Endpoint {
  return { ip, port, mac: mac ?? (ip.startsWith('10.0.0.') ? macOf(ip) : GW_MAC) }
}

export const EXTERNAL_SITES: string[] = [
  ...Array.from({ length: 24 }, (_, i) => `93.184.216.${10 + i}`),
  ...Array.from({ length: 16 }, (_, i) => `151.101.${i}.${(i * 37) % 250 + 1}`),
]

/** mulberry32: deterministic [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export class PortAllocator {
  private next = 40000
  get(): number { const p = this.next; this.next = this.next >= 64000 ? 40000 : this.next + 1; return p }
}

export function dnsLookup(client: string, t: number, ports: PortAllocator, queryBytes = 34, replyBytes = 90, serverMac?: string): CaptureFrame[] {
  return udpExchange({ client: ep(client, ports.get()), server: ep(GW, 53, serverMac), t0: t, exchanges: [{ from: 'orig', bytes: queryBytes }, { from: 'resp', bytes: replyBytes }] })
}

export interface BenignOptions {
  seed?: number
  durationS?: number
  /** Mean seconds between two browsing sessions of one client. */
  meanIntervalS?: number
}

/** One hour (default) of benign traffic. */
export function benignTraffic(o: BenignOptions = {}): CaptureFrame[] {
  const r = rng(o.seed ?? 1)
  const dur = o.durationS ?? 3600
  const mean = o.meanIntervalS ?? 90
  const ports = new PortAllocator()
  const out: CaptureFrame[][] = []
  // DHCP: a client boots at t0+30 s; the gateway answers (broadcast).
  out.push(udpExchange({ client: { ip: '0.0.0.0', port: 68, mac: macOf(CLIENTS[0]!) }, server: { ip: '255.255.255.255', port: 67, mac: BROADCAST_MAC }, t0: T0 + 30, exchanges: [{ from: 'orig', bytes: 300 }] }))
  out.push(udpExchange({ client: { ip: GW, port: 67, mac: GW_MAC }, server: { ip: '255.255.255.255', port: 68, mac: BROADCAST_MAC }, t0: T0 + 30.01, exchanges: [{ from: 'orig', bytes: 300 }] }))
  // The servers resolve a name at start-up (they are on the network from the beginning).
  out.push(dnsLookup(SSH_SERVER, T0 + 10, ports), dnsLookup(FTP_SERVER, T0 + 11, ports))
  for (const c of CLIENTS) {
    let t = T0 + r() * mean
    while (t < T0 + dur - 30) {
      out.push(dnsLookup(c, t, ports, 28 + Math.floor(r() * 20), 60 + Math.floor(r() * 140)))
      const site = EXTERNAL_SITES[Math.floor(r() * EXTERNAL_SITES.length)]!
      const n = 1 + Math.floor(r() * 2)
      for (let i = 0; i < n; i++) {
        out.push(tcpConversation({
          client: ep(c, ports.get()), server: ep(site, r() < 0.8 ? 443 : 80), t0: t + 0.05 + i * 0.3, rttUs: 20_000,
          exchanges: [{ from: 'orig', bytes: 200 + Math.floor(r() * 600) }, { from: 'resp', bytes: 2000 + Math.floor(r() * 40_000) }],
        }))
      }
      t += -Math.log(1 - r()) * mean
    }
    // DHCP renewal (unicast) once, after the first 20 minutes.
    out.push(udpExchange({ client: ep(c, 68), server: ep(GW, 67), t0: T0 + 1200 + r() * 1800, exchanges: [{ from: 'orig', bytes: 300 }, { from: 'resp', bytes: 300 }] }))
  }
  // SSH sessions from five clients, long enough and large enough to be logins that worked.
  for (let i = 0; i < 10; i++) {
    const c = CLIENTS[i % 5]!
    out.push(tcpConversation({
      client: ep(c, ports.get()), server: ep(SSH_SERVER, 22), t0: T0 + 100 + i * 340 + r() * 60, rttUs: 500,
      exchanges: [{ from: 'resp', bytes: 40 }, { from: 'orig', bytes: 40 }, { from: 'orig', bytes: 1400 }, { from: 'resp', bytes: 1600 }, { from: 'orig', bytes: 8000 + Math.floor(r() * 20_000) }, { from: 'resp', bytes: 20_000 + Math.floor(r() * 40_000) }],
    }))
  }
  // NTP from the gateway every 64 s (periodic, on an ignored port).
  for (let t = T0 + 5; t < T0 + dur; t += 64) out.push(udpExchange({ client: ep(GW, 123), server: ep('162.159.200.1', 123), t0: t, exchanges: [{ from: 'orig', bytes: 48 }, { from: 'resp', bytes: 48 }] }))
  // A few refused connections (a stale bookmark, a closed port).
  for (let i = 0; i < 4; i++) {
    out.push(tcpConversation({ client: ep(CLIENTS[(i * 7) % 30]!, ports.get()), server: ep(EXTERNAL_SITES[i]!, 8080 + i), t0: T0 + 200 + i * 700, open: 'rejected', rttUs: 20_000 }))
  }
  return out.flat()
}
