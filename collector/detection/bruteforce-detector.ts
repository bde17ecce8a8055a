/**
 * `bruteforce`: many failed authentication attempts from one source. Two kinds of evidence,
 * merged into one incident per source:
 *   * flows: short sessions to an authentication port (SSH, FTP, telnet, RDP, POP3, IMAP,
 *     SMB, VNC) that completed the handshake but carried little data — what a rejected
 *     login looks like on the wire (Zeek's SSH heuristics work from the same sizes);
 *   * log events: sshd (or any authentication log) failures with a source address.
 * Both count the same attempts, so the incident's failure count is the larger of the two
 * within the window (Zeek default: 30 failures in 30 min).
 */
import { BoundedMap } from './bounded-map.js'
import type { DetectionEvent, DetectionFlow, Detector, Emit } from './detection-types.js'
import { MITRE } from './detection-types.js'
import { isEstablished } from './failed-attempt.js'

export interface BruteforceConfig {
  failures: number
  windowS: number
  authPorts: readonly number[]
  maxSessionS: number
  maxSessionBytes: number
}

interface BfState {
  flowTimes: number[]
  eventTimes: number[]
  fired: boolean
  reported: number
  lastTotal: number
  flowTotal: number
  eventTotal: number
  dst: string
  port: number
  firstUs: number
  lastUs: number
  uids: string[]
  eventIds: string[]
  agents: Set<string>
}

export class BruteforceDetector implements Detector {
  readonly name = 'bruteforce'
  private readonly keys: BoundedMap<string, BfState>
  private readonly ports: Set<number>

  constructor(private readonly c: BruteforceConfig, maxKeys: number) {
    this.keys = new BoundedMap(maxKeys)
    this.ports = new Set(c.authPorts)
  }

  private state(src: string): BfState {
    let st = this.keys.touch(src)
    if (st === undefined) {
      st = { flowTimes: [], eventTimes: [], fired: false, reported: 0, lastTotal: 0, flowTotal: 0, eventTotal: 0, dst: '', port: 0, firstUs: 0, lastUs: 0, uids: [], eventIds: [], agents: new Set() }
      this.keys.set(src, st)
    }
    return st
  }

  onFlow(f: DetectionFlow, emit: Emit): void {
    if (!this.ports.has(f.respP) || !isEstablished(f)) return
    if (f.durationUs > this.c.maxSessionS * 1e6 || f.origBytes + f.respBytes > this.c.maxSessionBytes || f.origBytes === 0) return
    const st = this.state(f.origH)
    if (st.dst === '') { st.dst = f.respH; st.port = f.respP }
    push(st.flowTimes, f.tsUs, this.c.failures)
    st.flowTotal++
    if (st.uids.length < 20) st.uids.push(f.uid)
    st.agents.add(f.agentId)
    this.update(f.origH, st, f.tsUs, emit, { flowUids: [f.uid] })
  }

  onEvent(e: DetectionEvent, emit: Emit): void {
    if (e.outcome !== 'failure' || e.sourceIp === '') return
    if (!e.category.includes('authentication')) return
    // One line per attempt: sshd's "Failed …" / "Invalid user …" (not the disconnect lines).
    if (!(e.action.startsWith('failed') || e.action === 'invalid_user')) return
    const st = this.state(e.sourceIp)
    if (st.dst === '' && e.destinationIp !== '') { st.dst = e.destinationIp; st.port = e.destinationPort }
    push(st.eventTimes, e.tsUs, this.c.failures)
    st.eventTotal++
    if (st.eventIds.length < 20) st.eventIds.push(e.eventId)
    st.agents.add(e.agentId)
    this.update(e.sourceIp, st, e.tsUs, emit, { eventIds: [e.eventId] })
  }

  private update(src: string, st: BfState, ts: number, emit: Emit, ev: { flowUids?: string[]; eventIds?: string[] }): void {
    if (st.firstUs === 0 || ts < st.firstUs) st.firstUs = ts
    if (ts > st.lastUs) st.lastUs = ts
    const total = Math.max(st.flowTotal, st.eventTotal)
    if (!st.fired) {
      const cut = ts - this.c.windowS * 1e6
      const n = Math.max(inWindow(st.flowTimes, cut), inWindow(st.eventTimes, cut))
      if (n < this.c.failures) return
      st.fired = true
      st.reported = n
      st.lastTotal = total
      emit(this.finding(src, st, n, { flowUids: st.uids.slice(), eventIds: st.eventIds.slice() }))
      return
    }
    // After the alert: the larger evidence kind drives the count; the other adds evidence.
    const delta = total - st.lastTotal
    st.lastTotal = total
    st.reported += delta
    emit(this.finding(src, st, delta, ev))
  }

  private finding(src: string, st: BfState, count: number, evidence: { flowUids?: string[]; eventIds?: string[] }) {
    const kinds = `${st.flowTotal > 0 ? 'short failed sessions' : ''}${st.flowTotal > 0 && st.eventTotal > 0 ? ' and ' : ''}${st.eventTotal > 0 ? 'failed-login log events' : ''}`
    return {
      type: 'bruteforce' as const, key: src, severity: 'high' as const, score: Math.min(100, 50 + st.reported),
      confidence: st.flowTotal > 0 && st.eventTotal > 0 ? 0.95 : 0.8, mitre: MITRE.bruteforce,
      src, dst: st.dst, port: st.port, firstSeenUs: st.firstUs, lastSeenUs: st.lastUs, count,
      summary: `${src} made ${st.reported} failed authentication attempts${st.dst ? ` against ${st.dst}` : ''} (${kinds})`,
      evidence, agents: [...st.agents],
    }
  }

  tick(nowUs: number): void {
    const cut = nowUs - this.c.windowS * 1e6
    this.keys.expireWhile((s) => s.lastUs < cut)
  }

  stateSize(): number { return this.keys.size }
  evictions(): number { return this.keys.evicted }
}

/** Appends a time, keeping at most 4 × limit (oldest dropped). */
function push(times: number[], ts: number, limit: number): void {
  times.push(ts)
  if (times.length > limit * 4) times.splice(0, times.length - limit * 4)
}

function inWindow(times: number[], cut: number): number {
  let n = 0
  for (let i = times.length - 1; i >= 0; i--) if (times[i]! >= cut) n++
  return n
}
