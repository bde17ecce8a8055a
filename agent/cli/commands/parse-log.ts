import type { Command } from 'commander'
import { readFile } from 'node:fs/promises'
import { AgentError, AgentErrorCode } from '../../util/errors.js'
import { frameBuffer } from '../../logs/framing/line-framer.js'
import { LOG_TYPES, parseLogLine, type LogType } from '../../logs/parse/parse-line.js'

/**
 * `telltale-agent parse-log FILE… [--type T] [--year N]`: every line of every file →
 * one normalised event as NDJSON on stdout (lines nothing understands come out raw with
 * `telltale.parse_failure`). Counts go to stderr.
 */
export function registerParseLog(program: Command): void {
  program
    .command('parse-log')
    .description('parse log files and print one normalised event per line as NDJSON')
    .argument('<files...>', 'log files to parse')
    .option('--type <type>', `format: ${LOG_TYPES.join('|')}`, 'auto')
    .option('--year <year>', 'year for year-less syslog dates (default: inferred)')
    .option('--utc', 'read zone-less timestamps as UTC instead of local time')
    .option('--max-line-bytes <n>', 'cut longer lines here (marked truncated)', '65536')
    .action(async (files: string[], opts: { type: string; year?: string; utc?: boolean; maxLineBytes: string }) => {
      if (!(LOG_TYPES as readonly string[]).includes(opts.type)) {
        throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `--type must be one of ${LOG_TYPES.join(', ')}, got "${opts.type}"`)
      }
      let year: number | undefined
      if (opts.year !== undefined) {
        year = Number(opts.year)
        if (!Number.isInteger(year) || year < 1970 || year > 9999) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `--year must be a year like 2024, got "${opts.year}"`)
      }
      const maxLine = Number(opts.maxLineBytes)
      if (!Number.isInteger(maxLine) || maxLine < 16) throw new AgentError(AgentErrorCode.BAD_ARGUMENT, `--max-line-bytes must be an integer ≥ 16, got "${opts.maxLineBytes}"`)
      // `parse-log … | head`: a closed pipe ends the output quietly.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0) })
      const nowMs = Date.now()
      const popts = { nowMs, ...(year !== undefined ? { year } : {}), ...(opts.utc ? { utc: true } : {}) }
      let lines = 0
      let failures = 0
      for (const file of files) {
        let buf: Buffer
        try {
          buf = await readFile(file)
        } catch (err) {
          throw new AgentError(AgentErrorCode.FILE_UNREADABLE, `cannot read ${file}: ${(err as Error).message}`, { cause: err })
        }
        const out: string[] = []
        frameBuffer(buf, maxLine, (fr) => {
          if (fr.text.length === 0 && !fr.truncated) return
          const ev = parseLogLine(fr.text, opts.type as LogType, popts)
          ev['log.file.path'] = file
          ev['log.offset'] = fr.offset
          if (fr.truncated) ev['telltale.truncated'] = true
          if (fr.invalidUtf8) ev['telltale.invalid_utf8'] = true
          if (ev['telltale.parse_failure']) failures++
          lines++
          out.push(JSON.stringify(ev))
        })
        if (out.length) await writeOut(`${out.join('\n')}\n`)
      }
      process.stderr.write(`parse-log: ${lines} lines, ${lines - failures} parsed, ${failures} not understood (kept raw)\n`)
    })
}

function writeOut(s: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(s, (err) => (err ? reject(err) : resolve()))
  })
}
