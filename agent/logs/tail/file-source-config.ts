import type { LogType } from '../parse/parse-line.js'

/** Configuration of one file log source (globs → events). Defaults in FILE_SOURCE_DEFAULTS. */
export interface FileSourceConfig {
  /** Names the checkpoint file in stateDir (`<name>.checkpoints.json`). */
  name: string
  /** Path globs (`*`, `?`, `[..]`, `**`); files appearing later are picked up. */
  include: string[]
  /** Globs excluded after expansion. Compressed rotations (*.gz …) are always excluded. */
  exclude: string[]
  stateDir: string
  type: LogType
  /** Year for year-less syslog dates (default: inferred from the clock). */
  year?: number
  /** Longer lines are cut here and marked `telltale.truncated`. */
  maxLineBytes: number
  /** A last line without newline is emitted after this long without growth. */
  partialLineTimeoutMs: number
  readChunkBytes: number
  /** Read-rate limit for the whole source, bytes per second (0 = unlimited). */
  maxBytesPerSecond: number
  pollIntervalMs: number
  globIntervalMs: number
  /** Events queued or handed out but unacknowledged; when reached, reading pauses. */
  queueCapacity: number
  /** The fingerprint checksums the first line, at most this many bytes. */
  fingerprintBytes: number
  /** A file renamed away or deleted is still read for this long after its last growth. */
  rotatedKeepMs: number
}

export const FILE_SOURCE_DEFAULTS: Omit<FileSourceConfig, 'name' | 'include' | 'stateDir'> = Object.freeze({
  exclude: [],
  type: 'auto',
  maxLineBytes: 64 * 1024,
  partialLineTimeoutMs: 2000,
  readChunkBytes: 64 * 1024,
  maxBytesPerSecond: 16 * 1024 * 1024,
  pollIntervalMs: 200,
  globIntervalMs: 1000,
  queueCapacity: 4096,
  fingerprintBytes: 256,
  rotatedKeepMs: 5000,
})

export function fileSourceConfig(c: Pick<FileSourceConfig, 'name' | 'include' | 'stateDir'> & Partial<FileSourceConfig>): FileSourceConfig {
  return Object.freeze({ ...FILE_SOURCE_DEFAULTS, ...c })
}
