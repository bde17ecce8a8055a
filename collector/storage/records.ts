/**
 * JSON records kept in the store (see keys.ts for where each lives). Times are ISO 8601 UTC
 * strings in records people read (tokens, agents, audit), integer µs in keys.
 */

export const TOKEN_ROLES = ['admin', 'analyst', 'viewer', 'agent', 'enroll'] as const
export type TokenRole = (typeof TOKEN_ROLES)[number]

/** An API token. The secret itself is never stored: the record lives under sha256(secret). */
export interface TokenRecord {
  /** Public id ("tok_…"), safe to log and to show in lists. */
  id: string
  role: TokenRole
  /** For role `agent`: the agent this credential belongs to. */
  agentId?: string
  createdAt: string
  /** Token id of whoever created it; "config" for TELLTALE_ADMIN_TOKEN, "cli" for the CLI. */
  createdBy: string
  /** Expiry; absent = never. */
  expiresAt?: string
  /** Use limit (role `enroll`); absent = unlimited. */
  maxUses?: number
  uses: number
  revokedAt?: string
  note?: string
  /** Role `enroll`: the site every agent enrolled with it belongs to (site-name.ts). */
  site?: string
}

/** An enrolled agent. */
export interface AgentRecord {
  id: string
  /** sha256 of the agent's machine id, as the agent sent it (the agent hashes it first). */
  machineIdHash: string
  /** sha256 of the nonce the agent generated at enrollment. */
  nonceHash: string
  /** Id of the agent's current credential (a `tk` token with role `agent`). */
  tokenId: string
  /** Id of the enrollment token used. */
  enrolledWith: string
  enrolledAt: string
  hostname?: string
  version?: string
  /**
   * The agent's site (site-name.ts): its private addresses are told apart from the same
   * addresses at other sites in the topology. From the enrollment token, or set by an admin.
   */
  site?: string
  revokedAt?: string
  lastSeenAt?: string
  /** The agent's clock minus the collector's at its last batch (ms; from the send-time header, includes the network delay). */
  clockOffsetMs?: number
  /** Last batch stored from this agent. */
  lastBatch?: { epoch: number; seq: number; n: number }
  /** Totals stored from this agent. */
  batches: number
  flows: number
  events: number
  observations: number
  /** App records (Batch.app_records); agent-store.ts fills 0 into records written before them. */
  appRecords: number
  /** Records the agent reported dropped (Gap.count summed per kind). */
  gapRecords: { flows: number; events: number; observations: number; appRecords: number }
}

/** Why an enrollment was refused while another agent holds the machine identity. */
export interface ConflictRecord {
  id: string
  at: string
  kind: 'clone'
  machineIdHash: string
  /** The agent already enrolled with this machine id. */
  existingAgentId: string
  /** sha256 of the nonce the refused request presented. */
  presentedNonceHash: string
  hostname?: string
  remoteAddress?: string
}

export interface AuditRecord {
  at: string
  /** Token id of the actor ("config" / "cli" for actions outside the API). */
  actor: string
  action: string
  target?: string
  details?: Record<string, unknown>
}

/** `bt` record: one stored batch. */
export interface BatchRecord {
  n: number
  agentId: string
  epoch: number
  seq: number
  receivedAtUs: number
  sentAtUs: number
  flows: number
  events: number
  observations: number
  gaps: number
  /** Absent in records written before app records were stored. */
  appRecords?: number
  flowMinTsUs?: number
  flowMaxTsUs?: number
  eventMinTsUs?: number
  observationMinTsUs?: number
  appMinTsUs?: number
  appMaxTsUs?: number
}

/** `fm` record: one flow segment's summary. */
export interface FlowMetaRecord {
  agentId: string
  count: number
  maxTsUs: number
}
