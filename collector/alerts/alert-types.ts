/** The alert record (stored as JSON under `al alert_id`, returned by the API as is). */
import type { AlertType, Severity } from '../detection/detection-types.js'

export type AlertStatus = 'open' | 'acknowledged' | 'resolved'
export const ALERT_STATUSES: readonly AlertStatus[] = ['open', 'acknowledged', 'resolved']

export interface AlertComment { at: string; by: string; text: string }
export interface AlertTransition { at: string; by: string; from: AlertStatus; to: AlertStatus }

export interface Alert {
  id: string
  type: AlertType
  /** Incident key within the type (what makes repeated evidence the same alert). */
  key: string
  severity: Severity
  score: number
  confidence: number
  /** MITRE ATT&CK technique id. */
  mitre: string
  src: string
  dst: string
  port: number
  /** Data time of the evidence (ISO 8601 and µs). */
  first_seen: string
  last_seen: string
  first_seen_us: number
  last_seen_us: number
  count: number
  summary: string
  evidence: {
    flow_uids: string[]
    community_ids: string[]
    event_ids: string[]
    intel_source?: string
    indicator?: string
    agents: string[]
  }
  /** True when part of the evidence period had capture loss or gaps (confidence lowered). */
  capture_loss: boolean
  status: AlertStatus
  assignee?: string
  comments: AlertComment[]
  transitions: AlertTransition[]
  created_at: string
  updated_at: string
}

export interface SuppressionRule {
  id: string
  type?: AlertType
  src?: string
  dst?: string
  port?: number
  comment: string
  expires_at: string
  created_by: string
  created_at: string
}

export const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 }

/** Allowed status changes: forward only (open → acknowledged → resolved, or open → resolved). */
export function transitionAllowed(from: AlertStatus, to: AlertStatus): boolean {
  return (from === 'open' && (to === 'acknowledged' || to === 'resolved')) || (from === 'acknowledged' && to === 'resolved')
}
