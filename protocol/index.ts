/**
 * Public surface of the Telltale wire protocol (`telltale.v1`). Agent and collector import
 * protocol/ only through this file; protocol/ imports nothing else of ours.
 *
 * The message classes are generated from protocol/telltale/v1/*.proto by
 * scripts/protocol-gen.mjs (static protobufjs code, 64-bit integers as JS numbers — see
 * protobuf-runtime.ts). Each class has encode/decode, encodeDelimited/decodeDelimited,
 * verify, fromObject/toObject; unknown fields in the input are skipped on decode.
 */
import protobuf from './protobuf-runtime.js'
import { telltale as generated } from './generated/telltale-v1.js'
import type { telltale as Types } from './generated/telltale-v1.types.js'
import { communityIdV1 } from './community-id.js'

/** The protobuf package every message belongs to; a peer speaking another one is refused. */
export const PROTOCOL_PACKAGE = 'telltale.v1'

/** All generated telltale.v1 types (messages and enums), as one namespace. */
export const v1 = (generated as unknown as typeof Types).v1

/** A decoded (or constructible) flow message. */
export type Flow = Types.v1.Flow
/** The plain-object shape accepted by `Flow.encode` / `Flow.create`. */
export type FlowProperties = Types.v1.Flow.$Properties
export const Flow = v1.Flow

export type Transport = Types.v1.Transport
export const Transport = v1.Transport
export type ConnState = Types.v1.ConnState
export const ConnState = v1.ConnState
export type FlowReason = Types.v1.FlowReason
export const FlowReason = v1.FlowReason

export { communityIdV1, communityIdV1Digest, communityIdV1Input } from './community-id.js'
export {
  FLOWS_PER_CHUNK, BATCH_FLOWS_TAG, BATCH_FLOW_CHUNKS_TAG, MIN_PROTOCOL_VERSION,
  flowRuns, deflateFlowRuns, deflateFlowRunsSync, flowChunkEntries, gzipShippedBody, gzipShippedBodySync, encodeShippedBatch, batchFlows, batchToV1,
} from './flow-chunks.js'

/** A flow's Community ID text ("1:…"): sent, or recomputed when the sender left it out; '' when none. */
export function flowCommunityId(flow: Pick<Flow, 'communityId' | 'communityIdDerived' | 'ipProto' | 'origH' | 'respH' | 'origP' | 'respP'>): string {
  if (flow.communityIdDerived) return communityIdV1(flow.ipProto, flow.origH, flow.respH, flow.origP, flow.respP) ?? ''
  const d = flow.communityId
  return d.length === 0 ? '' : `1:${Buffer.from(d.buffer, d.byteOffset, d.length).toString('base64')}`
}

/** protobufjs's writer/reader, bound to the same runtime as the generated code. */
export const Writer = protobuf.Writer
export const Reader = protobuf.Reader

/** Encodes one flow to its protobuf bytes. */
export function encodeFlow(flow: FlowProperties): Uint8Array {
  return Flow.encode(flow).finish()
}

/** Decodes one flow; throws (protobufjs's Error) on malformed bytes — callers at trust boundaries catch. */
export function decodeFlow(bytes: Uint8Array): Flow {
  return Flow.decode(bytes)
}

// ── Batches and acks (batch.proto, issue 5) ──────────────────────────────────────────────

/**
 * The wire protocol version this code writes: Batch.protocol_version and Ack.protocol_version.
 * Bumped only for a change an older peer would misread; a peer with a version it does not
 * read is refused with an error naming both. 2 (2026-12-08): Batch.flow_chunks
 * (flow-chunks.ts); a collector of this build reads versions MIN_PROTOCOL_VERSION (1) to 2.
 */
export const PROTOCOL_VERSION = 2

/** Media type of ingest bodies and acks. */
export const PROTOBUF_CONTENT_TYPE = 'application/x-protobuf'

/** The ingest route, relative to the collector's base URL. */
export const INGEST_PATH = '/api/v1/ingest'
/**
 * Request header with the agent's clock (µs since the Unix epoch) when it sends an ingest
 * request: the batch's own sent_at is its sealing time, which may be long before a send
 * from the spool. The collector derives the agent's clock offset from it.
 */
export const SENT_AT_HEADER = 'x-telltale-sent-at-us'

/** One agent batch (flows, events, host observations, inventory, stats, gaps). */
export type Batch = Types.v1.Batch
export type BatchProperties = Types.v1.Batch.$Properties
export const Batch = v1.Batch
/** Batch's first fields only: decoding a Batch's bytes with it skips the payload. */
export type BatchHeader = Types.v1.BatchHeader
export const BatchHeader = v1.BatchHeader
/** The collector's answer once a batch is durable. */
export type Ack = Types.v1.Ack
export type AckProperties = Types.v1.Ack.$Properties
export const Ack = v1.Ack

export type Gap = Types.v1.Gap
export type GapProperties = Types.v1.Gap.$Properties
export const Gap = v1.Gap
export type GapKind = Types.v1.GapKind
export const GapKind = v1.GapKind
export type GapReason = Types.v1.GapReason
export const GapReason = v1.GapReason

export type HostObservation = Types.v1.HostObservation
export type HostObservationProperties = Types.v1.HostObservation.$Properties
export const HostObservation = v1.HostObservation
export type ServiceObservation = Types.v1.ServiceObservation
export const ServiceObservation = v1.ServiceObservation
export type NameSource = Types.v1.NameSource
export const NameSource = v1.NameSource
export type SoftwareRole = Types.v1.SoftwareRole
export const SoftwareRole = v1.SoftwareRole

export type Inventory = Types.v1.Inventory
export type InventoryProperties = Types.v1.Inventory.$Properties
export const Inventory = v1.Inventory
export type OsInfo = Types.v1.OsInfo
export type CpuInfo = Types.v1.CpuInfo
export type MemoryInfo = Types.v1.MemoryInfo
export type InterfaceInfo = Types.v1.InterfaceInfo
export type ListeningPort = Types.v1.ListeningPort

export type AgentStats = Types.v1.AgentStats
export type AgentStatsProperties = Types.v1.AgentStats.$Properties
export const AgentStats = v1.AgentStats
export type CaptureStats = Types.v1.CaptureStats

/** One application-log row (dns, http, ssl, x509, ssh, dhcp, ftp, …) as Zeek JSON plus its index keys (app.proto). */
export type AppRecord = Types.v1.AppRecord
export type AppRecordProperties = Types.v1.AppRecord.$Properties
export const AppRecord = v1.AppRecord

export type LogEvent = Types.v1.LogEvent
export type LogEventProperties = Types.v1.LogEvent.$Properties
export const LogEvent = v1.LogEvent

/** Encodes one batch to its protobuf bytes (not compressed). */
export function encodeBatch(batch: BatchProperties): Uint8Array {
  return Batch.encode(batch).finish()
}

/** Decodes one batch; throws (protobufjs's Error) on malformed bytes — callers at trust boundaries catch. */
export function decodeBatch(bytes: Uint8Array): Batch {
  return Batch.decode(bytes)
}

/** Encodes one ack. */
export function encodeAck(ack: AckProperties): Uint8Array {
  return Ack.encode(ack).finish()
}

/** Decodes one ack; throws on malformed bytes. */
export function decodeAck(bytes: Uint8Array): Ack {
  return Ack.decode(bytes)
}
