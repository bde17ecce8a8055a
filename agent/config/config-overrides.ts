/**
 * Every leaf key of the agent config as a flag and an environment variable:
 *   ship.max_batch_bytes  ⇄  --ship-max-batch-bytes  ⇄  TELLTALE_SHIP_MAX_BATCH_BYTES
 * Values are read as YAML scalars/flow collections (`true`, `5`, `[eth0, eth1]`), then
 * converted and validated by the schema like the file. Precedence: flag > env > file > default.
 */
import type { TObject, TSchema } from '@sinclair/typebox'
import { parse as parseYaml } from 'yaml'
import { AgentConfigSchema } from './agent-config-schema.js'

export interface LeafKey {
  /** ['ship', 'max_batch_bytes'] */
  path: string[]
  /** 'ship.max_batch_bytes' */
  dotted: string
  flag: string
  env: string
  description: string
}

function isObject(s: TSchema): s is TObject {
  return s.type === 'object' && typeof s.properties === 'object'
}

export function leafKeys(schema: TObject = AgentConfigSchema, prefix: string[] = []): LeafKey[] {
  const out: LeafKey[] = []
  for (const [k, s] of Object.entries(schema.properties)) {
    const path = [...prefix, k]
    if (isObject(s)) { out.push(...leafKeys(s, path)); continue }
    out.push({
      path,
      dotted: path.join('.'),
      flag: `--${path.join('-').replace(/_/g, '-')}`,
      env: `TELLTALE_${path.join('_').toUpperCase()}`,
      description: typeof s.description === 'string' ? s.description : '',
    })
  }
  return out
}

/** An override value as typed: YAML scalar or flow collection; a plain string when it is not YAML. */
export function parseOverride(text: string): unknown {
  try {
    return parseYaml(text) as unknown
  } catch {
    return text
  }
}

export interface Override { key: LeafKey; value: unknown; origin: string }

/** Overrides from the environment (TELLTALE_… names of leaf keys; other TELLTALE_ variables are not config). */
export function envOverrides(env: NodeJS.ProcessEnv, keys = leafKeys()): Override[] {
  const out: Override[] = []
  for (const key of keys) {
    const v = env[key.env]
    if (v !== undefined) out.push({ key, value: parseOverride(v), origin: `environment variable ${key.env}` })
  }
  return out
}

/** Overrides from commander's parsed options (camelCase of the flag name). */
export function flagOverrides(opts: Record<string, unknown>, keys = leafKeys()): Override[] {
  const out: Override[] = []
  for (const key of keys) {
    const name = key.flag.slice(2).replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())
    const v = opts[name]
    if (typeof v === 'string') out.push({ key, value: parseOverride(v), origin: `flag ${key.flag}` })
  }
  return out
}

export function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = target
  for (const p of path.slice(0, -1)) {
    const next = o[p]
    if (typeof next !== 'object' || next === null || Array.isArray(next)) o[p] = {}
    o = o[p] as Record<string, unknown>
  }
  o[path[path.length - 1]!] = value
}
