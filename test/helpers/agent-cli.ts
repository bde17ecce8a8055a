/**
 * The agent's CLI run as a child process, asynchronously: tests that host a collector in
 * their own process cannot use spawnSync (it would block that collector).
 */
import { spawn } from 'node:child_process'
import { AGENT_BIN } from './paths.js'

export interface AgentCliRun { status: number | null; stdout: string; stderr: string }

export function runAgentCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<AgentCliRun> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [AGENT_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    p.on('exit', (status) => resolve({ status, stdout, stderr }))
  })
}
