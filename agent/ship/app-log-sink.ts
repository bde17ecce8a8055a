/**
 * Which application-log rows are shipped (config flows.app_logs): the pipeline's onAppLog
 * for `run` and `replay --collector`. Undefined when no log is to be shipped, so the
 * pipeline hands rows to nobody.
 */
export type AppLogCallback = (path: string, row: Record<string, unknown>) => void

export function appLogSink(logs: readonly string[], ship: AppLogCallback): AppLogCallback | undefined {
  if (logs.length === 0) return undefined
  const shipped = new Set(logs)
  return (path, row) => { if (shipped.has(path)) ship(path, row) }
}
