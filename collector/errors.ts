/**
 * The collector's error catalogue: every error a client or operator can see has a stable
 * code here, its HTTP status and a default message saying what to do. Code branches on
 * `code`, never on the message. HTTP errors are JSON:
 *   { "statusCode": 413, "code": "COLLECTOR_ERR_BODY_TOO_LARGE", "error": "Payload Too Large", "message": "…" }
 */
import { STATUS_CODES } from 'node:http'

export const CollectorErrors = {
  // Ingest
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'ingest bodies must be Content-Type: application/x-protobuf' },
  UNSUPPORTED_ENCODING: { status: 415, message: 'Content-Encoding must be gzip or identity' },
  BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than the collector accepts' },
  DECOMPRESSED_TOO_LARGE: { status: 413, message: 'the body inflates to more than the collector accepts' },
  BAD_GZIP: { status: 400, message: 'the body is not valid gzip' },
  EMPTY_BODY: { status: 400, message: 'the request has no body' },
  MALFORMED_BATCH: { status: 400, message: 'the body is not a valid telltale.v1.Batch' },
  PROTOCOL_VERSION: { status: 400, message: 'protocol version mismatch' },
  BATCH_IDENTITY: { status: 400, message: 'the batch has no valid (epoch, seq)' },
  AGENT_MISMATCH: { status: 403, message: 'the batch names another agent than the credential it was sent with' },
  TOO_MANY_FLOWS: { status: 413, message: 'the batch holds more flows than the collector accepts in one batch' },
  // Credentials
  MISSING_CREDENTIAL: { status: 401, message: 'send a token in "Authorization: Bearer <token>"' },
  UNKNOWN_CREDENTIAL: { status: 401, message: 'the token is not known to this collector' },
  REVOKED_CREDENTIAL: { status: 403, message: 'the token was revoked' },
  EXPIRED_CREDENTIAL: { status: 401, message: 'the token has expired' },
  FORBIDDEN_ROLE: { status: 403, message: 'the token\'s role may not do this' },
  UNKNOWN_AGENT: { status: 401, message: 'the agent is not enrolled with this collector; enroll it again' },
  REVOKED_AGENT: { status: 403, message: 'the agent was revoked; enroll it again with a new enrollment token' },
  // Enrollment
  ENROLL_TOKEN_INVALID: { status: 401, message: 'the enrollment token is unknown, revoked or not an enrollment token' },
  ENROLL_TOKEN_EXPIRED: { status: 401, message: 'the enrollment token has expired; ask an admin for a new one' },
  ENROLL_TOKEN_EXHAUSTED: { status: 401, message: 'the enrollment token has reached its use limit; ask an admin for a new one' },
  ENROLL_CLONE: { status: 409, message: 'another agent is already enrolled with this machine id (a cloned machine?)' },
  // API (issue 6)
  RATE_LIMITED: { status: 429, message: 'too many requests with this token; wait and retry (see Retry-After)' },
  STREAM_FULL: { status: 503, message: 'too many live streams are open; close one or retry later' },
  // Alerts, intel, policy (issue 7)
  ALERT_TRANSITION: { status: 409, message: 'alerts move open → acknowledged → resolved only' },
  INTEL_FEED_INVALID: { status: 400, message: 'the intel feed could not be parsed' },
  POLICY_OFF: { status: 409, message: 'policy.mode is off; set it to learn to get a proposal' },
  // Generic
  BAD_REQUEST: { status: 400, message: 'the request is invalid' },
  NOT_FOUND: { status: 404, message: 'no such resource' },
  NOT_READY: { status: 503, message: 'the store is not open' },
  STORAGE_FULL: { status: 507, message: 'the collector\'s disk is full: nothing was stored; retry later (agents keep the batch in their spool)' },
  STORAGE_ERROR: { status: 503, message: 'the collector could not write to its store: nothing was stored; retry later' },
  INTERNAL: { status: 500, message: 'internal error; see the collector log' },
  CONFIG_INVALID: { status: 0, message: 'the configuration is invalid' },
  STORE_LOCKED: { status: 0, message: 'the data directory is in use by another process (a running collector?)' },
} as const

export type CollectorErrorName = keyof typeof CollectorErrors
export type CollectorErrorCode = `COLLECTOR_ERR_${CollectorErrorName}`

export function errorCode(name: CollectorErrorName): CollectorErrorCode {
  return `COLLECTOR_ERR_${name}`
}

export class CollectorError extends Error {
  readonly code: CollectorErrorCode
  readonly statusCode: number
  constructor(readonly errorName: CollectorErrorName, message?: string, options?: { cause?: unknown }) {
    super(message ?? CollectorErrors[errorName].message, options)
    this.name = 'CollectorError'
    this.code = errorCode(errorName)
    this.statusCode = CollectorErrors[errorName].status
  }
}

export interface ErrorBody { statusCode: number; code: string; error: string; message: string }

export function errorBody(err: CollectorError): ErrorBody {
  return { statusCode: err.statusCode, code: err.code, error: STATUS_CODES[err.statusCode] ?? 'Error', message: err.message }
}
