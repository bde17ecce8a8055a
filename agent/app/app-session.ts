/**
 * Application-layer state of one connection: the analyzers attached to it, the bytes kept
 * for protocol detection, the TCP streams, and the services confirmed so far.
 */
import type { AppAnalyzer, AppAnalyzerFactory, AppConnInfo, AppOutput, HostObservation } from './app-analyzer.js'
import { TcpStream } from './tcp-stream.js'

export interface AttachedAnalyzer {
  factory: AppAnalyzerFactory
  analyzer: AppAnalyzer
  out: AppOutput
  detached: boolean
}

export class AppSession {
  analyzers: AttachedAnalyzer[] = []
  services: string[] = []
  /** Chunks kept for detection (direction, bytes), in arrival order, until `dpdDone`. */
  dpdChunks: Array<{ isOrig: boolean; data: Buffer }> = []
  dpdBytes = [0, 0]
  dpdDone = false
  /** Factories already tried by detection, so each is created at most once. */
  tried = new Set<string>()
  streams: [TcpStream, TcpStream] | undefined
  closed = false

  constructor(readonly conn: AppConnInfo, maxStreamBuffer: number, tcp: boolean) {
    this.streams = tcp ? [new TcpStream(maxStreamBuffer), new TcpStream(maxStreamBuffer)] : undefined
  }

  /** The connection's roles were flipped: the streams swap with them. */
  flip(): void {
    if (this.streams) this.streams = [this.streams[1], this.streams[0]]
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
