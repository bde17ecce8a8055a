/**
 * ARP (RFC 826) for the asset inventory. ARP is not a connection, so this is not an analyzer:
 * `analyzeArp` decodes one ARP packet (pure, bounds-checked, never throws) and `ArpTracker`
 * pairs requests with their replies and turns both into IP↔MAC host observations. The pipeline
 * calls them for frames the decoder marked `PacketInfo.isArp` (ARP header at `arpOff`).
 *
 * Like Zeek's ARP analyzer, only Ethernet/IEEE 802 hardware (type 1 or 6) with IPv4 protocol
 * addresses (0x0800, lengths 6 and 4) is interpreted; anything else is `bad`, with a reason.
 */
import { formatMac } from '../../flow/addr-format.js'
import type { HostObservation } from '../app-analyzer.js'

export type ArpKind = 'request' | 'reply' | 'gratuitous' | 'probe'

export interface ArpPacket {
  /** 1 = request, 2 = reply (others are decoded but `kind` is undefined). */
  op: number
  /** request, reply; `gratuitous` when SPA = TPA (announcement), `probe` when SPA is 0.0.0.0. */
  kind: ArpKind | undefined
  sha: string
  spa: string
  tha: string
  tpa: string
}

export type ArpResult = { ok: true; arp: ArpPacket } | { ok: false; bad: string }

const ipv4 = (b: Uint8Array, o: number): string => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`

/** Decodes the ARP packet starting at `off` in `frame`. */
export function analyzeArp(frame: Uint8Array, off: number): ArpResult {
  if (off < 0 || frame.length - off < 8) return { ok: false, bad: 'truncated_ARP' }
  const htype = (frame[off]! << 8) | frame[off + 1]!
  const ptype = (frame[off + 2]! << 8) | frame[off + 3]!
  const hln = frame[off + 4]!
  const pln = frame[off + 5]!
  const op = (frame[off + 6]! << 8) | frame[off + 7]!
  if (htype !== 1 && htype !== 6) return { ok: false, bad: 'unknown_arp_hw_type' }
  if (ptype !== 0x0800 || hln !== 6 || pln !== 4) return { ok: false, bad: 'bad_arp_address_lengths' }
  if (frame.length - off < 28) return { ok: false, bad: 'truncated_ARP' }
  const sha = formatMac(frame, off + 8)
  const spa = ipv4(frame, off + 14)
  const tha = formatMac(frame, off + 18)
  const tpa = ipv4(frame, off + 24)
  let kind: ArpKind | undefined
  if (op === 1 || op === 2) {
    if (spa === '0.0.0.0') kind = 'probe'
    else if (spa === tpa) kind = 'gratuitous'
    else kind = op === 1 ? 'request' : 'reply'
  }
  return { ok: true, arp: { op, kind, sha, spa, tha, tpa } }
}

export interface ArpPair { request: ArpPacket; reply: ArpPacket; requestTs: number; replyTs: number }

export interface ArpTrackerConfig {
  /** Requests remembered while waiting for a reply (oldest dropped first, counted). */
  maxPending: number
  /** A reply later than this after its request is not paired. */
  replyTimeoutSec: number
}

/**
 * Pairs who-has requests with is-at replies (request SPA/TPA = reply TPA/SPA) and emits one
 * host observation per sender that claims an address (requests, replies, announcements; not
 * probes, whose sender has no address yet). Counters: requests, replies, paired, unanswered
 * (expired or dropped requests), dropped (bound reached), bad.
 */
export class ArpTracker {
  readonly cfg: ArpTrackerConfig
  readonly counts = { requests: 0, replies: 0, paired: 0, unanswered: 0, dropped: 0, bad: 0 }
  private readonly pending = new Map<string, { arp: ArpPacket; ts: number }>()

  constructor(cfg: Partial<ArpTrackerConfig> = {}) {
    this.cfg = { maxPending: 4096, replyTimeoutSec: 5, ...cfg }
  }

  /** One ARP frame; returns the pair it completes, if any. */
  packet(frame: Uint8Array, off: number, ts: number, observe: (o: HostObservation) => void): ArpPair | undefined {
    const r = analyzeArp(frame, off)
    if (!r.ok) { this.counts.bad++; return undefined }
    const a = r.arp
    if (a.kind !== 'probe' && a.spa !== '0.0.0.0' && a.sha !== '00:00:00:00:00:00' && a.sha !== 'ff:ff:ff:ff:ff:ff') {
      observe({ ts, ip: a.spa, mac: a.sha })
    }
    if (a.op === 1) {
      this.counts.requests++
      const k = `${a.spa}>${a.tpa}`
      this.pending.delete(k)
      if (this.pending.size >= this.cfg.maxPending) {
        this.pending.delete(this.pending.keys().next().value as string)
        this.counts.dropped++
        this.counts.unanswered++
      }
      this.pending.set(k, { arp: a, ts })
      return undefined
    }
    if (a.op !== 2) return undefined
    this.counts.replies++
    const k = `${a.tpa}>${a.spa}`
    const req = this.pending.get(k)
    if (req === undefined) return undefined
    this.pending.delete(k)
    if (ts - req.ts > this.cfg.replyTimeoutSec) { this.counts.unanswered++; return undefined }
    this.counts.paired++
    return { request: req.arp, reply: a, requestTs: req.ts, replyTs: ts }
  }

  /** Forgets requests older than the reply timeout (counted as unanswered). */
  expire(now: number): void {
    for (const [k, p] of this.pending) {
      if (now - p.ts <= this.cfg.replyTimeoutSec) break
      this.pending.delete(k)
      this.counts.unanswered++
    }
  }

  get pendingRequests(): number { return this.pending.size }
}
