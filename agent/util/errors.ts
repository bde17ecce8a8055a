/**
 * The agent's error catalogue. Code branches on `code`, never on the message.
 * Every message says what happened and what to do about it.
 */
export const AgentErrorCode = {
  CAPTURE_NO_PERMISSION: 'AGENT_ERR_CAPTURE_NO_PERMISSION',
  CAPTURE_NO_SUCH_DEVICE: 'AGENT_ERR_CAPTURE_NO_SUCH_DEVICE',
  CAPTURE_BAD_FILTER: 'AGENT_ERR_CAPTURE_BAD_FILTER',
  CAPTURE_OPEN_FAILED: 'AGENT_ERR_CAPTURE_OPEN_FAILED',
  FILE_UNREADABLE: 'AGENT_ERR_FILE_UNREADABLE',
  FILE_NOT_A_CAPTURE: 'AGENT_ERR_FILE_NOT_A_CAPTURE',
  FILE_UNSUPPORTED_LINKTYPE: 'AGENT_ERR_FILE_UNSUPPORTED_LINKTYPE',
  OUTPUT_UNWRITABLE: 'AGENT_ERR_OUTPUT_UNWRITABLE',
  BAD_ARGUMENT: 'AGENT_ERR_BAD_ARGUMENT',
  CONFIG_INVALID: 'AGENT_ERR_CONFIG_INVALID',
  LOG_SOURCE_FAILED: 'AGENT_ERR_LOG_SOURCE_FAILED',
  /** `--filter` on files needs libpcap's compiler, reached through the tcpdump binary (docs/capture.md). */
  CAPTURE_FILTER_COMPILER_MISSING: 'AGENT_ERR_CAPTURE_FILTER_COMPILER_MISSING',
  /** The durable spool (LevelDB under the state directory) cannot be opened or written. */
  SPOOL_FAILED: 'AGENT_ERR_SPOOL_FAILED',
  /** Enrollment with the collector failed (bad token, unreachable, refused). */
  ENROLL_FAILED: 'AGENT_ERR_ENROLL_FAILED',
  /** No usable agent identity: not enrolled, unreadable, or made on another machine (clone). */
  IDENTITY_INVALID: 'AGENT_ERR_IDENTITY_INVALID',
  /** Shipping to the collector failed for good (parked batches, gave up waiting for acks). */
  SHIP_FAILED: 'AGENT_ERR_SHIP_FAILED',
  /** The status socket cannot be created (another agent on the same path, path too long, no permission). */
  STATUS_SOCKET_FAILED: 'AGENT_ERR_STATUS_SOCKET_FAILED',
} as const

export type AgentErrorCodeValue = (typeof AgentErrorCode)[keyof typeof AgentErrorCode]

export class AgentError extends Error {
  readonly code: AgentErrorCodeValue
  constructor(code: AgentErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'AgentError'
    this.code = code
  }
}

export function isAgentError(err: unknown): err is AgentError {
  return err instanceof AgentError
}
