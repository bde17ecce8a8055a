import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from './atomic-write.js'

/**
 * Durable read positions, keyed by file fingerprint, one JSON file per source in the
 * state directory, replaced atomically. Positions are only ever advanced to offsets the
 * sink has acknowledged, so after a crash reading resumes exactly after the last
 * acknowledged line.
 */
export interface Checkpoint {
  path: string
  offset: number
  updatedAt: string
}

interface CheckpointFile {
  version: 1
  checkpoints: Record<string, Checkpoint>
}

export class CheckpointStore {
  private readonly file: string
  private map = new Map<string, Checkpoint>()
  private dirty = false

  constructor(stateDir: string, name: string) {
    this.file = join(stateDir, `${name}.checkpoints.json`)
  }

  get path(): string {
    return this.file
  }

  async load(): Promise<void> {
    let text: string
    try {
      text = await readFile(this.file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const parsed = JSON.parse(text) as CheckpointFile
    if (parsed.version !== 1 || typeof parsed.checkpoints !== 'object') throw new Error(`unknown checkpoint format in ${this.file}`)
    this.map = new Map(Object.entries(parsed.checkpoints))
  }

  get(fingerprint: string): Checkpoint | undefined {
    return this.map.get(fingerprint)
  }

  set(fingerprint: string, path: string, offset: number): void {
    const cur = this.map.get(fingerprint)
    if (cur && cur.offset === offset && cur.path === path) return
    this.map.set(fingerprint, { path, offset, updatedAt: new Date().toISOString() })
    this.dirty = true
  }

  delete(fingerprint: string): void {
    if (this.map.delete(fingerprint)) this.dirty = true
  }

  entries(): IterableIterator<[string, Checkpoint]> {
    return this.map.entries()
  }

  /** Writes when something changed; resolves once the new state is durable. */
  async flush(): Promise<boolean> {
    if (!this.dirty) return false
    this.dirty = false
    const body: CheckpointFile = { version: 1, checkpoints: Object.fromEntries(this.map) }
    await writeFileAtomic(this.file, `${JSON.stringify(body)}\n`)
    return true
  }
}
