/**
 * Speaks the collector's protocol version. Batches are spooled as version 2 (flows in
 * `flow_chunks`, protocol/flow-chunks.ts). A collector of an earlier build refuses them with
 * COLLECTOR_ERR_PROTOCOL_VERSION (it would otherwise ignore the chunks and lose the flows);
 * the batch is then converted to version 1 (chunks inflated into `flows` entries, gzipped
 * again) and sent once more, and every later batch is converted before it is sent, until an
 * ack says the collector speaks version 2 again (it was upgraded). Nothing is parked for a
 * version the agent can still write.
 */
import { promisify } from 'node:util'
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib'
import { batchToV1, PROTOCOL_VERSION } from '../../protocol/index.js'
import { Counters } from '../util/counters.js'
import type { Logger } from '../util/logger.js'
import type { BatchRequest, BatchTransport, SendResult } from './transport.js'

const gzip = promisify(gzipCb)
const gunzip = promisify(gunzipCb)

/** The collector's error code for a batch whose protocol version it does not read. */
export const PROTOCOL_VERSION_REFUSED = 'COLLECTOR_ERR_PROTOCOL_VERSION'

export type VersionFallbackCounter = 'version_fallback_converted_total' | 'version_fallback_unconvertible_total'

export class VersionFallbackTransport implements BatchTransport {
  readonly counters = new Counters<VersionFallbackCounter>()
  /** True while the collector is known to read version 1 only. */
  private v1 = false

  constructor(private readonly inner: BatchTransport, private readonly cfg: { gzipLevel: number }, private readonly deps: { log?: Logger } = {}) {}

  /** The protocol version batches are sent with now. */
  get sendingVersion(): number { return this.v1 ? 1 : PROTOCOL_VERSION }

  async send(req: BatchRequest, signal?: AbortSignal): Promise<SendResult> {
    if (!this.v1) {
      const r = await this.inner.send(req, signal)
      if (r.kind !== 'rejected' || r.code !== PROTOCOL_VERSION_REFUSED) return r
      this.v1 = true
      this.deps.log?.warn({ reason: r.reason }, `the collector reads protocol version 1 only: batches are converted to version 1 before they are sent (upgrade the collector to spare the agent this work)`)
    }
    const body = await this.toV1(req.body)
    if (body === undefined) {
      this.counters.inc('version_fallback_unconvertible_total')
      return { kind: 'rejected', status: 400, reason: 'the collector reads protocol version 1 only and this spooled batch could not be converted to it' }
    }
    this.counters.inc('version_fallback_converted_total')
    const r = await this.inner.send({ ...req, body }, signal)
    if (r.kind === 'ok' && r.ack.protocolVersion >= 2) {
      this.v1 = false
      this.deps.log?.info({ collectorVersion: r.ack.protocolVersion }, 'the collector reads protocol version 2 again: batches are sent as spooled')
    }
    return r
  }

  private async toV1(gz: Uint8Array): Promise<Buffer | undefined> {
    let raw: Buffer
    try {
      raw = await gunzip(gz)
    } catch {
      return undefined
    }
    const v1 = batchToV1(raw)
    return v1 === undefined ? undefined : gzip(v1, { level: this.cfg.gzipLevel })
  }
}
