/**
 * The flow table's settings and contract: what the flow pipeline needs of a flow table (the
 * TypeScript FlowTable, or the WebAssembly core's), in a module of its own so that a run
 * that uses only one of them loads only that one.
 */
import type { AppDispatcher } from '../app/app-dispatcher.js'
import type { PacketInfo } from '../decode/packet-info.js'
import type { ConnRecord } from './conn-record.js'
import type { LocalNets } from './local-nets.js'

/** Zeek's TCP timing constants (init-bare.zeek defaults). */
export interface TcpTimers {
  attemptDelay: number // tcp_attempt_delay
  synTimeout: number // tcp_SYN_timeout
  sessionTimer: number // tcp_session_timer
  connectionLinger: number // tcp_connection_linger
  closeDelay: number // tcp_close_delay
  partialCloseDelay: number // tcp_partial_close_delay
  inactivityTimeout: number // tcp_inactivity_timeout
  handshakeInactivityTimeout: number // udp_inactivity_timeout, used until the handshake completes
}

export const ZEEK_TCP_TIMERS: TcpTimers = {
  attemptDelay: 5, synTimeout: 5, sessionTimer: 6, connectionLinger: 5, closeDelay: 5, partialCloseDelay: 3,
  inactivityTimeout: 300, handshakeInactivityTimeout: 60,
}

export interface FlowTableConfig {
  /** Hard cap on tracked connections (memory bound). */
  maxFlows: number
  udpInactivityTimeout: number
  icmpInactivityTimeout: number
  otherInactivityTimeout: number
  tcp: TcpTimers
  /** Seconds; > 0 emits interim records for long-lived flows (not Zeek behaviour, off for replay). */
  activeTimeout: number
  localNets: LocalNets
  /** Application-layer analysis; absent = flows only. */
  app?: AppDispatcher | undefined
  /**
   * Compute each record's Community ID (a SHA-1 per record). Off only when nothing reads it
   * (replay writing Zeek ASCII without the community_id column): records then carry ''.
   */
  communityId?: boolean
}

export const DEFAULT_FLOW_TABLE_CONFIG: Omit<FlowTableConfig, 'localNets'> = {
  maxFlows: 1_000_000,
  udpInactivityTimeout: 60,
  icmpInactivityTimeout: 60,
  otherInactivityTimeout: 60,
  tcp: ZEEK_TCP_TIMERS,
  activeTimeout: 0,
  communityId: true,
}

export type FlowTableCounter =
  | 'flows_created' | 'flows_emitted' | 'flows_evicted' | 'flows_interim' | 'flows_reused' | 'packets_tracked'

/** What the flow pipeline needs of a flow table (this one, or the WebAssembly core's: agent/flowcore/). */
export interface FlowTableLike {
  readonly size: number
  counters(): Record<FlowTableCounter, number>
  advance(t: number): void
  packet(info: PacketInfo, l4: number, t: number, iface: string, tunnelParent: string | undefined): { readonly uid: string } | undefined
  flushAll(): void
}

/** Builds the flow table a pipeline uses (FlowPipelineBase's default: FlowTable). */
export type FlowTableFactory = (cfg: FlowTableConfig, emit: (rec: ConnRecord) => void) => FlowTableLike

