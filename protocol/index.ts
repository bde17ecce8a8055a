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

export { communityIdV1, communityIdV1Digest } from './community-id.js'

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
