/**
 * Application-layer state of one connection: the analyzers attached to it, the bytes kept
 * for protocol detection, the TCP streams, and the services confirmed so far.
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppConnInfo, AppOutput, HostObservation } from './app-analyzer.js'
import { TcpStream, type StreamTarget } from './tcp-stream.js'

export interface AttachedAnalyzer {
  factory: AppAnalyzerFactory
  analyzer: AppAnalyzer
  out: AppOutput
  detached: boolean
  /** Analyzer said done(): gets no more data, still gets finish(). */
  done: boolean
}

/** Where a session's stream events go (the dispatcher). */
export interface SessionOwner {
  deliverTo(s: AppSession, isOrig: boolean, data: Buffer, ts: number): void
  gapTo(s: AppSession, isOrig: boolean, len: number): void
}

export class AppSession implements StreamTarget {
  analyzers: AttachedAnalyzer[] = []
  services: string[] = []
  /** Chunks kept for detection (direction, bytes), in arrival order, until `dpdDone`. */
  dpdChunks: Array<{ isOrig: boolean; data: Buffer; ts: number }> = []
  dpdBytes = [0, 0]
  dpdDone = false
  /** Factories already tried by detection, so each is created at most once. */
  tried = new Set<string>()
  streams: [TcpStream, TcpStream] | undefined
  closed = false
  /** Packet time of the data being delivered. */
  now = 0
  /** Set by flip(): stream i now feeds the other direction. */
  private flipped = false

  constructor(readonly conn: AppConnInfo, maxStreamBuffer: number, tcp: boolean, private readonly owner: SessionOwner) {
    this.streams = tcp ? [new TcpStream(maxStreamBuffer, true, this), new TcpStream(maxStreamBuffer, false, this)] : undefined
  }

  streamData(isOrig: boolean, data: Buffer): void {
    this.owner.deliverTo(this, this.flipped ? !isOrig : isOrig, data, this.now)
  }

  streamGap(isOrig: boolean, len: number): void {
    this.owner.gapTo(this, this.flipped ? !isOrig : isOrig, len)
  }

  /** The stream carrying the current originator's (isOrig) or responder's bytes. */
  stream(isOrig: boolean): TcpStream {
    return this.streams![(isOrig !== this.flipped) ? 0 : 1]
  }

  /** The connection's roles were flipped: the streams swap with them. */
  flip(): void {
    this.flipped = !this.flipped
    for (const c of this.dpdChunks) c.isOrig = !c.isOrig
    this.dpdBytes = [this.dpdBytes[1]!, this.dpdBytes[0]!]
  }

  addService(name: string): boolean {
    if (this.services.includes(name)) return false
    this.services.push(name)
    return true
  }
}

export type ObservationSink = (obs: HostObservation, conn: AppConnInfo) => void
