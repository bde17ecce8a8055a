import type { AppConnInfo } from '../app/app-analyzer.js'
import type { Conn } from './conn.js'

/** A live, read-only view of a connection's identity for analyzers (follows role flips). */
export class ConnView implements AppConnInfo {
  constructor(private readonly c: Conn) {}
  get uid(): string { return this.c.uid }
  get ts(): number { return this.c.startTime }
  get origH(): string { return this.c.origH }
  get origP(): number { return this.c.origP }
  get respH(): string { return this.c.respH }
  get respP(): number { return this.c.respP }
  get proto(): 'tcp' | 'udp' { return this.c.proto === 'udp' ? 'udp' : 'tcp' }
  get partial(): boolean { return this.c.tcp?.isPartial === true }
}
