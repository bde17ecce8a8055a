/**
 * Loads the agent config: YAML file → overrides (env, flags) → schema defaults →
 * conversion of override strings → validation → deep freeze. Every problem is collected
 * (not just the first) with the key, where it came from (file:line, env var or flag) and
 * what was expected; `check-config` prints them all.
 */
import { readFileSync } from 'node:fs'
import type { TSchema } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import { AgentConfigSchema, type AgentConfig } from './agent-config-schema.js'
import { tlsFileProblems } from '../../protocol/tls-files.js'
import { semanticProblems } from './config-semantics.js'
import { envOverrides, flagOverrides, setPath, type Override } from './config-overrides.js'

export interface ConfigProblem {
  /** Dotted key ('ship.max_batch_bytes', 'logs.files.0.name'); '' for the whole document. */
  key: string
  /** 'agent.yaml:12' | 'environment variable TELLTALE_…' | 'flag --…' | 'agent.yaml' */
  where: string
  message: string
}

export interface LoadedConfig {
  config: Readonly<AgentConfig>
  problems: ConfigProblem[]
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv
  /** commander options (flag overrides). */
  flags?: Record<string, unknown>
  /** YAML text instead of reading `file` (tests). */
  text?: string
  /**
   * Also check what the values point at (TLS files, the capture filter with libpcap, URL,
   * networks, cron); default true. `status` only needs state_dir and skips them.
   */
  checkValues?: boolean
}

/** Aliases a config may expand (yaml's own default, named here: its error is a config problem). */
const YAML_MAX_ALIAS_COUNT = 100

/** Loads and validates; never throws for a bad config (see problems). Throws when the file cannot be read. */
export function loadConfig(file: string | undefined, opts: LoadOptions = {}): LoadedConfig {
  const problems: ConfigProblem[] = []
  let text = opts.text ?? ''
  if (file !== undefined && opts.text === undefined) {
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new AgentError(AgentErrorCode.CONFIG_INVALID, `cannot read config file ${file}: ${(err as Error).message}`, { cause: err })
    }
  }
  const name = file ?? '(no config file)'
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true })
  for (const e of doc.errors) {
    const line = e.linePos?.[0]?.line ?? lc.linePos(e.pos[0]).line
    problems.push({ key: '', where: line ? `${name}:${line}` : name, message: `YAML: ${e.message.split('\n')[0]}` })
  }
  let raw: unknown = {}
  if (doc.errors.length === 0) {
    try {
      raw = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT }) as unknown
    } catch (err) {
      // yaml refuses documents whose aliases expand without bound (a "billion laughs").
      problems.push({ key: '', where: name, message: `YAML: ${(err as Error).message} (a config has no need of that many aliases)` })
    }
  }
  if (raw === null || raw === undefined) raw = {}
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ key: '', where: name, message: 'the config must be a mapping of keys (e.g. `collector:`)' })
    raw = {}
  }
  const value = structuredClone(raw) as Record<string, unknown>
  const origins = new Map<string, string>()
  const overrides: Override[] = [...envOverrides(opts.env ?? process.env), ...flagOverrides(opts.flags ?? {})]
  for (const o of overrides) {
    setPath(value, o.key.path, o.value)
    origins.set(o.key.dotted, o.origin)
  }
  const withDefaults = Value.Default(AgentConfigSchema, value) as Record<string, unknown>
  const converted = Value.Convert(AgentConfigSchema, withDefaults) as Record<string, unknown>
  for (const e of Value.Errors(AgentConfigSchema, converted)) {
    const path = e.path.split('/').slice(1).map(unescapePointer)
    const key = path.join('.')
    // Report each key once (a union reports every branch).
    if (problems.some((p) => p.key === key)) continue
    const origin = originOf(key, origins)
    problems.push({ key, where: origin ?? lineOf(doc.contents as Node | null, path, lc, name), message: explain(e.message, e.schema as TSchema, e.value) })
  }
  if (problems.length === 0 && opts.checkValues !== false) {
    // Files the agent reads at start: caught here so check-config reports them with their line.
    const where = (path: string[]): string => originOf(path.join('.'), origins) ?? lineOf(doc.contents as Node | null, path, lc, name)
    const col = (converted as unknown as AgentConfig).collector
    if ((col.cert_file === '') !== (col.key_file === '')) {
      // Reported under the missing key, at the line of the one that is set.
      const [missing, given] = col.cert_file === '' ? ['cert_file', 'key_file'] : ['key_file', 'cert_file']
      problems.push({ key: `collector.${missing}`, where: where(['collector', given]), message: 'mutual TLS needs both collector.cert_file and collector.key_file' })
    }
    const pems: Parameters<typeof tlsFileProblems>[0] = {}
    for (const k of ['ca_file', 'cert_file', 'key_file'] as const) {
      const file = col[k]
      if (file === '') continue
      try {
        const pem = readFileSync(file)
        pems[k === 'ca_file' ? 'ca' : k === 'cert_file' ? 'cert' : 'key'] = { file, pem }
      } catch (err) {
        problems.push({ key: `collector.${k}`, where: where(['collector', k]), message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` })
      }
    }
    for (const p of tlsFileProblems(pems)) {
      const k = p.which === 'ca' ? 'ca_file' : p.which === 'cert' ? 'cert_file' : 'key_file'
      problems.push({ key: `collector.${k}`, where: where(['collector', k]), message: p.message })
    }
    for (const p of semanticProblems(converted as unknown as AgentConfig)) problems.push({ key: p.path.join('.'), where: where(p.path), message: p.message })
  }
  return { config: deepFreeze(converted as AgentConfig), problems }
}

/** Loads and throws one AgentError (CONFIG_INVALID, every problem listed) when the config is bad. */
export function loadConfigOrThrow(file: string | undefined, opts: LoadOptions = {}): Readonly<AgentConfig> {
  const { config, problems } = loadConfig(file, opts)
  if (problems.length > 0) throw new AgentError(AgentErrorCode.CONFIG_INVALID, `invalid configuration:\n${formatProblems(problems)}`)
  return config
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `  ${p.where}: ${p.key === '' ? '' : `${p.key}: `}${p.message}`).join('\n')
}

function unescapePointer(s: string): string {
  return s.replace(/~1/g, '/').replace(/~0/g, '~')
}

function originOf(key: string, origins: Map<string, string>): string | undefined {
  for (const [k, o] of origins) if (key === k || key.startsWith(`${k}.`)) return o
  return undefined
}

/** file:line of the deepest YAML node on `path` (the key's parent when the key is missing). */
function lineOf(root: Node | null, path: string[], lc: LineCounter, name: string): string {
  let node: Node | null = root
  let best: Node | null = root
  for (const p of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === p)
      if (!pair) break
      best = (pair.key as Node) ?? best
      node = (pair.value as Node | null) ?? null
    } else if (isSeq(node)) {
      const item = node.items[Number(p)] as Node | undefined
      if (!item) break
      best = item
      node = item
    } else {
      break
    }
  }
  const off = best?.range?.[0]
  return off === undefined ? name : `${name}:${lc.linePos(off).line}`
}

function explain(message: string, schema: TSchema, value: unknown): string {
  const got = value === undefined ? 'nothing' : JSON.stringify(value)
  if (message === 'Unexpected property') return 'unknown key (misspelt? see docs/agent.md)'
  if (Array.isArray(schema.anyOf) && schema.anyOf.every((s: TSchema) => 'const' in s)) {
    return `expected one of ${schema.anyOf.map((s: TSchema) => String(s.const)).join(', ')}, got ${got}`
  }
  return `${message.charAt(0).toLowerCase()}${message.slice(1)}, got ${got}`
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o)
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v)
  }
  return o
}
