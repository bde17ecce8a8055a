/**
 * sd_notify(3) without a native dependency.
 *
 * The protocol is one AF_UNIX datagram of `KEY=VALUE\n` lines sent to $NOTIFY_SOCKET (a
 * path, or an abstract name written with a leading `@`). Node cannot send AF_UNIX
 * datagrams: `node:net` only does stream sockets and `node:dgram` only UDP, and the npm
 * packages that can (`unix-dgram`) are native addons. So each message is handed to
 * systemd's own `systemd-notify` binary (always present where systemd runs). Since
 * systemd 246 it waits for the manager to process the message (BARRIER=1), so the
 * message is attributed to the service's cgroup although the sender exits at once; the
 * unit needs `NotifyAccess=all` because the sender is a child, not the main PID.
 * Measured cost: ~7 ms and one short-lived process per message (docs/operations.md);
 * messages go out at most every few seconds (watchdog ping, STATUS=), never per packet.
 *
 * Messages are sent one at a time, in order. The queue is bounded: a routine message
 * (only WATCHDOG= and STATUS=) replaces a routine one still waiting; when the queue is
 * full anyway the newest message is dropped and counted (notify_dropped_total).
 *
 * This file is self-contained and kept byte-identical in agent/ops and collector/ops
 * (the two programs never import each other; test/ops-sd-notify.test.ts checks the copies).
 */
import { execFile } from 'node:child_process'

export type NotifyFields = Readonly<Record<string, string | number>>

export interface Notifier {
  /** False when the process does not run under systemd (no $NOTIFY_SOCKET): notify() does nothing. */
  readonly enabled: boolean
  /** Queues one message; never throws, never blocks. */
  notify(fields: NotifyFields): void
  /** Resolves when every queued message has been handed over (or failed). */
  flush(): Promise<void>
  counters(): Record<string, number>
}

/** Runs the sender once; rejects on failure. Injected by tests. */
export type NotifySend = (socket: string, lines: readonly string[]) => Promise<void>

export interface SdNotifierConfig {
  /** $NOTIFY_SOCKET as systemd set it. */
  socket: string
  /** The sender binary. */
  command?: string
  /** Messages waiting at most (the one in flight not counted). */
  maxQueue?: number
  /** Per message; systemd-notify itself waits up to 5 s for the barrier. */
  timeoutMs?: number
}

const ROUTINE = new Set(['WATCHDOG', 'STATUS'])

/** `KEY=VALUE` lines; a newline inside a value would start another assignment, so it becomes a space. */
export function formatNotifyLines(fields: NotifyFields): string[] {
  const out: string[] = []
  for (const [k, v] of Object.entries(fields)) {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) continue
    out.push(`${k}=${String(v).replace(/[\r\n]+/g, ' ')}`)
  }
  return out
}

export function systemdNotifySend(command = 'systemd-notify', timeoutMs = 8000): NotifySend {
  return (socket, lines) => new Promise((resolve, reject) => {
    execFile(command, [...lines], {
      env: { NOTIFY_SOCKET: socket, PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: timeoutMs,
      windowsHide: true,
    }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${command}: ${String(stderr).trim() || err.message}`))
      else resolve()
    })
  })
}

export class SdNotifier implements Notifier {
  readonly enabled = true
  private readonly socket: string
  private readonly maxQueue: number
  private readonly send: NotifySend
  private readonly queue: Array<{ lines: string[]; routine: boolean }> = []
  private running: Promise<void> | undefined
  private readonly c = { notify_sent_total: 0, notify_errors_total: 0, notify_coalesced_total: 0, notify_dropped_total: 0 }
  private lastError = ''

  constructor(cfg: SdNotifierConfig, deps: { send?: NotifySend } = {}) {
    this.socket = cfg.socket
    this.maxQueue = cfg.maxQueue ?? 16
    this.send = deps.send ?? systemdNotifySend(cfg.command, cfg.timeoutMs)
  }

  notify(fields: NotifyFields): void {
    const lines = formatNotifyLines(fields)
    if (lines.length === 0) return
    const routine = Object.keys(fields).every((k) => ROUTINE.has(k))
    const last = this.queue[this.queue.length - 1]
    if (routine && last?.routine) {
      this.queue[this.queue.length - 1] = { lines, routine }
      this.c.notify_coalesced_total++
    } else if (this.queue.length >= this.maxQueue) {
      this.c.notify_dropped_total++
      return
    } else {
      this.queue.push({ lines, routine })
    }
    this.running ??= this.drain().finally(() => { this.running = undefined })
  }

  async flush(): Promise<void> {
    while (this.running) await this.running
  }

  counters(): Record<string, number> {
    return { ...this.c }
  }

  /** The last sender failure ('' when none), for status output. */
  get lastFailure(): string {
    return this.lastError
  }

  private async drain(): Promise<void> {
    for (let m = this.queue.shift(); m; m = this.queue.shift()) {
      try {
        await this.send(this.socket, m.lines)
        this.c.notify_sent_total++
      } catch (err) {
        this.c.notify_errors_total++
        this.lastError = (err as Error).message
      }
    }
  }
}

/** Used when the process was not started by systemd with Type=notify. */
export class NullNotifier implements Notifier {
  readonly enabled = false
  notify(): void {}
  async flush(): Promise<void> {}
  counters(): Record<string, number> {
    return {}
  }
}

/**
 * The notifier for this process. Takes $NOTIFY_SOCKET out of `env` (as sd_notify's
 * unset_environment does) so that children such as journalctl cannot talk to systemd
 * on the service's behalf.
 */
export function notifierFromEnv(env: NodeJS.ProcessEnv = process.env, deps: { send?: NotifySend } = {}): Notifier {
  const socket = env.NOTIFY_SOCKET
  if (socket === undefined || socket === '') return new NullNotifier()
  delete env.NOTIFY_SOCKET
  return new SdNotifier({ socket }, deps)
}

/**
 * The watchdog ping interval: half of $WATCHDOG_USEC (what sd_watchdog_enabled(3)
 * recommends), or undefined when the watchdog is off or meant for another process.
 */
export function watchdogIntervalFromEnv(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | undefined {
  const usec = Number(env.WATCHDOG_USEC)
  if (!Number.isFinite(usec) || usec <= 0) return undefined
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined
  return Math.max(1, Math.floor(usec / 2000))
}
