/**
 * `npm run bench [name…]`: runs the named benchmarks (default: flows). Benchmarks are
 * scripts that print figures side by side with peer tools; they never run inside `npm test`.
 *
 * Each bench module is imported only when asked for, so a bench that is missing or broken
 * reports "not available" and the others still run.
 */
type BenchFn = (...args: unknown[]) => Promise<unknown> | unknown

interface BenchEntry {
  module: string
  exportName: string
  what: string
  /** How to call it when it needs arguments; default `fn()`. The result is printed. */
  invoke?: (fn: BenchFn) => Promise<unknown>
}

/** capture-read measures the reader alone on the flows bench's mixed capture (same file as the tcpdump floor). */
async function invokeCaptureRead(fn: BenchFn): Promise<unknown> {
  const { benchCapture } = await import('./flows-bench.js')
  const mix = benchCapture('mix', 80_000)
  await fn(mix.path) // warm the page cache and the JIT
  const r = await fn(mix.path) as { packets: number, seconds: number, pps: number }
  return `\n== capture-read: ${mix.path}\nour reader alone: ${r.packets.toLocaleString('en-US')} packets in ${r.seconds.toFixed(3)} s = ${Math.round(r.pps).toLocaleString('en-US')} packets/s`
}

const BENCHES: Record<string, BenchEntry> = {
  flows: { module: './flows-bench.js', exportName: 'benchFlows', what: 'packets → flows vs tcpdump, softflowd, nfpcapd' },
  protocol: { module: './protocol-bench.js', exportName: 'benchProtocol', what: 'Flow bytes on the wire, encode/decode rates' },
  'capture-read': { module: './capture-read-bench.js', exportName: 'benchCaptureRead', what: 'capture file reading', invoke: invokeCaptureRead },
  'live-capture': { module: './live-capture-bench.js', exportName: 'benchLiveCapture', what: 'live capture backends' },
  'log-parse': { module: './log-parse-bench.js', exportName: 'benchLogParse', what: 'log parsing' },
  ship: { module: './ship-bench.js', exportName: 'benchShip', what: 'batch bytes per flow (raw, gzipped), agent encode rate' },
  ingest: { module: './ingest-bench.js', exportName: 'benchIngest', what: 'collector ingest of protobuf batches' },
  api: { module: './api-bench.js', exportName: 'benchApi', what: 'collector query API: 1M flows / 10k hosts, disk per flow, p50/p99 at 100 req/s', invoke: async (fn) => (await import('./api-bench.js')).formatApiBench(await fn() as never) },
  chunks: { module: './chunk-bench.js', exportName: 'benchChunks', what: 'collector flow chunks: DEFLATE CPU and bytes per flow by zlib level' },
  merge: { module: './merge-bench.js', exportName: 'benchMerge', what: 'collector topology merge alone: flows per CPU second (new flows, cross-agent duplicates)' },
  detection: { module: './detection-bench.js', exportName: 'benchDetection', what: 'detection: flows/s through all detectors, ingest → alert latency, 1M-indicator intel memory, precision/recall per type' },
}

async function load(entry: BenchEntry): Promise<BenchFn | string> {
  let mod: Record<string, unknown>
  try {
    mod = await import(entry.module) as Record<string, unknown>
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    return e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(entry.module.slice(2)) ? `${entry.module} is not built` : `import failed: ${e.message}`
  }
  const fn = mod[entry.exportName]
  if (typeof fn !== 'function') {
    const found = Object.keys(mod).filter((k) => typeof mod[k] === 'function' && k.startsWith('bench'))
    if (found.length === 1) return mod[found[0]!] as BenchFn
    return `${entry.module} does not export ${entry.exportName}()`
  }
  return fn as BenchFn
}

async function main(): Promise<number> {
  const args = process.argv.slice(2)
  if (args.includes('--help') || args.includes('-h')) {
    console.log('usage: npm run bench [name…]\n')
    for (const [name, e] of Object.entries(BENCHES)) console.log(`  ${name.padEnd(14)} ${e.what}`)
    return 0
  }
  const names = args.length > 0 ? args : ['flows']
  let failed = 0
  for (const name of names) {
    const entry = BENCHES[name]
    if (entry === undefined) {
      console.error(`bench: unknown bench "${name}" (known: ${Object.keys(BENCHES).join(', ')})`)
      failed++
      continue
    }
    const fn = await load(entry)
    if (typeof fn === 'string') {
      console.log(`\n== ${name}: not available (${fn})`)
      continue
    }
    try {
      const result = entry.invoke !== undefined ? await entry.invoke(fn) : await fn()
      if (typeof result === 'string') console.log(result)
      else if (Array.isArray(result)) { console.log(`\n== ${name}`); console.table(result) }
      else if (result !== undefined) console.log(`\n== ${name}\n${JSON.stringify(result, null, 2)}`)
    } catch (err) {
      console.error(`\n== ${name}: failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`)
      failed++
    }
  }
  return failed === 0 ? 0 : 1
}

process.exitCode = await main()
