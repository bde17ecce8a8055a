/**
 * Incremental protobuf encoding of a Batch. Records are encoded the moment they are added
 * (each as one length-delimited field of the Batch message), so the batcher always knows
 * the exact encoded size and holds bytes, not objects. The identity fields (version,
 * agent id, epoch, seq, send time), stats, inventory and gaps are encoded last, when the
 * spool numbers the batch: protobuf fields may come in any order, so body + header is one
 * valid Batch message (test/ship-batcher.test.ts decodes it with Batch.decode).
 */
import {
  AgentStats, AppRecord, deflateFlowRuns, Flow, flowChunkEntries, FLOWS_PER_CHUNK, Gap, HostObservation, Inventory, LogEvent, PROTOCOL_VERSION, Writer,
} from '../../protocol/index.js'
import type {
  AgentStatsProperties, AppRecordProperties, FlowProperties, GapProperties, HostObservationProperties, InventoryProperties, LogEventProperties,
} from '../../protocol/index.js'

/** Tags (field number << 3 | wire type) of Batch's fields, as in protocol/telltale/v1/batch.proto. */
const TAG_PROTOCOL_VERSION = (1 << 3) | 0
const TAG_AGENT_ID = (2 << 3) | 2
const TAG_EPOCH = (3 << 3) | 0
const TAG_SEQ = (4 << 3) | 0
const TAG_SENT_AT_US = (5 << 3) | 0
const TAG_FLOWS = (6 << 3) | 2
const TAG_EVENTS = (7 << 3) | 2
const TAG_HOST_OBSERVATIONS = (8 << 3) | 2
const TAG_INVENTORY = (9 << 3) | 2
const TAG_STATS = (10 << 3) | 2
const TAG_GAPS = (11 << 3) | 2
const TAG_APP_RECORDS = (12 << 3) | 2

/** What a batch holds, for gap accounting when it is dropped. Times in µs; 0 = none. */
export interface BatchContents {
  flows: number
  events: number
  observations: number
  appRecords: number
  firstFlowUs: number
  lastFlowUs: number
  firstEventUs: number
  lastEventUs: number
  firstObservationUs: number
  lastObservationUs: number
  firstAppRecordUs: number
  lastAppRecordUs: number
}

export function emptyContents(): BatchContents {
  return {
    flows: 0, events: 0, observations: 0, appRecords: 0, firstFlowUs: 0, lastFlowUs: 0, firstEventUs: 0, lastEventUs: 0,
    firstObservationUs: 0, lastObservationUs: 0, firstAppRecordUs: 0, lastAppRecordUs: 0,
  }
}

/** Contents as stored by an older agent (no app-record fields): the missing counts are 0. */
export function normalizeContents(c: Partial<BatchContents> | undefined): BatchContents {
  return { ...emptyContents(), ...c }
}

function widen(first: number, last: number, t: number): [number, number] {
  if (t === 0) return [first, last]
  return [first === 0 || t < first ? t : first, t > last ? t : last]
}

/** A batch's records, encoded: what the spool seals (header) and compresses. */
export interface BatchBody {
  /**
   * The flows as `flows = 6` entries in runs of FLOWS_PER_CHUNK (the last may be shorter):
   * each run becomes one `flow_chunks` entry when the batch is sealed (compressFlowRuns).
   */
  flowRuns: Uint8Array[]
  /** Every other record (events, observations, app records, inventory) as Batch fields. */
  records: Uint8Array
  /** flowRuns' and records' bytes together. */
  length: number
}

/** The body of one batch under construction: the repeated records. */
export class BatchBodyWriter {
  private w = Writer.create()
  /** Flows of the run being filled (cut every FLOWS_PER_CHUNK flows). */
  private fw = Writer.create()
  private runs: Uint8Array[] = []
  private runBytes = 0
  readonly contents: BatchContents = emptyContents()
  /** Encoded bytes so far, before compression (exact). */
  get bytes(): number {
    return this.w.len + this.fw.len + this.runBytes
  }

  get items(): number {
    return this.contents.flows + this.contents.events + this.contents.observations + this.contents.appRecords
  }

  addFlow(flow: FlowProperties): void {
    Flow.encode(flow, this.fw.uint32(TAG_FLOWS).fork()).ldelim()
    const c = this.contents
    c.flows++;
    [c.firstFlowUs, c.lastFlowUs] = widen(c.firstFlowUs, c.lastFlowUs, flow.tsUs ?? 0)
    if (c.flows % FLOWS_PER_CHUNK === 0) this.cutRun()
  }

  private cutRun(): void {
    const run = this.fw.finish()
    this.fw = Writer.create()
    this.runs.push(run)
    this.runBytes += run.length
  }

  addEvent(ev: LogEventProperties, timeUs: number): void {
    LogEvent.encode(ev, this.w.uint32(TAG_EVENTS).fork()).ldelim()
    const c = this.contents
    c.events++;
    [c.firstEventUs, c.lastEventUs] = widen(c.firstEventUs, c.lastEventUs, timeUs)
  }

  addObservation(obs: HostObservationProperties): void {
    HostObservation.encode(obs, this.w.uint32(TAG_HOST_OBSERVATIONS).fork()).ldelim()
    const c = this.contents
    c.observations++;
    [c.firstObservationUs, c.lastObservationUs] = widen(c.firstObservationUs, c.lastObservationUs, obs.tsUs ?? 0)
  }

  addAppRecord(rec: AppRecordProperties): void {
    AppRecord.encode(rec, this.w.uint32(TAG_APP_RECORDS).fork()).ldelim()
    const c = this.contents
    c.appRecords++;
    [c.firstAppRecordUs, c.lastAppRecordUs] = widen(c.firstAppRecordUs, c.lastAppRecordUs, rec.tsUs ?? 0)
  }

  addInventory(inv: InventoryProperties): void {
    Inventory.encode(inv, this.w.uint32(TAG_INVENTORY).fork()).ldelim()
  }

  /** The body; the writer is empty afterwards. */
  finish(): BatchBody {
    if (this.fw.len > 0) this.cutRun()
    const body: BatchBody = { flowRuns: this.runs, records: this.w.finish(), length: 0 }
    body.length = this.runBytes + body.records.length
    this.w = Writer.create()
    this.runs = []
    this.runBytes = 0
    return body
  }
}

export interface BatchHeaderFields {
  agentId: string
  epoch: number
  seq: number
  sentAtUs: number
  stats?: AgentStatsProperties
  gaps: readonly GapProperties[]
}

/** The identity fields, stats and gaps of a batch, to be appended to its body. */
export function encodeBatchHeader(h: BatchHeaderFields): Uint8Array {
  const w = Writer.create()
  w.uint32(TAG_PROTOCOL_VERSION).uint32(PROTOCOL_VERSION)
  if (h.agentId !== '') w.uint32(TAG_AGENT_ID).string(h.agentId)
  w.uint32(TAG_EPOCH).uint64(h.epoch)
  w.uint32(TAG_SEQ).uint64(h.seq)
  w.uint32(TAG_SENT_AT_US).int64(h.sentAtUs)
  if (h.stats) AgentStats.encode(h.stats, w.uint32(TAG_STATS).fork()).ldelim()
  for (const g of h.gaps) Gap.encode(g, w.uint32(TAG_GAPS).fork()).ldelim()
  return w.finish()
}

/**
 * The body's flow runs as `flow_chunks` entries: each run compressed with raw DEFLATE at
 * `level` on libuv's thread pool (protocol/flow-chunks.ts says why the agent compresses them).
 */
export async function compressFlowRuns(body: BatchBody, level: number): Promise<Buffer> {
  return body.flowRuns.length === 0 ? Buffer.alloc(0) : flowChunkEntries(await deflateFlowRuns(body.flowRuns, level))
}

/** header + the other records: the part of the Batch message that is compressed when sent (gzipShippedBody). */
export function joinRest(header: Uint8Array, body: BatchBody): Buffer {
  return Buffer.concat([header, body.records])
}
