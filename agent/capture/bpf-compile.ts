import { execFileSync } from 'node:child_process'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import type { RawPacket } from './raw-packet.js'
import { bpfProgram, runBpf, type BpfInsn, type BpfProgram } from './bpf-vm.js'

/**
 * Compiles a capture filter for packets read from FILES, with libpcap's own compiler so
 * that the semantics are tcpdump's, to the letter.
 *
 * Neither npm binding exposes pcap_compile()'s output (both compile inside their open call
 * and hand the program straight to pcap_setfilter), and Node has no FFI. libpcap's
 * compiler is reached through `tcpdump -ddd`, reading a header-only pcap file from stdin
 * whose header carries the packet's link type and snap length: tcpdump then calls
 * pcap_open_offline() + pcap_compile() exactly as it does for `tcpdump -r FILE 'expr'`
 * (netmask unknown, as for every offline capture), prints the program and exits without
 * reading a packet. One short process per (expression, link type), cached.
 */

const PCAP_HEADER_LEN = 24
const COMPILE_TIMEOUT_MS = 10_000
const CACHE_MAX = 256
const cache = new Map<string, BpfProgram>()

export const DEFAULT_FILTER_SNAPLEN = 262144

/** A classic pcap file header (little-endian, microseconds, v2.4) with no packets. */
function pcapHeader(linkType: number, snaplen: number): Buffer {
  const h = Buffer.alloc(PCAP_HEADER_LEN)
  h.writeUInt32LE(0xa1b2c3d4, 0)
  h.writeUInt16LE(2, 4)
  h.writeUInt16LE(4, 6)
  h.writeUInt32LE(snaplen >>> 0, 16)
  h.writeUInt32LE(linkType >>> 0, 20)
  return h
}

/** Parses `tcpdump -ddd` output: a count line, then "code jt jf k" in decimal per instruction. */
export function parseDddProgram(text: string): BpfProgram | null {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '')
  const count = Number(lines[0])
  if (!Number.isInteger(count) || count <= 0 || lines.length !== count + 1) return null
  const insns: BpfInsn[] = []
  for (const line of lines.slice(1)) {
    const f = line.split(/\s+/).map(Number)
    if (f.length !== 4 || f.some((v) => !Number.isInteger(v) || v < 0)) return null
    insns.push({ code: f[0]!, jt: f[1]!, jf: f[2]!, k: f[3]! })
  }
  return bpfProgram(insns)
}

/** libpcap's message from tcpdump's stderr ("tcpdump: syntax error" → "syntax error"). */
function libpcapMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('reading from file'))
  const msg = lines.map((l) => l.replace(/^tcpdump: /, '')).join('; ')
  return msg || 'libpcap rejected the expression'
}

export function compileFilter(expr: string, linkType: number, snaplen: number = DEFAULT_FILTER_SNAPLEN): BpfProgram {
  const key = `${linkType}\u0000${snaplen}\u0000${expr}`
  const hit = cache.get(key)
  if (hit) return hit
  const TCPDUMP = process.env.TELLTALE_TCPDUMP ?? 'tcpdump'
  let out: string
  try {
    out = execFileSync(TCPDUMP, ['-r', '-', '-ddd', '--', expr], {
      input: pcapHeader(linkType, snaplen), encoding: 'utf8', timeout: COMPILE_TIMEOUT_MS,
      stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024,
    })
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string | Buffer; signal?: string }
    if (e.code === 'ENOENT') {
      throw new AgentError(AgentErrorCode.CAPTURE_FILTER_COMPILER_MISSING,
        `--filter on capture files compiles the expression with libpcap through tcpdump, which was not found (${TCPDUMP}): install it (apt-get install tcpdump) or set TELLTALE_TCPDUMP`)
    }
    if (e.signal) {
      throw new AgentError(AgentErrorCode.CAPTURE_BAD_FILTER, `compiling capture filter "${expr}" with ${TCPDUMP} was stopped (${e.signal}) after ${COMPILE_TIMEOUT_MS} ms; try a simpler expression`)
    }
    throw new AgentError(AgentErrorCode.CAPTURE_BAD_FILTER,
      `bad capture filter "${expr}" (link type ${linkType}): ${libpcapMessage(String(e.stderr ?? ''))}; check the expression against pcap-filter(7)`)
  }
  const prog = parseDddProgram(out)
  if (!prog) {
    throw new AgentError(AgentErrorCode.CAPTURE_BAD_FILTER, `could not read the program ${TCPDUMP} compiled for "${expr}" (unexpected -ddd output); check the tcpdump installation`)
  }
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value as string)
  cache.set(key, prog)
  return prog
}

/**
 * A predicate applying `expr` to packets of any link type: the program is compiled (with
 * libpcap, as tcpdump would for a file of that link type) on the first packet of each link
 * type and kept. '' accepts everything. A bad expression throws CAPTURE_BAD_FILTER at the
 * first packet, or at once when `validateFor` names link types to compile for up front.
 */
export function createPacketFilter(expr: string, opts: { snaplen?: number; validateFor?: number[] } = {}): (pkt: RawPacket) => boolean {
  if (expr.trim() === '') return () => true
  const snaplen = opts.snaplen ?? DEFAULT_FILTER_SNAPLEN
  const byLinkType = new Map<number, BpfProgram>()
  for (const lt of opts.validateFor ?? []) byLinkType.set(lt, compileFilter(expr, lt, snaplen))
  let lastLinkType = -1
  let lastProg: BpfProgram | undefined
  return (pkt: RawPacket): boolean => {
    let prog = lastProg
    if (pkt.linkType !== lastLinkType || !prog) {
      prog = byLinkType.get(pkt.linkType)
      if (!prog) {
        prog = compileFilter(expr, pkt.linkType, snaplen)
        byLinkType.set(pkt.linkType, prog)
      }
      lastLinkType = pkt.linkType
      lastProg = prog
    }
    return runBpf(prog, pkt.data, pkt.origLen, pkt.data.length) !== 0
  }
}
