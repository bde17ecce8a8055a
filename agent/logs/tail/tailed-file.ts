import type { FileHandle } from 'node:fs/promises'
import { LineFramer } from '../framing/line-framer.js'
import type { Fingerprint } from './fingerprint.js'

/** Per-file reading state inside a FileSource (one open descriptor per file identity). */
export class TailedFile {
  path: string
  readonly fh: FileHandle
  readonly dev: bigint
  readonly ino: bigint
  /** Identity once the head is readable (fingerprint.ts); null before and right after a truncation. */
  fingerprint: Fingerprint | null = null
  readonly framer: LineFramer
  /** Size at the last stat. */
  size = 0
  /** Last time data was read or the file was first seen. */
  lastGrowthMs: number
  /** The path no longer names this file (renamed away or deleted): read to the end, then close. */
  detached = false

  constructor(path: string, fh: FileHandle, dev: bigint, ino: bigint, maxLineBytes: number, nowMs: number) {
    this.path = path
    this.fh = fh
    this.dev = dev
    this.ino = ino
    this.framer = new LineFramer({ maxLineBytes })
    this.lastGrowthMs = nowMs
  }

  get identity(): string {
    return `${this.dev}:${this.ino}`
  }

  get lag(): number {
    return Math.max(0, this.size - this.framer.offset)
  }
}
