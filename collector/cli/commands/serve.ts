/**
 * `telltale-collector serve`: opens the store, listens, stops gracefully on SIGTERM/SIGINT
 * (fastify stops taking requests and finishes those in flight, then the store closes).
 */
import type { Command } from 'commander'
import { buildApp } from '../../app.js'
import { isStoreLocked } from '../../storage/index.js'
import { createRootLogger } from '../../util/logger.js'
import { addConfigFlags, configOrExit, type ConfigFlags } from './config-options.js'

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
      const { app } = buildApp({ config, log, adminToken: process.env.TELLTALE_ADMIN_TOKEN })
      try {
        await app.ready()
      } catch (err) {
        const locked = isStoreLocked(err)
        log.fatal({ err: locked ? undefined : err, code: locked ? 'COLLECTOR_ERR_STORE_LOCKED' : undefined }, locked ? `the data directory ${config.data_dir} is in use by another process (a running collector?)` : 'could not start')
        process.exitCode = 1
        await app.close().catch(() => undefined)
        return
      }
      const { host, port } = splitListen(config.listen)
      let address: string
      try {
        address = await app.listen({ host, port })
      } catch (err) {
        log.fatal({ err, listen: config.listen }, `cannot listen on ${config.listen}`)
        process.exitCode = 1
        await app.close()
        return
      }
      log.info({ address, dataDir: config.data_dir }, `listening on ${address}`)
      await new Promise<void>((resolve) => {
        let stopping = false
        const stop = (signal: string): void => {
          if (stopping) return
          stopping = true
          log.info({ signal }, 'stopping')
          app.close().then(() => { log.info('stopped'); resolve() }, (err: unknown) => { log.error({ err }, 'error while stopping'); process.exitCode = 1; resolve() })
        }
        process.once('SIGTERM', () => stop('SIGTERM'))
        process.once('SIGINT', () => stop('SIGINT'))
      })
    })
}
