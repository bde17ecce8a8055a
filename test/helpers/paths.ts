import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'
import { existsSync, readFileSync } from 'node:fs'

/** Repository root (tests run from dist/test/…, sources live at the root). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** The shared corpus, read in place: $TELLTALE_CORPUS or ../shared/corpus beside the clone. */
export const CORPUS_DIR = process.env.TELLTALE_CORPUS ?? resolve(REPO_ROOT, '..', 'shared', 'corpus')

export function corpusAvailable(): boolean {
  return existsSync(resolve(CORPUS_DIR, 'MANIFEST.md'))
}

export const CORPUS_SKIP_MESSAGE = `shared corpus not found at ${CORPUS_DIR} (clone with ../shared beside it, or set TELLTALE_CORPUS)`

export function corpusPath(name: string): string {
  return resolve(CORPUS_DIR, name)
}

/** Built entry points, for tests that run the CLI as a real process. */
export const AGENT_BIN = resolve(REPO_ROOT, 'dist', 'agent', 'cli', 'main.js')
export const COLLECTOR_BIN = resolve(REPO_ROOT, 'dist', 'collector', 'cli', 'main.js')

/** A corpus capture by stem: `<name>.pcap`, else `<name>.pcapng`. */
export function corpusCapture(name: string): string {
  return existsSync(corpusPath(`${name}.pcap`)) ? corpusPath(`${name}.pcap`) : corpusPath(`${name}.pcapng`)
}

let manifestLines: string[] | undefined

/** Whether Zeek produced the capture's oracles with -C (its MANIFEST.md "run as" line says so). */
export function corpusIgnoresChecksums(name: string): boolean {
  manifestLines ??= readFileSync(corpusPath('MANIFEST.md'), 'utf8').split('\n')
  const line = manifestLines.find((l) => l.startsWith(`- \`${name}.pcap`))
  return line !== undefined && /run as `zeek[^`]* -C /.test(line)
}

/**
 * The Node.js flags an entry point asks for on its first line (`#!/usr/bin/env -S node FLAGS`):
 * what `npx`/the bin link and the Debian wrapper run it with. Benches and tests that spawn
 * `node ENTRY` pass them too, so they measure the process users get.
 */
export function entryNodeFlags(entry: string): string[] {
  const first = readFileSync(entry, 'utf8').split('\n', 1)[0] ?? ''
  const m = /^#!\/usr\/bin\/env -S node (.+)$/.exec(first)
  return m === null ? [] : m[1]!.trim().split(/\s+/)
}
