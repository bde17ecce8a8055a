/**
 * Application-layer state of one connection: the analyzers attached to it, the bytes kept
 * for protocol detection, the TCP streams, and the services confirmed so far.
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppConnInfo, HostObservation } from './app-analyzer.js'
import { DpdBuffer } from './dpd-buffer.js'
import { TcpStream, type StreamTarget } from './tcp-stream.js'

/** One analyzer on one connection (the dispatcher's AttachedSlot, also its AppOutput). */
export interface AttachedAnalyzer {
  readonly factory: AppAnalyzerFactory
  analyzer: AppAnalyzer
  /** Violation or exception: gets nothing more, not even finish(). */
  readonly detached: boolean
  /** Analyzer said done(): gets no more data, still gets finish(). */
  readonly stopped: boolean
  detach(): void
}

/** Where a session's stream events go (the dispatcher). */
export interface SessionOwner {
  deliverTo(s: AppSession, isOrig: boolean, data: Buffer, ts: number): void
  gapTo(s: AppSession, isOrig: boolean, len: number): void
}

const NO_SERVICES: string[] = Object.freeze([]) as unknown as string[]

const NO_ANALYZERS: AttachedAnalyzer[] = Object.freeze([]) as unknown as AttachedAnalyzer[]

export class AppSession implements StreamTarget {
  /** Attached analyzers (a shared empty list until the first one). */
  analyzers: AttachedAnalyzer[] = NO_ANALYZERS
  /** Confirmed services (a shared empty array until the first one). */
  services: string[] = NO_SERVICES
  /** Bytes kept for detection; undefined once detection is over (or never needed). */
  dpd: DpdBuffer | undefined
  /** Detectors already tried (bit i = the dispatcher's detector i), so each is created at most once. */
  tried = 0
  /** Detectors whose "no" can no longer change, per direction (bit i as in `tried`). */
  settledOrig = 0
  settledResp = 0
  /** Analyzers attached and not detached or done (kept by the dispatcher, read per packet). */
  live = 0
  /** TCP byte streams, made on the first payload (an idle connection holds none). */
  streams: [TcpStream, TcpStream] | undefined = undefined
  closed = false
  /**
   * Every analyzer came from the port table at open (no expectation, detection or upgrade):
   * a new session attached by port is the same session, which is what parking needs.
   */
  portOnly = false
  /** Packet time of the data being delivered. */
  now = 0
  /** Set by flip(): stream i now feeds the other direction. */
  private flipped = false

  constructor(readonly conn: AppConnInfo, private readonly maxStreamBuffer: number, readonly tcp: boolean, private readonly owner: SessionOwner) {}

  get dpdDone(): boolean {
    return this.dpd === undefined
  }

  streamData(isOrig: boolean, data: Buffer): void {
    this.owner.deliverTo(this, this.flipped ? !isOrig : isOrig, data, this.now)
  }

  streamGap(isOrig: boolean, len: number): void {
    this.owner.gapTo(this, this.flipped ? !isOrig : isOrig, len)
  }

  /** The stream carrying the current originator's (isOrig) or responder's bytes. */
  stream(isOrig: boolean): TcpStream {
    const st = this.streams ??= [new TcpStream(this.maxStreamBuffer, true, this), new TcpStream(this.maxStreamBuffer, false, this)]
    return st[(isOrig !== this.flipped) ? 0 : 1]
  }

  /** Next relative sequence number the stream of `isOrig`'s bytes will deliver (0: none delivered yet). */
  streamNext(isOrig: boolean): number {
    const st = this.streams
    return st === undefined ? 0 : st[(isOrig !== this.flipped) ? 0 : 1].next
  }

  /** The connection's roles were flipped: the streams swap with them. */
  flip(): void {
    this.flipped = !this.flipped
    this.dpd?.flip()
    const o = this.settledOrig
    this.settledOrig = this.settledResp
    this.settledResp = o
  }

  addAnalyzer(a: AttachedAnalyzer): void {
    if (this.analyzers === NO_ANALYZERS) this.analyzers = [a]
    else this.analyzers.push(a)
  }

  addService(name: string): boolean {
    if (this.services.includes(name)) return false
    if (this.services === NO_SERVICES) this.services = [name]
    else this.services.push(name)
    return true
  }
}

export type ObservationSink = (obs: HostObservation, conn: AppConnInfo) => void
