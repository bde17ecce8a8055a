/**
 * Path helpers of Zeek's FTP scripts: build_path / compress_path (base/utils/paths.zeek and
 * util.cc normalize_path), extract_path for PWD replies, and the ftp:// URL of build_url_ftp.
 */
const ABSOLUTE = /^(\/|[A-Za-z]:[\\/])/

export function buildPath(dir: string, file: string): string {
  const sep = dir.endsWith('/') ? '' : '/'
  return ABSOLUTE.test(file) || dir === '' ? file : `${dir}${sep}${file}`
}

/** Zeek's normalize_path: drops empty and non-leading '.' components, folds 'x/..'. */
export function compressPath(path: string): string {
  if (!path.includes('/.') && !path.includes('//')) {
    return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
  }
  const comps = path.split('/')
  const out: string[] = []
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!
    if (c === '') continue
    if (c === '.' && i !== 0) continue
    out.push(c)
    if (c === '..' && out.length > 1) {
      const last = out[out.length - 2]!
      if (last === '/' || last === '.' || last === '..') continue
      out.splice(out.length - 2, 2)
    }
  }
  let res = path.startsWith('/') ? '/' : ''
  for (const c of out) res += c + '/'
  if (res.length > 1 && res.endsWith('/')) res = res.slice(0, -1)
  return res
}

export function buildPathCompressed(dir: string, file: string): string {
  return compressPath(buildPath(dir, file))
}

/** The first (quoted, else bare) absolute path in a reply, or ''. */
export function extractPath(input: string): string {
  const q = /"((?:\/|[A-Za-z]:[\\/])[^"]*)"/.exec(input)
  if (q) return q[1]!
  const d = /(?:\/|[A-Za-z]:[\\/])(?:[^" ]|\\ )*/.exec(input)
  return d ? d[0] : ''
}

export function addrToUri(a: string): string {
  return a.includes(':') ? `[${a}]` : a
}

export function buildUrlFtp(respH: string, cwd: string, arg: string): string {
  let p = buildPathCompressed(cwd, arg)
  if (p[0] !== '/') p = '/' + p
  return `ftp://${addrToUri(respH)}${p}`
}
