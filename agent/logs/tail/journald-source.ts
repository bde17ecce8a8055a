import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Logger } from 'pino'
import { Counters } from '../../util/counters.js'
import type { LogEvent } from '../log-event.js'
import { parseProgramMessage } from '../parse/parse-line.js'
import { toIso } from '../parse/syslog-time.js'
import { writeFileAtomic } from './atomic-write.js'
import { DeliveryQueue, type Delivery } from './delivery-queue.js'

/**
 * journald through `journalctl -o json --follow`, resuming after the persisted cursor.
 * Same hand-off as FileSource: `read()` a batch, `ack(upTo)` once durable; the cursor
 * file (`<name>.journal-cursor`, atomic) only moves on ack. When the queue is full the
 * journalctl pipe is paused (backpressure; journald keeps the entries). If journalctl exits
 * while the source runs (killed, journal files vacuumed under it, a bad match), it is started
 * again after the last entry already queued (no duplicates, nothing skipped), after 1 s and
 * doubling up to 30 s while it keeps exiting without an entry; each restart is counted
 * (journald_restarts_total) and logged with journalctl's last stderr line.
 */
export interface JournaldSourceConfig {
  name: string
  stateDir: string
  /** Extra journalctl match arguments, e.g. ['_SYSTEMD_UNIT=ssh.service']. */
  matches: string[]
  queueCapacity: number
  journalctlPath: string
  /** Extra arguments (tests: ['--directory', dir] / ['--file', path]). */
  extraArgs: string[]
}

export type JournaldCounter = 'journald_entries_total' | 'journald_bad_entries_total' | 'journald_acked_total' | 'journald_restarts_total' | 'journald_errors_total'

/** Where journald keeps its files (volatile, persistent). */
const JOURNAL_DIRS = ['/run/log/journal', '/var/log/journal']
const RESTART_MIN_MS = 1000
const RESTART_MAX_MS = 30_000

export class JournaldSource {
  readonly counters = new Counters<JournaldCounter>()
  private readonly cfg: JournaldSourceConfig
  private readonly log: Logger | undefined
  private readonly queue: DeliveryQueue<string>
  private child: ChildProcess | null = null
  private running = false
  private ackChain: Promise<void> = Promise.resolve()
  private exited: Promise<void> = Promise.resolve()
  /** Cursor of the latest entry queued (a restart continues after it). */
  private lastCursor: string | undefined
  private restartDelayMs = RESTART_MIN_MS
  private restartTimer: NodeJS.Timeout | undefined

  constructor(cfg: JournaldSourceConfig, deps: { log?: Logger } = {}) {
    this.cfg = cfg
    this.log = deps.log
    this.queue = new DeliveryQueue<string>(cfg.queueCapacity)
  }

  private get cursorFile(): string {
    return join(this.cfg.stateDir, `${this.cfg.name}.journal-cursor`)
  }

  async start(): Promise<void> {
    if (this.running) return
    this.running = true
    try { this.lastCursor = (await readFile(this.cursorFile, 'utf8')).trim() || undefined } catch { this.lastCursor = undefined }
    // journalctl follows an empty journal without a word: say once why nothing may come.
    const ownJournal = this.cfg.extraArgs.some((a) => a.startsWith('--directory') || a.startsWith('--file') || a === '-D')
    if (!ownJournal && !JOURNAL_DIRS.some((d) => existsSync(d))) {
      this.log?.warn({ looked: JOURNAL_DIRS }, 'no journal directory found: is systemd-journald running here? following anyway')
    }
    this.spawnJournalctl()
  }

  private spawnJournalctl(): void {
    this.restartTimer = undefined
    if (!this.running) return
    const args = ['-o', 'json', '--follow', '--no-pager', ...this.cfg.extraArgs]
    args.push(this.lastCursor ? `--after-cursor=${this.lastCursor}` : '--no-tail')
    args.push(...this.cfg.matches)
    const child = spawn(this.cfg.journalctlPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    let stderrTail = ''
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => { resolve(); this.onExit(child, code, signal, stderrTail) }))
    child.once('error', (err) => {
      this.counters.inc('journald_errors_total')
      this.log?.warn({ err: err.message }, 'journalctl failed to start')
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderrTail = (stderrTail + d).slice(-2000) })
    const rl = createInterface({ input: child.stdout! })
    rl.on('line', (line) => {
      const ev = journalEntryToEvent(line)
      if (!ev) { this.counters.inc('journald_bad_entries_total'); return }
      this.counters.inc('journald_entries_total')
      this.lastCursor = ev.cursor
      this.restartDelayMs = RESTART_MIN_MS
      this.queue.push(ev.event, 'journal', ev.cursor)
      if (!this.queue.hasRoom()) {
        child.stdout!.pause()
        void this.queue.waitForRoom().then(() => child.stdout!.resume())
      }
    })
  }

  /** journalctl ended: expected at stop(); otherwise start it again after the last queued entry. */
  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): void {
    if (!this.running || child !== this.child) return
    this.counters.inc('journald_restarts_total')
    const lastLine = stderrTail.trim().split('\n').pop() ?? ''
    this.log?.warn({ code, signal, stderr: lastLine.slice(0, 500), retryMs: this.restartDelayMs }, 'journalctl exited; starting it again after the last entry read')
    this.restartTimer = setTimeout(() => this.spawnJournalctl(), this.restartDelayMs)
    this.restartDelayMs = Math.min(RESTART_MAX_MS, this.restartDelayMs * 2)
  }

  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer)
    this.restartTimer = undefined
    this.child?.kill('SIGTERM')
    await this.exited
    this.queue.close()
    await this.ackChain
  }

  read(max: number, waitMs: number): Promise<Delivery | null> {
    return this.queue.take(max, waitMs)
  }

  ack(upTo: number): Promise<void> {
    const next = this.ackChain.then(async () => {
      const cursor = this.queue.ack(upTo).get('journal')
      if (cursor !== undefined) await writeFileAtomic(this.cursorFile, `${cursor}\n`)
      this.counters.inc('journald_acked_total')
    })
    this.ackChain = next.catch(() => undefined)
    return next
  }
}

/** One `journalctl -o json` line → event + cursor; null when it is not a journal entry. */
export function journalEntryToEvent(line: string): { event: LogEvent; cursor: string } | null {
  let o: Record<string, unknown>
  try { o = JSON.parse(line) as Record<string, unknown> } catch { return null }
  if (o === null || typeof o !== 'object') return null
  const cursor = o['__CURSOR']
  if (typeof cursor !== 'string') return null
  // MESSAGE may be an array of bytes when it is not valid UTF-8.
  let message = ''
  let invalid = false
  const m = o['MESSAGE']
  if (typeof m === 'string') message = m
  else if (Array.isArray(m)) { const b = Buffer.from(m.filter((x): x is number => typeof x === 'number')); message = b.toString('utf8'); invalid = true }
  const ev: LogEvent = { 'event.dataset': 'journald', 'message': message, 'event.id': `journal:${cursor}` }
  const rt = o['__REALTIME_TIMESTAMP']
  if (typeof rt === 'string') { const iso = toIso(Number(rt) / 1000); if (iso) ev['@timestamp'] = iso }
  const host = o['_HOSTNAME']
  if (typeof host === 'string') ev['host.name'] = host
  const ident = typeof o['SYSLOG_IDENTIFIER'] === 'string' ? o['SYSLOG_IDENTIFIER'] : typeof o['_COMM'] === 'string' ? o['_COMM'] : undefined
  if (ident !== undefined) ev['process.name'] = ident
  const pid = Number(o['_PID'] ?? o['SYSLOG_PID'])
  if (Number.isInteger(pid) && pid >= 0) ev['process.pid'] = pid
  const pri = Number(o['PRIORITY'])
  if (Number.isInteger(pri)) ev['log.syslog.priority'] = pri
  if (invalid) ev['telltale.invalid_utf8'] = true
  if (ident !== undefined) parseProgramMessage(ident, message, ev)
  return { event: ev, cursor }
}
