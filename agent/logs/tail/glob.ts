import { readdir, stat } from 'node:fs/promises'
import { isAbsolute, join, resolve, sep } from 'node:path'

/**
 * Minimal path glob for log sources: `*` and `?` within one path component, `[abc]`
 * classes, and `**` for any depth (bounded). Absolute or relative to `cwd`. Returns
 * regular-file paths only, sorted. Compressed rotations are filtered by the caller.
 */
const MAX_DEPTH = 8

function segmentRegex(seg: string): RegExp {
  let re = '^'
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const e = seg.indexOf(']', i + 1)
      if (e === -1) { re += '\\['; continue }
      re += `[${seg.slice(i + 1, e).replace(/\\/g, '\\\\')}]`
      i = e
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`${re}$`)
}

function hasMagic(seg: string): boolean {
  return /[*?[]/.test(seg)
}

export async function expandGlob(pattern: string, cwd = process.cwd()): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(cwd, pattern)
  const parts = abs.split(sep)
  let base = parts[0] === '' ? sep : parts[0]!
  let i = 1
  while (i < parts.length && !hasMagic(parts[i]!)) {
    base = join(base, parts[i]!)
    i++
  }
  if (i === parts.length) {
    try {
      return (await stat(abs)).isFile() ? [abs] : []
    } catch {
      return []
    }
  }
  const out: string[] = []
  await walk(base, parts.slice(i), 0, out)
  return [...new Set(out)].sort()
}

async function walk(dir: string, rest: string[], depth: number, out: string[]): Promise<void> {
  if (rest.length === 0) {
    out.push(dir)
    return
  }
  if (depth > MAX_DEPTH) return
  const [seg, ...tail] = rest
  let entries
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return
  }
  if (seg === '**') {
    await walk(dir, tail, depth + 1, out)
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), rest, depth + 1, out)
    return
  }
  const re = segmentRegex(seg!)
  for (const e of entries) {
    if (!re.test(e.name)) continue
    const p = join(dir, e.name)
    if (tail.length === 0) { if (e.isFile()) out.push(p) } else if (e.isDirectory()) await walk(p, tail, depth + 1, out)
  }
}

/** Rotated-and-compressed files are never read (their content was read before compression). */
export function isCompressedRotation(path: string): boolean {
  return /\.(gz|bz2|xz|zst|lz4|zip)$/i.test(path)
}
