/**
 * Loads and validates the configuration (schema in config-schema.ts). Every problem is
 * reported, each with its key and where it came from (file and line, environment variable
 * or flag); nothing starts with an invalid configuration. The result is frozen.
 */
import { readFileSync } from 'node:fs'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml'

/** Aliases a config may expand (yaml's own default, named here: its error is a config problem). */
const YAML_MAX_ALIAS_COUNT = 100
import { semanticProblems } from './config-semantics.js'
import { tlsFileProblems } from '../../protocol/tls-files.js'
import { ConfigSchema, type CollectorConfig } from './config-schema.js'

export interface ConfigProblem {
  /** Dotted key ("ingest.max_body_bytes"); "" for the document itself. */
  key: string
  /** "FILE:LINE", "env TELLTALE_…", "flag --…" or "default". */
  source: string
  message: string
}

export interface ConfigSources {
  file?: string
  env?: NodeJS.ProcessEnv
  /** Values from command-line flags, by dotted key. */
  flags?: Record<string, unknown>
}

export type ConfigResult = { ok: true; config: Readonly<CollectorConfig> } | { ok: false; problems: ConfigProblem[] }

interface Leaf { path: string[]; type: string }

/** Every leaf key of the schema with its JSON type. */
function leaves(schema: TSchema, path: string[] = []): Leaf[] {
  const s = schema as { type?: string; properties?: Record<string, TSchema>; anyOf?: { type?: string }[] }
  if (s.type === 'object' && s.properties) return Object.entries(s.properties).flatMap(([k, v]) => leaves(v, [...path, k]))
  return [{ path, type: s.type ?? s.anyOf?.[0]?.type ?? 'string' }]
}

export const CONFIG_KEYS = leaves(ConfigSchema)
export const envName = (path: string[]): string => `TELLTALE_${path.join('_').toUpperCase()}`

function coerce(text: string, type: string): unknown {
  if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text
  if (type === 'array') return text.split(',').map((x) => x.trim()).filter((x) => x.length > 0)
  if (type === 'boolean') return /^(true|1|yes|on)$/i.test(text) ? true : /^(false|0|no|off)$/i.test(text) ? false : text
  return text
}

function setIn(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let o = obj
  for (const p of path.slice(0, -1)) {
    if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {}
    o = o[p] as Record<string, unknown>
  }
  o[path[path.length - 1]!] = value
}

export function loadConfig(src: ConfigSources): ConfigResult {
  const problems: ConfigProblem[] = []
  const origin = new Map<string, string>()
  let data: Record<string, unknown> = {}
  let lineOf: (path: string[]) => string = () => src.file ?? 'file'
  if (src.file !== undefined) {
    let text: string
    try {
      text = readFileSync(src.file, 'utf8')
    } catch (err) {
      return { ok: false, problems: [{ key: '', source: src.file, message: `cannot read the configuration file: ${(err as Error).message}` }] }
    }
    const lc = new LineCounter()
    const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true })
    for (const e of doc.errors) problems.push({ key: '', source: `${src.file}:${lc.linePos(e.pos[0]).line}`, message: e.message.split('\n')[0]! })
    if (problems.length > 0) return { ok: false, problems }
    let js: unknown
    try {
      js = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }) as unknown
    } catch (err) {
      // yaml refuses documents whose aliases expand without bound (a "billion laughs").
      return { ok: false, problems: [{ key: '', source: src.file, message: `${(err as Error).message} (a config has no need of that many aliases)` }] }
    }
    if (js !== null && js !== undefined && (typeof js !== 'object' || Array.isArray(js))) {
      return { ok: false, problems: [{ key: '', source: `${src.file}:1`, message: 'the configuration must be a mapping of keys to values' }] }
    }
    data = (js ?? {}) as Record<string, unknown>
    lineOf = (path) => {
      // The deepest node that exists on the path (an unknown key points at itself).
      for (let n = path.length; n > 0; n--) {
        const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number] } | undefined
        if (node && (isScalar(node) || isMap(node) || node.range)) {
          let off = node.range?.[0] ?? 0
          // For a key, point at the key's own line (the pair's key node).
          const parent = n > 1 ? doc.getIn(path.slice(0, n - 1), true) : doc.contents
          if (isMap(parent)) {
            const pair = parent.items.find((it) => isScalar(it.key) && it.key.value === path[n - 1])
            const kr = (pair?.key as { range?: [number, number] } | undefined)?.range
            if (kr) off = kr[0]
          }
          return `${src.file}:${lc.linePos(off).line}`
        }
      }
      return `${src.file}:1`
    }
  }
  const env = src.env ?? {}
  for (const leaf of CONFIG_KEYS) {
    const name = envName(leaf.path)
    const v = env[name]
    if (v !== undefined && v !== '') { setIn(data, leaf.path, coerce(v, leaf.type)); origin.set(leaf.path.join('.'), `env ${name}`) }
  }
  for (const [key, v] of Object.entries(src.flags ?? {})) {
    if (v === undefined) continue
    const leaf = CONFIG_KEYS.find((l) => l.path.join('.') === key)
    setIn(data, key.split('.'), typeof v === 'string' && leaf ? coerce(v, leaf.type) : v)
    origin.set(key, `flag --${key.replace(/_/g, '-').split('.').pop()!}`)
  }
  const withDefaults = Value.Default(ConfigSchema, Value.Clone(data)) as Record<string, unknown>
  for (const e of Value.Errors(ConfigSchema, withDefaults)) {
    const path = e.path.split('/').filter((p) => p.length > 0)
    const key = path.join('.')
    const source = origin.get(key) ?? (src.file !== undefined ? lineOf(path) : 'default')
    const message = e.type === 42 ? 'unknown key' : `${e.message}${e.schema.description ? ` (${String(e.schema.description)})` : ''}`
    problems.push({ key, source, message })
  }
  const cfg = withDefaults as CollectorConfig
  if (problems.length === 0 && cfg.ingest.max_body_bytes > cfg.ingest.max_decompressed_bytes) {
    problems.push({ key: 'ingest.max_body_bytes', source: origin.get('ingest.max_body_bytes') ?? (src.file !== undefined ? lineOf(['ingest', 'max_body_bytes']) : 'default'), message: 'must not be larger than ingest.max_decompressed_bytes' })
  }
  if (problems.length === 0) {
    const where = (path: string[]): string => origin.get(path.join('.')) ?? (src.file !== undefined ? lineOf(path) : 'default')
    const port = Number(/:(\d+)$/.exec(cfg.listen)?.[1])
    if (!(port >= 0 && port <= 65535)) problems.push({ key: 'listen', source: where(['listen']), message: `port ${port} is out of range (0-65535)` })
    const tls = cfg.tls
    if ((tls.cert_file === '') !== (tls.key_file === '')) {
      const missing = tls.cert_file === '' ? 'cert_file' : 'key_file'
      problems.push({ key: `tls.${missing}`, source: where(['tls', tls.cert_file === '' ? 'key_file' : 'cert_file']), message: `HTTPS needs both tls.cert_file and tls.key_file; tls.${missing} is not set` })
    }
    if (tls.client_ca_file !== '' && tls.cert_file === '') {
      problems.push({ key: 'tls.client_ca_file', source: where(['tls', 'client_ca_file']), message: 'mutual TLS needs HTTPS: set tls.cert_file and tls.key_file too' })
    }
    const pems: Parameters<typeof tlsFileProblems>[0] = {}
    for (const k of ['cert_file', 'key_file', 'client_ca_file'] as const) {
      const file = tls[k]
      if (file === '') continue
      try {
        const pem = readFileSync(file)
        pems[k === 'cert_file' ? 'cert' : k === 'key_file' ? 'key' : 'ca'] = { file, pem }
      } catch (err) {
        problems.push({ key: `tls.${k}`, source: where(['tls', k]), message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
      }
    }
    for (const p of tlsFileProblems(pems)) {
      const k = p.which === 'cert' ? 'cert_file' : p.which === 'key' ? 'key_file' : 'client_ca_file'
      problems.push({ key: `tls.${k}`, source: where(['tls', k]), message: p.message })
    }
    for (const p of semanticProblems(cfg)) problems.push({ key: p.path.join('.'), source: where(p.path), message: p.message })
  }
  if (problems.length > 0) return { ok: false, problems }
  return { ok: true, config: deepFreeze(cfg) }
}

function deepFreeze<T>(o: T): Readonly<T> {
  if (typeof o === 'object' && o !== null) for (const v of Object.values(o)) deepFreeze(v)
  return Object.freeze(o)
}

export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => `${p.source}: ${p.key === '' ? '' : `${p.key}: `}${p.message}`).join('\n')
}
