/**
 * All detectors over one merged, time-ordered stream. The engine owns no I/O: it is fed
 * decoded batches (or record views directly, as the bench does), calls every enabled
 * detector in time order, adjusts confidence for capture loss and hands findings to `emit`.
 * Detectors run on the collector's merged view, so evidence from several agents (several
 * segments) accumulates in the same detector state.
 */
import type { AgentStats, AppRecord, Gap, HostObservation, LogEvent } from '../../protocol/index.js'
import type { FlowRecord } from '../ingest/flow-decode.js'
import { PolicyDetector } from '../policy/policy-detector.js'
import type { PolicyConfig } from '../policy/policy-config.js'
import { ArpSpoofDetector } from './arp-spoof-detector.js'
import { BeaconingDetector } from './beaconing-detector.js'
import { BruteforceDetector } from './bruteforce-detector.js'
import { CaptureLossTracker } from './capture-loss.js'
import { CleartextCredentialsDetector } from './cleartext-credentials-detector.js'
import type { DetectionConfig } from './detection-config.js'
import type { DetectionAppRecord, DetectionEvent, DetectionFlow, DetectionObservation, Detector, Emit, Finding } from './detection-types.js'
import { DnsTunnelDetector } from './dns-tunnel-detector.js'
import { ExfiltrationDetector } from './exfiltration-detector.js'
import { IntelMatchDetector, type IntelLookup } from './intel-match-detector.js'
import { CidrSet, hasAddr } from './net-match.js'
import { NewDeviceDetector } from './new-device-detector.js'
import { appRecordView, eventView, flowView, observationView } from './record-views.js'
import { RogueDhcpDetector } from './rogue-dhcp-detector.js'
import { AddressScanDetector, PortScanDetector } from './scan-detector.js'

export interface EngineDeps {
  intel?: IntelLookup
  policy?: PolicyConfig
}

export interface DecodedBatch {
  agentId: string
  flows: readonly FlowRecord[]
  events: readonly LogEvent[]
  observations: readonly HostObservation[]
  gaps: readonly Gap[]
  /** Application-log rows (Batch.app_records); absent = none. */
  appRecords?: readonly AppRecord[]
  stats?: AgentStats | null
  /** Prefix for event ids when the event carries none ("n:index"). */
  batchRef?: string
}

type Rec = { t: 0; ts: number; v: DetectionFlow } | { t: 1; ts: number; v: DetectionEvent } | { t: 2; ts: number; v: DetectionObservation } | { t: 3; ts: number; v: DetectionAppRecord }

export class DetectionEngine {
  readonly detectors: Detector[] = []
  readonly loss: CaptureLossTracker
  readonly policy: PolicyDetector | undefined
  private readonly local: CidrSet
  private nowUs = 0
  private current: DetectionFlow | undefined
  private readonly flowDetectors: Detector[]
  private readonly eventDetectors: Detector[]
  private readonly obsDetectors: Detector[]
  private readonly appDetectors: Detector[]

  constructor(readonly cfg: DetectionConfig, deps: EngineDeps = {}) {
    this.local = new CidrSet(cfg.local_nets)
    this.loss = new CaptureLossTracker(cfg.capture_loss_confidence_factor)
    const isLocal = (f: DetectionFlow, side: 'orig' | 'resp'): boolean => {
      const flag = side === 'orig' ? f.localOrig : f.localResp
      if (flag !== undefined) return flag
      const v4 = side === 'orig' ? f.origV4 : f.respV4
      if (v4 >= 0) return this.local.hasV4(v4)
      const b = side === 'orig' ? f.origAddr : f.respAddr
      return b !== undefined ? hasAddr(this.local, b) : this.local.has(side === 'orig' ? f.origH : f.respH)
    }
    const max = cfg.max_keys
    const d = this.detectors
    if (cfg.port_scan.enabled) d.push(new PortScanDetector({ count: cfg.port_scan.ports, windowS: cfg.port_scan.window_s, slowCount: cfg.port_scan.slow_ports, slowWindowS: cfg.port_scan.slow_window_s }, max))
    if (cfg.address_scan.enabled) d.push(new AddressScanDetector({ count: cfg.address_scan.hosts, windowS: cfg.address_scan.window_s, slowCount: cfg.address_scan.slow_hosts, slowWindowS: cfg.address_scan.slow_window_s }, max))
    const b = cfg.bruteforce
    if (b.enabled) d.push(new BruteforceDetector({ failures: b.failures, windowS: b.window_s, authPorts: b.auth_ports, maxSessionS: b.max_session_s, maxSessionBytes: b.max_session_bytes }, max))
    const bc = cfg.beaconing
    if (bc.enabled) d.push(new BeaconingDetector({ minConnections: bc.min_connections, minSpanS: bc.min_span_s, maxJitter: bc.max_jitter, minIntervalS: bc.min_interval_s, minScore: bc.min_score, history: bc.history, ignorePorts: bc.ignore_ports, externalOnly: bc.external_only }, max, isLocal))
    const dn = cfg.dns_tunnel
    if (dn.enabled) d.push(new DnsTunnelDetector({ windowS: dn.window_s, minQueries: dn.min_queries, minQueryBytes: dn.min_query_bytes, minVolumeBytes: dn.min_volume_bytes, uniqueSubdomains: dn.unique_subdomains, longLabel: dn.long_label, entropy: dn.entropy, encodedLabels: dn.encoded_labels, txtQueries: dn.txt_queries }, max))
    const ex = cfg.exfiltration
    if (ex.enabled) d.push(new ExfiltrationDetector({ windowS: ex.window_s, absoluteBytes: ex.absolute_bytes, minBytes: ex.min_bytes, baselineFactor: ex.baseline_factor, baselineWindows: ex.baseline_windows }, max, isLocal))
    if (cfg.arp_spoof.enabled) d.push(new ArpSpoofDetector({ gateways: cfg.arp_spoof.gateways, rebindGraceS: cfg.arp_spoof.rebind_grace_s, useFlowMacs: cfg.arp_spoof.use_flow_macs }, max, isLocal))
    if (cfg.rogue_dhcp.enabled) d.push(new RogueDhcpDetector({ allowedServers: cfg.rogue_dhcp.allowed_servers, learningS: cfg.rogue_dhcp.learning_s }, max))
    const nd = cfg.new_device
    if (nd.enabled) d.push(new NewDeviceDetector({ learningS: nd.learning_s, maxDevices: nd.max_devices }, nd.watched_nets.length > 0 ? new CidrSet(nd.watched_nets) : this.local))
    const cc = cfg.cleartext_credentials
    if (cc.enabled) d.push(new CleartextCredentialsDetector({ ports: cc.ports, services: cc.services, minClientBytes: cc.min_client_bytes, httpBasicAuth: cc.http_basic_auth }))
    if (cfg.intel_match.enabled && deps.intel) d.push(new IntelMatchDetector(deps.intel, max))
    if (cfg.policy_violation.enabled && deps.policy && deps.policy.mode !== 'off') {
      this.policy = new PolicyDetector(deps.policy)
      d.push(this.policy)
    }
    this.flowDetectors = d.filter((x) => x.onFlow)
    this.eventDetectors = d.filter((x) => x.onEvent)
    this.obsDetectors = d.filter((x) => x.onObservation)
    this.appDetectors = d.filter((x) => x.onAppRecord)
  }

  /** Data time: the largest record time seen. */
  get now(): number { return this.nowUs }

  /** One decoded batch: loss bookkeeping, then every record in time order. */
  processBatch(b: DecodedBatch, emit: Emit): void {
    for (const g of b.gaps) if ((g.firstTsUs ?? 0) > 0) this.loss.addPeriod(b.agentId, g.firstTsUs, g.lastTsUs || g.firstTsUs)
    if (b.stats) {
      let dropped = 0
      for (const c of b.stats.capture) dropped += (c.dropped ?? 0) + (c.ifDropped ?? 0)
      this.loss.stats(b.agentId, b.stats.collectedAtUs, dropped)
    }
    const views: DetectionFlow[] = new Array<DetectionFlow>(b.flows.length)
    let flowsSorted = true
    for (let i = 0; i < b.flows.length; i++) {
      const v = flowView(b.agentId, b.flows[i]!)
      if (v.missedBytes > 0) this.loss.addPeriod(b.agentId, v.tsUs, v.endUs)
      if (i > 0 && v.tsUs < views[i - 1]!.tsUs) flowsSorted = false
      views[i] = v
    }
    // Flows only (the common batch): no wrapper per record.
    let recs: Rec[] | undefined
    const apps = b.appRecords ?? []
    if (apps.length > 0) {
      const logs = new Set<string>()
      for (const a of apps) logs.add(a.log)
      for (const d of this.detectors) d.appLogsOf?.(b.agentId, logs)
    }
    if (b.events.length === 0 && b.observations.length === 0 && apps.length === 0) {
      if (!flowsSorted) views.sort((x, y) => x.tsUs - y.tsUs)
    } else {
      recs = views.map((v) => ({ t: 0 as const, ts: v.tsUs, v }))
      b.events.forEach((e, i) => { const v = eventView(b.agentId, e, `${b.batchRef ?? b.agentId}:${i}`); recs!.push({ t: 1, ts: v.tsUs, v }) })
      for (const o of b.observations) { const v = observationView(b.agentId, o); recs.push({ t: 2, ts: v.tsUs, v }) }
      for (const a of apps) { const v = appRecordView(b.agentId, a); recs.push({ t: 3, ts: v.tsUs, v }) }
      recs.sort((x, y) => x.ts - y.ts)
    }
    const adj: Emit = (f: Finding) => {
      const cur = this.current
      if (cur !== undefined && f.evidence.flowUids?.includes(cur.uid) && f.evidence.communityIds === undefined) {
        const cid = cur.communityId()
        if (cid !== '') f.evidence.communityIds = [cid]
      }
      emit(this.loss.adjust(f))
    }
    if (recs === undefined) {
      for (const v of views) { this.current = v; this.flow(v, adj) }
    } else {
      for (const r of recs) {
        if (r.t === 0) { this.current = r.v; this.flow(r.v, adj) } else if (r.t === 1) for (const d of this.eventDetectors) d.onEvent!(r.v, adj)
        else if (r.t === 2) for (const d of this.obsDetectors) d.onObservation!(r.v, adj)
        else for (const d of this.appDetectors) d.onAppRecord!(r.v, adj)
        if (r.ts > this.nowUs) this.nowUs = r.ts
      }
    }
    this.current = undefined
    this.tick(adj)
  }

  /** One flow view through every flow detector (the bench's entry point). */
  flow(v: DetectionFlow, emit: Emit): void {
    for (const d of this.flowDetectors) d.onFlow!(v, emit)
    if (v.tsUs > this.nowUs) this.nowUs = v.tsUs
  }

  tick(emit: Emit): void {
    for (const d of this.detectors) d.tick?.(this.nowUs, emit)
  }

  stateSizes(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const d of this.detectors) out[d.name] = d.stateSize()
    return out
  }

  evictions(): number {
    let n = 0
    for (const d of this.detectors) n += d.evictions()
    return n
  }
}
