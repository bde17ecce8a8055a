/**
 * `telltale-collector serve`: opens the store, listens, stops gracefully on SIGTERM/SIGINT
 * (fastify stops taking requests and finishes those in flight, then the store closes).
 */
import type { Command } from 'commander'
import { buildApp } from '../../app.js'
import { isStoreLocked, storeOpenProblem, StoreFormatError } from '../../storage/index.js'
import { createRootLogger } from '../../util/logger.js'
import { addConfigFlags, configFromFlags, configOrExit, type ConfigFlags } from './config-options.js'
// issue 8 (operations): sd_notify, watchdog, SIGHUP.
import { CollectorService } from '../../ops/collector-service.js'

export function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':')
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) }
}

export function register(program: Command): void {
  addConfigFlags(program.command('serve')
    .description('run the collector: ingest from agents and the REST API on --listen (default 127.0.0.1:8270)'))
    .action(async (o: ConfigFlags) => {
      const r = configOrExit(o)
      if (r === undefined) return
      const config = r.config
      const log = createRootLogger({ level: config.log.level, pretty: config.log.pretty })
      const { app, store, ingest } = buildApp({ config, log, adminToken: process.env.TELLTALE_ADMIN_TOKEN })
      try {
        await app.ready()
      } catch (err) {
        const locked = isStoreLocked(err)
        const fsErr = err as NodeJS.ErrnoException
        const problem = storeOpenProblem(config.data_dir, err)
        if (err instanceof StoreFormatError) log.fatal({ code: 'COLLECTOR_ERR_STORE_FORMAT' }, err.message)
        else if (problem !== undefined) log.fatal({ code: problem.code }, problem.message)
        else if (typeof fsErr.syscall === 'string' && typeof fsErr.code === 'string') log.fatal({ code: fsErr.code }, `cannot use the data directory ${config.data_dir}: ${fsErr.message}; check data_dir / --data-dir and the collector user's rights`)
        else log.fatal({ err: locked ? undefined : err, code: locked ? 'COLLECTOR_ERR_STORE_LOCKED' : undefined }, locked ? `the data directory ${config.data_dir} is in use by another process (a running collector?)` : 'could not start')
        process.exitCode = 1
        await app.close().catch(() => undefined)
        return
      }
      const { host, port } = splitListen(config.listen)
      let address: string
      try {
        address = await app.listen({ host, port })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        log.fatal({ code: code ?? 'COLLECTOR_ERR_LISTEN', listen: config.listen }, listenFailure(config.listen, err as NodeJS.ErrnoException))
        process.exitCode = 1
        await app.close()
        return
      }
      log.info({ address, dataDir: config.data_dir }, `listening on ${address}`)
      const svc = new CollectorService({}, { log: log.child({ component: 'service' }), store, counters: () => ingest.counters.snapshot() })
      svc.ready(address)
      // SIGHUP (systemctl reload): re-validate the configuration; log.level applies at once,
      // anything else needs a restart (logged). Without a handler SIGHUP would end the process.
      process.on('SIGHUP', () => {
        svc.reloading()
        const next = configFromFlags(o)
        if (!next.ok) {
          log.error({ problems: next.problems }, 'config reload failed; keeping the running config')
          svc.reloaded(new Error(`${next.problems.length} configuration problem(s)`))
          return
        }
        log.level = next.config.log.level
        const { log: _l, ...rest } = next.config
        const { log: _p, ...prev } = config
        if (JSON.stringify(rest) !== JSON.stringify(prev)) log.warn('configuration changed beyond log.level: restart the collector to apply it')
        log.info({ level: next.config.log.level }, 'configuration reloaded')
        svc.reloaded()
      })
      await new Promise<void>((resolve) => {
        let stopping = false
        const stop = (signal: string): void => {
          if (stopping) return
          stopping = true
          log.info({ signal }, 'stopping')
          svc.stopping()
          app.close().then(() => { log.info('stopped') }, (err: unknown) => { log.error({ err }, 'error while stopping'); process.exitCode = 1 })
            .then(() => svc.stop()).then(resolve, resolve)
        }
        process.once('SIGTERM', () => stop('SIGTERM'))
        process.once('SIGINT', () => stop('SIGINT'))
      })
    })
}

/** One line that says why the listen failed and what to do (no stack: it is not a bug). */
export function listenFailure(listen: string, err: NodeJS.ErrnoException): string {
  const why: Record<string, string> = {
    EADDRINUSE: 'the address is already in use (another collector or service?); stop it or choose another --listen / listen',
    EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); choose a port above 1023',
    EADDRNOTAVAIL: 'this machine has no such address; use one of its addresses, 127.0.0.1, or 0.0.0.0 for all',
    ENOTFOUND: 'the host name does not resolve; use an address',
  }
  return `cannot listen on ${listen}: ${why[err.code ?? ''] ?? err.message}`
}
