import type { LogEvent } from '../../agent/logs/log-event.js'
import type { FileSource } from '../../agent/logs/tail/file-source.js'

/** An in-memory acknowledging sink for FileSource tests: drains until `until()` or a deadline. */
export async function drain(src: FileSource, got: LogEvent[], until: () => boolean, deadlineMs = 15000): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!until() && Date.now() < end) {
    const d = await src.read(200, 50)
    if (!d) continue
    got.push(...d.events)
    await src.ack(d.upTo)
  }
}

export function lines(prefix: string, from: number, n: number): string {
  let s = ''
  for (let i = from; i < from + n; i++) s += `${prefix} line ${i}\n`
  return s
}

/** Numbers of "<prefix> line N" messages, in order received. */
export function numbers(got: LogEvent[], prefix: string): number[] {
  return got.filter((e) => e.message.startsWith(`${prefix} line `)).map((e) => Number(e.message.slice(prefix.length + 6)))
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
