#!/usr/bin/env node
/**
 * Writes a man page (roff, section 1) for a Telltale program from its own `--help`
 * output and that of every sub-command, so the page cannot drift from the program.
 *
 *   node help-to-man.mjs --prog telltale-agent --main DIR/dist/agent/cli/main.js --version 0.1.0 --date 2025-01-01
 */
import { execFileSync } from 'node:child_process'
import { parseArgs } from 'node:util'

const { values } = parseArgs({ options: { prog: { type: 'string' }, main: { type: 'string' }, version: { type: 'string' }, date: { type: 'string' } } })
const { prog, main, version } = values
if (!prog || !main || !version) {
  process.stderr.write('usage: help-to-man.mjs --prog NAME --main FILE --version V [--date YYYY-MM-DD]\n')
  process.exit(2)
}
const date = values.date ?? new Date().toISOString().slice(0, 10)

const help = (args) => execFileSync(process.execPath, [main, ...args, '--help'], { encoding: 'utf8', env: { ...process.env, NOTIFY_SOCKET: '' } })
/** roff-safe text: backslashes, leading dots/quotes, hyphens that are options. */
const esc = (s) => s.replace(/\\/g, '\\e').replace(/^([.'])/gm, '\\&$1').replace(/-/g, '\\-')

const top = help([])
const description = (top.split(/\n\s*\n/)[1] ?? '').replace(/\s+/g, ' ').trim()
const commands = []
let inCommands = false
for (const line of top.split('\n')) {
  if (/^Commands:/.test(line)) { inCommands = true; continue }
  if (inCommands && /^\S/.test(line)) inCommands = false
  const m = inCommands ? /^ {2}([a-z][a-z0-9-]*)/.exec(line) : null
  if (m && m[1] !== 'help') commands.push(m[1])
}

const out = []
out.push(`.TH ${prog.toUpperCase()} 1 "${date}" "${prog} ${version}" "Telltale"`)
out.push('.SH NAME', `${prog} \\- ${esc(description.replace(/^Telltale\s*/i, '').replace(/\.$/, ''))}`)
out.push('.SH SYNOPSIS', `.B ${prog}`, '.I command', '[\\fIoptions\\fR]')
out.push('.SH DESCRIPTION', '.nf', esc(top.trimEnd()), '.fi')
out.push('.SH COMMANDS')
for (const c of commands) {
  out.push(`.SS ${c}`, '.nf', esc(help([c]).trimEnd()), '.fi')
}
out.push('.SH FILES', '.TP', '.I /etc/telltale/', 'configuration (conffiles)', '.TP', `.I /var/lib/${prog}/`, 'state', '.TP', `.I /usr/share/doc/${prog}/operations.md`, 'install, upgrade, troubleshooting, exit codes')
out.push('.SH SEE ALSO', '.BR systemctl (1),', '.BR journalctl (1)')
process.stdout.write(`${out.join('\n')}\n`)
