/**
 * A private network lab for live-capture tests and benchmarks: a network namespace of our
 * own holding the sending end of a veth pair; the capturing end stays in the current
 * namespace (where LiveCapture opens it). Both ends have IPv6 disabled and no addresses, so
 * the kernel itself sends nothing on them: every frame seen on the capture end was replayed.
 *
 * Everything is removed by destroy(), and also at process exit (synchronously) for labs
 * a crashed test did not clean up. All commands have timeouts.
 */
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import type { CaptureFrame } from './pcap-writer.js'
import { icmpEcho, mergeByTime, tcpConversation, udpExchange } from './traffic.js'

const CMD_TIMEOUT_MS = 10_000

export interface VethLab {
  /** Namespace name (holds sendIf). */
  readonly ns: string
  /** veth end inside the namespace: tcpreplay writes here. */
  readonly sendIf: string
  /** veth end in our namespace: capture here. */
  readonly captureIf: string
  /** Removes the namespace and both links; safe to call twice. */
  destroy(): void
}

export interface ReplayResult {
  /** Packets tcpreplay reports as sent ("Actual: N packets"). */
  sent: number
  /** Packets tcpreplay failed to send. */
  failed: number
  wallMs: number
  output: string
}

const live = new Set<VethLab>()
let exitHookInstalled = false
let seq = 0

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', timeout: CMD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] })
}

function tryRun(cmd: string, args: string[]): boolean {
  try {
    run(cmd, args)
    return true
  } catch {
    return false
  }
}

/** Why live-capture labs cannot run here, or null when they can (checked by trying). */
export function netnsUnavailableReason(): string | null {
  if (process.platform !== 'linux') return 'live-capture lab needs Linux network namespaces'
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'live-capture lab needs root (ip netns add, veth, CAP_NET_RAW); run as root to include it'
  for (const tool of ['ip', 'tcpreplay']) {
    if (!tryRun('sh', ['-c', `command -v ${tool}`])) return `live-capture lab needs ${tool} (apt-get install ${tool === 'ip' ? 'iproute2' : tool})`
  }
  const probe = `telltale-probe-${process.pid}`
  try {
    run('ip', ['netns', 'add', probe])
  } catch (err) {
    return `network namespaces are not permitted here (ip netns add failed: ${String((err as { stderr?: string }).stderr ?? err).trim().split('\n')[0]})`
  }
  tryRun('ip', ['netns', 'del', probe])
  return null
}

function writeSysctl(path: string, value: string): void {
  if (existsSync(path)) writeFileSync(path, value)
}

export function createVethLab(): VethLab {
  seq++
  const tag = `${process.pid % 100000}x${seq}`
  const ns = `telltale-${tag}`
  const sendIf = `tts${tag}`
  const captureIf = `ttc${tag}`
  let destroyed = false
  const lab: VethLab = {
    ns, sendIf, captureIf,
    destroy() {
      if (destroyed) return
      destroyed = true
      live.delete(lab)
      tryRun('ip', ['netns', 'del', ns])
      tryRun('ip', ['link', 'del', captureIf])
    },
  }
  live.add(lab)
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.on('exit', () => { for (const l of [...live]) l.destroy() })
  }
  try {
    run('ip', ['netns', 'add', ns])
    // New links in the namespace start with IPv6 off (no RS/MLD/DAD frames).
    run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv6.conf.all.disable_ipv6=1'])
    run('ip', ['link', 'add', captureIf, 'mtu', '9000', 'type', 'veth', 'peer', 'name', sendIf, 'mtu', '9000', 'netns', ns])
    writeSysctl(`/proc/sys/net/ipv6/conf/${captureIf}/disable_ipv6`, '1')
    run('ip', ['link', 'set', captureIf, 'up'])
    run('ip', ['-n', ns, 'link', 'set', sendIf, 'up'])
  } catch (err) {
    lab.destroy()
    const e = err as { stderr?: string; message?: string }
    throw new Error(`could not build the veth lab: ${(e.stderr ?? e.message ?? String(err)).trim()}`)
  }
  return lab
}

export interface ReplayOptions {
  /** `--topspeed` (default) or a fixed packet rate. */
  pps?: number
  /** Send the file this many times (tcpreplay --loop). Default 1. */
  loop?: number
  /** Hard stop; tcpreplay is killed after this. */
  timeoutMs: number
}

/** Replays `file` into lab.sendIf with tcpreplay (inside the lab's namespace). */
export function replayInto(lab: VethLab, file: string, opts: ReplayOptions): Promise<ReplayResult> {
  const args = ['netns', 'exec', lab.ns, 'tcpreplay', `--intf1=${lab.sendIf}`]
  args.push(opts.pps !== undefined ? `--pps=${opts.pps}` : '--topspeed')
  if ((opts.loop ?? 1) > 1) args.push(`--loop=${opts.loop}`)
  args.push(file)
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    execFile('ip', args, { encoding: 'utf8', timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const output = `${stdout}\n${stderr}`
      if (err) {
        reject(new Error(`tcpreplay failed (${err.killed ? `killed after ${opts.timeoutMs} ms` : err.message.split('\n')[0]}): ${output.trim()}`))
        return
      }
      const sent = /Actual:\s+(\d+)\s+packets/.exec(output)
      const failed = /Failed packets:\s+(\d+)/.exec(output)
      if (!sent) {
        reject(new Error(`could not read tcpreplay's packet count from: ${output.trim()}`))
        return
      }
      resolve({ sent: Number(sent[1]), failed: failed ? Number(failed[1]) : 0, wallMs: performance.now() - t0, output })
    })
  })
}

/** Resolves when `done()` holds, or when `timeoutMs` passes (returns false then). */
export async function waitFor(done: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (done()) return true
    await new Promise((r) => setTimeout(r, stepMs))
  }
  return done()
}

/**
 * A mixed capture for the lab: TCP sessions (handshake, data both ways, FIN or RST close),
 * UDP request/response, ICMP echo, some IPv6 and 802.1Q-tagged flows; frames of 54..1518
 * bytes (all fit the lab's 9000-byte MTU). Deterministic for a given `flows` and `t0`.
 */
export function labTraffic(flows: number, t0 = 1_700_000_000): CaptureFrame[] {
  const lists: CaptureFrame[][] = []
  for (let i = 0; i < flows; i++) {
    const a = (i >> 8) & 0xff
    const b = i & 0xff
    const start = t0 + i * 0.0005
    const v6 = i % 7 === 3
    const client = { ip: v6 ? `2001:db8::${a.toString(16)}:${b.toString(16)}` : `10.1.${a}.${b}`, port: 20000 + (i % 40000) }
    const server = { ip: v6 ? '2001:db8:ffff::80' : `192.0.2.${1 + (i % 200)}`, port: 80 }
    const vlan = i % 5 === 1 ? 100 + (i % 3) : undefined
    const common = { client, server, ipv6: v6, ...(vlan !== undefined ? { vlan } : {}) }
    switch (i % 4) {
      case 0:
      case 1:
        lists.push(tcpConversation({ ...common, t0: start, exchanges: [{ from: 'orig', bytes: 300 + (i % 500) }, { from: 'resp', bytes: 2000 + (i % 5000) }], close: i % 8 === 1 ? 'rst-orig' : 'fin' }))
        break
      case 2:
        lists.push(udpExchange({ ...common, server: { ...server, port: 53 }, t0: start, exchanges: [{ from: 'orig', bytes: 40 + (i % 60) }, { from: 'resp', bytes: 100 + (i % 400) }] }))
        break
      default:
        lists.push(icmpEcho({ client: { ip: client.ip }, server: { ip: server.ip }, ipv6: v6, t0: start, count: 2, intervalUs: 1000, id: i & 0xffff, ...(vlan !== undefined ? { vlan } : {}) }))
    }
  }
  return mergeByTime(...lists)
}
