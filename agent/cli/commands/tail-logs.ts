import type { Command } from 'commander'
import { open, type FileHandle } from 'node:fs/promises'
import { AgentError, AgentErrorCode } from '../../util/errors.js'
import { createRootLogger } from '../../util/logger.js'
import { LOG_TYPES, type LogType } from '../../logs/parse/parse-line.js'
import { FileSource } from '../../logs/tail/file-source.js'
import { fileSourceConfig } from '../../logs/tail/file-source-config.js'
import { JournaldSource } from '../../logs/tail/journald-source.js'
import type { Delivery } from '../../logs/tail/delivery-queue.js'

/**
 * `telltale-agent tail-logs GLOB… --state-dir DIR --out FILE.ndjson [--journald]`: tails
 * log files (and journald), appending normalised events to an NDJSON file. Each batch is
 * written and fsync'ed before it is acknowledged, so checkpoints only cover events that
 * are on disk: a durable sink until the shipper exists, and what the kill -9 test drives.
 */
interface Source { read(max: number, waitMs: number): Promise<Delivery | null>; ack(upTo: number): Promise<void>; stop(): Promise<void> }

export function registerTailLogs(program: Command): void {
  program
    .command('tail-logs')
    .description('tail log files (and journald) and append normalised events to an NDJSON file')
    .argument('[globs...]', 'file globs to tail (new matching files are picked up)')
    .requiredOption('--state-dir <dir>', 'where checkpoints are kept')
    .requiredOption('--out <file>', 'NDJSON file to append events to (fsync before ack)')
    .option('--type <type>', `format: ${LOG_TYPES.join('|')}`, 'auto')
    .option('--journald', 'also follow journald (journalctl -o json --follow)')
    .option('--batch <n>', 'events per write+fsync+ack', '500')
    .option('--max-bytes-per-second <n>', 'read-rate limit per source (0 = none)', String(16 * 1024 * 1024))
    .action(async (globs: string[], opts: { stateDir: string; out: string; type: string; journald?: boolean; batch: string; maxBytesPerSecond: string }) => {
      if (!(LOG_TYPES as readonly string[]).includes(opts.type)) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `--type must be one of ${LOG_TYPES.join(', ')}`)
      if (globs.length === 0 && !opts.journald) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, 'give at least one file glob or --journald')
      const batch = Number(opts.batch)
      const rate = Number(opts.maxBytesPerSecond)
      if (!Number.isInteger(batch) || batch < 1) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, '--batch must be a positive integer')
      if (!Number.isFinite(rate) || rate < 0) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, '--max-bytes-per-second must be ≥ 0')
      const log = createRootLogger().child({ component: 'tail-logs' })
      let out: FileHandle
      try {
        out = await open(opts.out, 'a')
      } catch (err) {
        throw new AgentError(AgentErrorCode.OUTPUT_UNWRITABLE, `cannot open ${opts.out}: ${(err as Error).message}`, { cause: err })
      }
      const sources: Source[] = []
      if (globs.length) {
        const fs = new FileSource(fileSourceConfig({ name: 'files', include: globs, stateDir: opts.stateDir, type: opts.type as LogType, maxBytesPerSecond: rate }), { log })
        await fs.start()
        sources.push(fs)
      }
      if (opts.journald) {
        const js = new JournaldSource({ name: 'journald', stateDir: opts.stateDir, matches: [], queueCapacity: 4096, journalctlPath: 'journalctl', extraArgs: [] }, { log })
        await js.start()
        sources.push(js)
      }
      let stopping = false
      const stop = (): void => { stopping = true }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      const pumps = sources.map(async (src) => {
        while (!stopping) {
          const d = await src.read(batch, 200)
          if (!d) continue
          await out.write(d.events.map((e) => JSON.stringify(e)).join('\n') + '\n')
          await out.sync()
          await src.ack(d.upTo)
        }
      })
      await Promise.all(pumps)
      for (const s of sources) await s.stop()
      await out.close()
    })
}
