/**
 * The agent host's own inventory (OS, kernel, CPU, memory, interfaces with MACs and every
 * address, listening sockets) from `systeminformation`, as an Inventory message. Every
 * probe is independent: one that fails leaves its part empty and is counted, never fatal.
 */
import { networkInterfaces as osInterfaces } from 'node:os'
import si from 'systeminformation'
import { Transport } from '../../protocol/index.js'
import type { InventoryProperties } from '../../protocol/index.js'

export interface InventoryResult {
  inventory: InventoryProperties
  /** Probes that failed (names), for the counters. */
  failed: string[]
}

async function attempt<T>(name: string, failed: string[], fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn()
  } catch {
    failed.push(name)
    return undefined
  }
}

export async function collectInventory(now = Date.now()): Promise<InventoryResult> {
  const failed: string[] = []
  const [os, cpu, mem, ifaces, conns] = await Promise.all([
    attempt('os', failed, () => si.osInfo()),
    attempt('cpu', failed, () => si.cpu()),
    attempt('mem', failed, () => si.mem()),
    attempt('interfaces', failed, () => si.networkInterfaces() as Promise<si.Systeminformation.NetworkInterfacesData[]>),
    attempt('listening_ports', failed, () => si.networkConnections()),
  ])
  const inv: InventoryProperties = { collectedAtUs: now * 1000 }
  if (os) {
    inv.os = { platform: os.platform, distro: os.distro, release: os.release, codename: os.codename, kernel: os.kernel, arch: os.arch, hostname: os.hostname, fqdn: os.fqdn }
  }
  if (cpu) inv.cpu = { manufacturer: cpu.manufacturer, brand: cpu.brand, cores: cpu.cores, physicalCores: cpu.physicalCores, speedMhz: Math.round((cpu.speed || 0) * 1000) }
  if (mem) inv.memory = { totalBytes: mem.total, availableBytes: mem.available, swapTotalBytes: mem.swaptotal }
  // Every address with its prefix comes from the OS (systeminformation keeps one per family).
  const addrs = osInterfaces()
  inv.interfaces = (Array.isArray(ifaces) ? ifaces : []).map((i) => {
    const list = addrs[i.iface] ?? []
    const sorted = [...list].sort((a, b) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1))
    return {
      name: i.iface,
      mac: i.mac && i.mac !== '00:00:00:00:00:00' ? i.mac : '',
      addresses: sorted.map((a) => a.cidr ?? a.address),
      type: i.type ?? '',
      speedMbps: i.speed ? Math.round(i.speed) : 0,
      operstate: i.operstate ?? '',
      virtual: i.virtual,
      mtu: i.mtu ?? 0,
    }
  })
  inv.listeningPorts = (conns ?? [])
    .filter((c) => c.state === 'LISTEN' || (c.protocol.startsWith('udp') && (c.peerAddress === '' || c.peerAddress === '*' || c.peerAddress === '0.0.0.0')))
    .map((c) => ({
      proto: c.protocol.startsWith('udp') ? Transport.TRANSPORT_UDP : Transport.TRANSPORT_TCP,
      address: c.localAddress,
      port: Number(c.localPort) || 0,
      process: c.process ?? '',
      pid: c.pid || 0,
    }))
  return { inventory: inv, failed }
}
