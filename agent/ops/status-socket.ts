/**
 * The local status socket of a running agent: a unix stream socket that answers every
 * connection with one JSON document (the AgentStatusDoc) and a newline, then closes.
 * Read-only: it accepts no commands, so it needs no authentication beyond the file mode
 * (0660, owner telltale; root and the service's group can read it).
 *
 * Where: `$RUNTIME_DIRECTORY/status.sock` when systemd made a runtime directory
 * (RuntimeDirectory=telltale-agent → /run/telltale-agent/status.sock), otherwise
 * `<state_dir>/status.sock`.
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { AgentError, AgentErrorCode } from '../util/errors.js'
import type { Logger } from '../util/logger.js'

/** sockaddr_un.sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107

export function statusSocketPath(stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.RUNTIME_DIRECTORY?.split(':')[0]
  return join(runtime !== undefined && runtime !== '' ? runtime : stateDir, 'status.sock')
}

export interface StatusServerConfig {
  path: string
  /** File mode of the socket. */
  mode?: number
  /** Connections served at once; more are refused by the kernel backlog / closed. */
  maxConnections?: number
}

export class StatusServer {
  readonly config: Readonly<Required<StatusServerConfig>>
  private readonly document: () => unknown
  private readonly log: Logger | undefined
  private server: Server | undefined
  private readonly c = { status_requests_total: 0, status_errors_total: 0 }

  constructor(config: StatusServerConfig, deps: { document: () => unknown; log?: Logger }) {
    this.config = Object.freeze({ mode: 0o660, maxConnections: 8, ...config })
    this.document = deps.document
    this.log = deps.log
  }

  async start(): Promise<void> {
    const path = this.config.path
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      throw new AgentError(AgentErrorCode.STATUS_SOCKET_FAILED, `status socket path is longer than ${MAX_SOCKET_PATH} bytes: ${path} (use a shorter state_dir)`)
    }
    await removeStaleSocket(path)
    const server = createServer((sock) => this.serve(sock))
    server.maxConnections = this.config.maxConnections
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new AgentError(AgentErrorCode.STATUS_SOCKET_FAILED, `cannot listen on the status socket ${path}: ${err.message}`, { cause: err })))
      server.listen(path, () => resolve())
    })
    server.on('error', (err) => { this.c.status_errors_total++; this.log?.warn({ err: err.message }, 'status socket error') })
    chmodSync(path, this.config.mode)
    server.unref()
    this.server = server
    this.log?.debug({ path }, 'status socket listening')
  }

  async stop(): Promise<void> {
    const server = this.server
    if (!server) return
    this.server = undefined
    await new Promise<void>((resolve) => server.close(() => resolve()))
    try {
      unlinkSync(this.config.path)
    } catch {
      // already gone
    }
  }

  counters(): Record<string, number> {
    return { ...this.c }
  }

  private serve(sock: Socket): void {
    this.c.status_requests_total++
    sock.setTimeout(2000, () => sock.destroy())
    sock.on('error', () => { this.c.status_errors_total++ })
    let body: string
    try {
      body = `${JSON.stringify(this.document())}\n`
    } catch (err) {
      this.c.status_errors_total++
      body = `${JSON.stringify({ error: (err as Error).message })}\n`
    }
    sock.end(body)
  }
}

/** A socket left by a crashed agent is removed; one that still answers belongs to a running agent. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket = false
  try {
    isSocket = lstatSync(path).isSocket()
  } catch {
    return
  }
  if (!isSocket) throw new AgentError(AgentErrorCode.STATUS_SOCKET_FAILED, `${path} exists and is not a socket; remove it or choose another state_dir`)
  const alive = await new Promise<boolean>((resolve) => {
    const c = createConnection(path)
    c.once('connect', () => { c.destroy(); resolve(true) })
    c.once('error', () => resolve(false))
  })
  if (alive) throw new AgentError(AgentErrorCode.STATUS_SOCKET_FAILED, `another agent is running with the status socket ${path} (same state_dir?)`)
  unlinkSync(path)
}

export type StatusFetchResult =
  | { ok: true; document: unknown }
  | { ok: false; reason: 'not-running' | 'permission' | 'bad-answer' | 'timeout'; message: string }

/** Reads one document from a status socket; never throws. */
export function fetchStatus(path: string, timeoutMs = 3000): Promise<StatusFetchResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const sock = createConnection(path)
    const done = (r: StatusFetchResult): void => { sock.destroy(); clearTimeout(timer); resolve(r) }
    const timer = setTimeout(() => done({ ok: false, reason: 'timeout', message: `no answer on ${path} within ${timeoutMs} ms (agent stalled?)` }), timeoutMs)
    sock.on('data', (b: Buffer) => {
      size += b.length
      if (size > 1024 * 1024) return done({ ok: false, reason: 'bad-answer', message: `answer on ${path} is larger than 1 MiB` })
      chunks.push(b)
    })
    sock.on('end', () => {
      try {
        done({ ok: true, document: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown })
      } catch (err) {
        done({ ok: false, reason: 'bad-answer', message: `answer on ${path} is not JSON: ${(err as Error).message}` })
      }
    })
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EACCES' || err.code === 'EPERM') {
        done({ ok: false, reason: 'permission', message: `permission denied on ${path}: run as root or as a member of group telltale` })
      } else {
        done({ ok: false, reason: 'not-running', message: `no agent answers on ${path} (${err.code ?? err.message}): is it running? (systemctl status telltale-agent)` })
      }
    })
  })
}
