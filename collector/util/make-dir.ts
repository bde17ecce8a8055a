import { mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * `mkdir -p` for the data directory that fails instead of spinning: Node's recursive mkdir
 * loops forever when the kernel answers ENOENT for a child of an existing directory (procfs:
 * `serve --data-dir /proc/x` hung at 100 % CPU). Each missing parent is made once, top down;
 * any error, a second ENOENT included, is thrown. (Twin of agent/util/make-dir.ts.)
 */
export function makeDataDir(dir: string, mode: number): void {
  const missing: string[] = []
  for (let d = dir; !isDir(d); d = dirname(d)) {
    missing.push(d)
    if (dirname(d) === d) break
  }
  for (let i = missing.length - 1; i >= 0; i--) mkdirSync(missing[i]!, { mode })
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
