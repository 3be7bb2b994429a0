import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** The compiled CLI, as users run it (`npm test` builds before running the tests). */
export const CLI = path.join(ROOT, 'dist/cli/index.js')

export { freePort } from '../../scripts/lib/free-port.js'

export interface Spawned {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs the built CLI with a clean environment plus `env` (no inherited pingscope settings). */
export function spawnCli(args: string[], env: Record<string, string>, cwd = ROOT): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (err += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  return { child, stdout: () => out, stderr: () => err, exited }
}

export async function waitForHealthy(url: string, timeoutMs: number): Promise<{ ms: number; body: unknown }> {
  const t0 = performance.now()
  while (performance.now() - t0 < timeoutMs) {
    try {
      const res = await fetch(`${url}/health`)
      if (res.ok) return { ms: performance.now() - t0, body: await res.json() }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${url}/health did not answer 200 within ${timeoutMs} ms`)
}
