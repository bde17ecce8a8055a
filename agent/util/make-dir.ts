import { mkdirSync, statSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * `mkdir -p` that fails instead of spinning. Node's recursive mkdir (sync and promise forms)
 * loops forever at 100 % CPU when the kernel answers ENOENT for a child of a directory that
 * exists, as procfs does: `replay --log-dir /proc/x` hung. Here a parent is created once and
 * a second ENOENT is the answer. (collector/util/make-dir.ts is its twin: the two packages
 * share no code but protocol/.)
 */
export function makeDirSync(dir: string, mode?: number): void {
  if (mkdirOnce(dir, mode)) return
  const parent = dirname(dir)
  if (parent === dir) throw Object.assign(new Error(`ENOENT: no such file or directory, mkdir '${dir}'`), { code: 'ENOENT' })
  makeDirSync(parent, mode)
  mkdirOnce(dir, mode, true)
}

/** True when `dir` now exists as a directory; false on ENOENT (unless final); throws otherwise. */
function mkdirOnce(dir: string, mode: number | undefined, final = false): boolean {
  try {
    mkdirSync(dir, { mode })
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return true
    if (code === 'ENOENT' && !final) return false
    throw err
  }
}
