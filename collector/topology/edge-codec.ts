/**
 * How an edge is stored in `ed edge_id` (storage/keys.ts): the key already names src, dst,
 * proto and port (edge_id = src 0x1f dst 0x1f proto 0x1f port), so the value is a JSON array
 * of the other fields only, last seen as a delta from first seen:
 *   [flows, bytes, packets, first_seen_us, last_seen_us − first_seen_us, duplicate_flows,
 *    degraded_flows, services, agents]
 * About a third of the bytes of the full record as JSON. Pure.
 */
import { EDGE_SEP, type EdgeRecord, type L4 } from './types.js'

type Stored = [number, number, number, number, number, number, number, string[], string[]]

export function encodeEdge(e: EdgeRecord): string {
  const v: Stored = [e.flows, e.bytes, e.packets, e.first_seen_us, e.last_seen_us - e.first_seen_us, e.duplicate_flows, e.degraded_flows, e.services, e.agents]
  return JSON.stringify(v)
}

const PROTOS = new Set<string>(['tcp', 'udp', 'icmp', 'other'])

/** The edge of a stored id and value; undefined when either is not what encodeEdge wrote. */
export function decodeEdge(id: string, json: string): EdgeRecord | undefined {
  const parts = id.split(EDGE_SEP)
  if (parts.length !== 4 || !PROTOS.has(parts[2]!)) return undefined
  let v: unknown
  try { v = JSON.parse(json) } catch { return undefined }
  if (!Array.isArray(v) || v.length !== 9) return undefined
  const [flows, bytes, packets, first, span, dup, degraded, services, agents] = v as Stored
  return {
    id, src: parts[0]!, dst: parts[1]!, proto: parts[2] as L4, port: Number(parts[3]), services, flows, bytes, packets,
    first_seen_us: first, last_seen_us: first + span, agents, duplicate_flows: dup, degraded_flows: degraded,
  }
}
