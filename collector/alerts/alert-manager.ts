/**
 * Findings → alerts. One incident is one alert: a finding whose (type, key) matches an
 * alert that is not resolved updates it (count, last_seen, evidence, score/severity
 * maxima); otherwise a new alert opens. Suppression rules drop matching findings (counted).
 * Changes are written to the store in one level batch per call and announced on `events`
 * ('alert' with { kind: 'created' | 'updated' | 'status', alert }) for the SSE stream and
 * webhooks. All alerts are kept in memory (bounded by `max_alerts`; past it the oldest
 * resolved, then the oldest, are deleted and counted).
 */
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import type { Finding } from '../detection/detection-types.js'
import { CollectorError } from '../errors.js'
import type { CollectorStore, WriteOp } from '../storage/index.js'
import { Counters } from '../util/counters.js'
import { SEVERITY_RANK, transitionAllowed, type Alert, type AlertStatus, type SuppressionRule } from './alert-types.js'
import type { AlertsConfig } from './alerts-config.js'
import { suppressedBy } from './suppression.js'

export type AlertEventKind = 'created' | 'updated' | 'status'
export interface AlertEvent { kind: AlertEventKind; alert: Alert }

export type AlertCounter = 'alerts_created_total' | 'alerts_updated_total' | 'alerts_suppressed_total' | 'alerts_pruned_total' | 'alerts_expired_total' | 'alerts_write_errors_total'

export interface AlertQuery {
  type?: string
  severity?: string
  status?: string
  host?: string
  /** last_seen ≥ since and first_seen ≤ until (µs). */
  sinceUs?: number
  untilUs?: number
  limit?: number
}

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString()

export class AlertManager {
  readonly counters = new Counters<AlertCounter>()
  readonly events = new EventEmitter()
  private readonly alerts = new Map<string, Alert>()
  private readonly openByKey = new Map<string, string>()
  private readonly rules = new Map<string, SuppressionRule>()
  private seq = 0

  constructor(private readonly cfg: AlertsConfig, private readonly store: CollectorStore) {
    this.events.setMaxListeners(1000)
  }

  /** Loads alerts and suppression rules from the store. */
  async start(): Promise<void> {
    for await (const a of this.store.alerts.all<Alert>()) {
      this.alerts.set(a.id, a)
      if (a.status !== 'resolved') this.openByKey.set(`${a.type}|${a.key}`, a.id)
    }
    for await (const r of this.store.alerts.suppressions<SuppressionRule>()) this.rules.set(r.id, r)
  }

  get size(): number { return this.alerts.size }

  private newId(): string {
    return `al_${Date.now().toString(36).padStart(9, '0')}_${(this.seq++ % 1296).toString(36).padStart(2, '0')}${randomBytes(4).toString('hex')}`
  }

  /** Applies findings; resolves once the changed alerts are durable. */
  async apply(findings: readonly Finding[], nowMs = Date.now()): Promise<Alert[]> {
    if (findings.length === 0) return []
    const changed = new Map<string, AlertEventKind>()
    const rules = this.rules.size > 0 ? [...this.rules.values()] : []
    for (const f of findings) {
      if (rules.length > 0 && suppressedBy(rules, f, nowMs)) { this.counters.inc('alerts_suppressed_total'); continue }
      const k = `${f.type}|${f.key}`
      const id = this.openByKey.get(k)
      const a = id === undefined ? undefined : this.alerts.get(id)
      const lossy = f.lossy === true
      if (a === undefined) {
        const now = new Date(nowMs).toISOString()
        const alert: Alert = {
          id: this.newId(), type: f.type, key: f.key, severity: f.severity, score: f.score, confidence: f.confidence, mitre: f.mitre,
          src: f.src, dst: f.dst, port: f.port, first_seen: iso(f.firstSeenUs), last_seen: iso(f.lastSeenUs),
          first_seen_us: f.firstSeenUs, last_seen_us: f.lastSeenUs, count: Math.max(1, f.count), summary: f.summary,
          evidence: { flow_uids: [], community_ids: [], event_ids: [], agents: [] }, capture_loss: lossy,
          status: 'open', comments: [], transitions: [], created_at: now, updated_at: now,
        }
        this.addEvidence(alert, f)
        this.alerts.set(alert.id, alert)
        this.openByKey.set(k, alert.id)
        changed.set(alert.id, 'created')
        this.counters.inc('alerts_created_total')
        continue
      }
      a.count += f.count
      if (f.firstSeenUs < a.first_seen_us) { a.first_seen_us = f.firstSeenUs; a.first_seen = iso(f.firstSeenUs) }
      if (f.lastSeenUs > a.last_seen_us) { a.last_seen_us = f.lastSeenUs; a.last_seen = iso(f.lastSeenUs) }
      if (f.score > a.score) a.score = f.score
      if (SEVERITY_RANK[f.severity] > SEVERITY_RANK[a.severity]) a.severity = f.severity
      if (f.confidence > 0) a.confidence = a.capture_loss ? Math.min(a.confidence, f.confidence) : f.confidence
      if (lossy) a.capture_loss = true
      if (a.dst === '' && f.dst !== '') a.dst = f.dst
      a.summary = f.summary
      this.addEvidence(a, f)
      a.updated_at = new Date(nowMs).toISOString()
      if (!changed.has(a.id)) changed.set(a.id, 'updated')
      this.counters.inc('alerts_updated_total')
    }
    const ops: WriteOp[] = []
    for (const id of changed.keys()) ops.push(this.store.alerts.putOp(id, this.alerts.get(id)))
    ops.push(...this.prune())
    try {
      await this.store.alerts.write(ops)
    } catch (err) {
      this.counters.inc('alerts_write_errors_total')
      throw err
    }
    const out: Alert[] = []
    for (const [id, kind] of changed) {
      const a = this.alerts.get(id)
      if (a === undefined) continue
      out.push(a)
      this.events.emit('alert', { kind, alert: a } satisfies AlertEvent)
    }
    return out
  }

  private addEvidence(a: Alert, f: Finding): void {
    const max = this.cfg.max_evidence
    const ev = f.evidence
    for (const u of ev.flowUids ?? []) if (a.evidence.flow_uids.length < max && u !== '' && !a.evidence.flow_uids.includes(u)) a.evidence.flow_uids.push(u)
    for (const c of ev.communityIds ?? []) if (a.evidence.community_ids.length < max && c !== '' && !a.evidence.community_ids.includes(c)) a.evidence.community_ids.push(c)
    for (const e of ev.eventIds ?? []) if (a.evidence.event_ids.length < max && !a.evidence.event_ids.includes(e)) a.evidence.event_ids.push(e)
    for (const g of f.agents) if (!a.evidence.agents.includes(g) && a.evidence.agents.length < 64) a.evidence.agents.push(g)
    if (ev.intelSource !== undefined) a.evidence.intel_source = ev.intelSource
    if (ev.indicator !== undefined) a.evidence.indicator = ev.indicator
  }

  /** Deletes the oldest alerts past max_alerts (resolved first). */
  private prune(): WriteOp[] {
    const over = this.alerts.size - this.cfg.max_alerts
    if (over <= 0) return []
    const ops: WriteOp[] = []
    const victims: Alert[] = []
    for (const a of this.alerts.values()) { if (victims.length >= over) break; if (a.status === 'resolved') victims.push(a) }
    if (victims.length < over) for (const a of this.alerts.values()) { if (victims.length >= over) break; if (a.status !== 'resolved') victims.push(a) }
    for (const a of victims) {
      this.alerts.delete(a.id)
      if (this.openByKey.get(`${a.type}|${a.key}`) === a.id) this.openByKey.delete(`${a.type}|${a.key}`)
      ops.push(this.store.alerts.delOp(a.id))
      this.counters.inc('alerts_pruned_total')
    }
    return ops
  }

  /**
   * Retention (retention.alerts_days): deletes every alert whose last activity — the newest
   * of its last evidence (`last_seen_us`) and its last change by an analyst or a detector
   * (`updated_at`) — is older than cutoffUs, whatever its status. Returns how many went.
   */
  async expire(cutoffUs: number): Promise<number> {
    const victims: Alert[] = []
    for (const a of this.alerts.values()) {
      const updatedUs = Date.parse(a.updated_at) * 1000
      if (Math.max(a.last_seen_us, Number.isFinite(updatedUs) ? updatedUs : 0) < cutoffUs) victims.push(a)
    }
    if (victims.length === 0) return 0
    await this.store.alerts.write(victims.map((a) => this.store.alerts.delOp(a.id)))
    for (const a of victims) {
      this.alerts.delete(a.id)
      if (this.openByKey.get(`${a.type}|${a.key}`) === a.id) this.openByKey.delete(`${a.type}|${a.key}`)
    }
    this.counters.inc('alerts_expired_total', victims.length)
    return victims.length
  }

  get(id: string): Alert | undefined { return this.alerts.get(id) }

  /** Newest first (by last_seen), filtered. */
  query(q: AlertQuery): Alert[] {
    const out: Alert[] = []
    for (const a of this.alerts.values()) {
      if (q.type !== undefined && a.type !== q.type) continue
      if (q.severity !== undefined && a.severity !== q.severity) continue
      if (q.status !== undefined && a.status !== q.status) continue
      if (q.host !== undefined && a.src !== q.host && a.dst !== q.host) continue
      if (q.sinceUs !== undefined && a.last_seen_us < q.sinceUs) continue
      if (q.untilUs !== undefined && a.first_seen_us > q.untilUs) continue
      out.push(a)
    }
    out.sort((x, y) => y.last_seen_us - x.last_seen_us || (x.id < y.id ? 1 : -1))
    return out.slice(0, q.limit ?? 100)
  }

  /** Status change, assignee and/or a comment (PATCH /api/v1/alerts/:id). */
  async patch(id: string, p: { status?: AlertStatus; assignee?: string; comment?: string }, by: string, nowMs = Date.now()): Promise<Alert> {
    const a = this.alerts.get(id)
    if (a === undefined) throw new CollectorError('NOT_FOUND', `no alert "${id}"`)
    const now = new Date(nowMs).toISOString()
    let statusChanged = false
    if (p.status !== undefined && p.status !== a.status) {
      if (!transitionAllowed(a.status, p.status)) throw new CollectorError('ALERT_TRANSITION', `an alert cannot go from ${a.status} to ${p.status} (open → acknowledged → resolved)`)
      a.transitions.push({ at: now, by, from: a.status, to: p.status })
      a.status = p.status
      statusChanged = true
      if (p.status === 'resolved' && this.openByKey.get(`${a.type}|${a.key}`) === a.id) this.openByKey.delete(`${a.type}|${a.key}`)
    }
    if (p.assignee !== undefined) a.assignee = p.assignee
    if (p.comment !== undefined && p.comment !== '') { if (a.comments.length < 500) a.comments.push({ at: now, by, text: p.comment }) }
    a.updated_at = now
    await this.store.alerts.write([this.store.alerts.putOp(a.id, a)])
    this.events.emit('alert', { kind: statusChanged ? 'status' : 'updated', alert: a } satisfies AlertEvent)
    return a
  }

  // ── Suppression rules ───────────────────────────────────────────────────────────────
  async addSuppression(r: Omit<SuppressionRule, 'id' | 'created_at'>, nowMs = Date.now()): Promise<SuppressionRule> {
    const rule: SuppressionRule = { ...r, id: `su_${nowMs.toString(36)}_${randomBytes(4).toString('hex')}`, created_at: new Date(nowMs).toISOString() }
    await this.store.alerts.putSuppression(rule.id, rule)
    this.rules.set(rule.id, rule)
    return rule
  }

  async deleteSuppression(id: string): Promise<boolean> {
    if (!this.rules.has(id)) return false
    await this.store.alerts.deleteSuppression(id)
    this.rules.delete(id)
    return true
  }

  /** Live rules (expired ones are deleted here). */
  async suppressions(nowMs = Date.now()): Promise<SuppressionRule[]> {
    for (const r of [...this.rules.values()]) if (Date.parse(r.expires_at) <= nowMs) await this.deleteSuppression(r.id)
    return [...this.rules.values()]
  }
}
