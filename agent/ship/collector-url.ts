/**
 * The collector's base URL as the user gives it (config collector.url, --collector):
 * http(s), no query or fragment. One message for every entry point, naming where it came from.
 */
import { AgentError, AgentErrorCode } from '../util/errors.js'

/** Why `text` is not a usable collector URL, or undefined when it is. */
export function collectorUrlProblem(text: string): string | undefined {
  if (text !== '' && !text.includes('://')) return `"${text}" has no scheme; use https://${text} (or http://${text})`
  let u: URL
  try {
    u = new URL(text)
  } catch {
    return `"${text}" is not a URL; use e.g. https://collector.example:8270`
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    return `"${text}": the collector speaks https:// (or http://), not ${u.protocol}//`
  }
  if (u.search !== '' || u.hash !== '') return `"${text}": a query or fragment has no meaning here; give the collector's base URL`
  if (u.username !== '' || u.password !== '') return `"${text}": credentials do not go in the URL (the agent authenticates with its enrolled identity)`
  return undefined
}

/** Parses a collector URL or throws BAD_ARGUMENT naming `source` (e.g. "--collector"). */
export function parseCollectorUrl(text: string, source: string): URL {
  const problem = collectorUrlProblem(text)
  if (problem !== undefined) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `${source}: ${problem}`)
  return new URL(text)
}
