import { readFileSync } from 'node:fs'

/**
 * Reads a CrowdSec hub `parser.assert` file: lines like
 * `results["s01-parse"]["crowdsecurity/sshd-logs"][3].Evt.Parsed["source_ip"] == "1.2.3.4"`.
 * Keeps stages s00-raw and s01-parse (their index is the log line index; s02 indexes only
 * the events that passed s01) and only entries whose Success is true. Later stages win.
 * Returns line index → "Parsed.x" / "Meta.y" → expected string.
 */
export type Expectations = Map<number, Map<string, string>>

const LINE = /^results\["(s0[01]-[a-z]+)"\]\["([^"]+)"\]\[(\d+)\]\.Evt\.(Parsed|Meta)\["([A-Za-z0-9_]+)"\] == "(.*)"$/
const SUCCESS = /^results\["(s0[01]-[a-z]+)"\]\["([^"]+)"\]\[(\d+)\]\.Success == (true|false)$/

export function readParserAssert(path: string): Expectations {
  const lines = readFileSync(path, 'utf8').split('\n')
  const ok = new Set<string>()
  for (const l of lines) {
    const m = SUCCESS.exec(l)
    if (m && m[4] === 'true') ok.add(`${m[1]}|${m[2]}|${m[3]}`)
  }
  const out: Expectations = new Map()
  const stageOf = new Map<string, string>()
  for (const l of lines) {
    const m = LINE.exec(l)
    if (!m) continue
    const [, stage, parser, idx, kind, field, value] = m
    if (!ok.has(`${stage}|${parser}|${idx}`)) continue
    const i = Number(idx)
    const key = `${kind}.${field}`
    let row = out.get(i)
    if (!row) { row = new Map(); out.set(i, row) }
    const prev = stageOf.get(`${i}|${key}`)
    if (prev && prev > stage!) continue
    stageOf.set(`${i}|${key}`, stage!)
    row.set(key, JSON.parse(`"${value}"`) as string)
  }
  return out
}
