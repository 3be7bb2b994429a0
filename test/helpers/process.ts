import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { LOCK_FILE } from '../../src/db/engine/lock.js'
import type { TestStore } from './db.js'

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

/**
 * Runs the built CLI with a clean environment plus `env` (no inherited pingscope settings). `prefix` runs
 * it under a command that execs it, e.g. `['ip', 'netns', 'exec', ns]`: the child is then still the CLI.
 */
export function spawnCli(args: string[], env: Record<string, string>, cwd = ROOT, opts: { prefix?: string[] } = {}): Spawned {
  const [command, ...argv] = [...(opts.prefix ?? []), process.execPath, CLI, ...args] as [string, ...string[]]
  const child = spawn(command, argv, {
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

/** SIGTERM to each process still running, SIGKILL to any that has not exited 20 s later. */
export async function stopSpawned(ps: readonly Spawned[]): Promise<void> {
  for (const p of ps) {
    if (p.child.exitCode !== null || p.child.signalCode !== null) continue
    p.child.kill('SIGTERM')
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 20_000))])
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL')
  }
}

/**
 * Removes a store once its embedded engine is gone: the engine lingers a second after its last client
 * (the lock file names it); one still there after 20 s is killed by the pid in its lock file.
 */
export async function removeStoreAfterEngine(store: TestStore): Promise<void> {
  const lock = path.join(store.dataDir, LOCK_FILE)
  const t0 = Date.now()
  while (existsSync(lock) && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 200))
  if (existsSync(lock)) {
    const pid = Number((JSON.parse(readFileSync(lock, 'utf8')) as { pid: unknown }).pid)
    if (pid > 0) process.kill(pid, 'SIGKILL')
  }
  await store.remove()
}

// A TCP listener on 127.0.0.1 (port printed on stdout) that pipes each connection to a unix socket.
const FORWARDER = `
const net = require('node:net')
const server = net.createServer((c) => {
  const u = net.connect(process.argv[1])
  const end = () => { c.destroy(); u.destroy() }
  c.on('error', end).on('close', end)
  u.on('error', end).on('close', end)
  c.pipe(u).pipe(c)
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
process.on('SIGTERM', () => process.exit(0))
`

/**
 * A port on 127.0.0.1 inside network namespace `ns` that leads to the unix socket `socketPath` outside
 * it: how a process in a lab namespace reaches the server lane's PostgreSQL, which listens on the root
 * namespace's loopback and on a unix socket. (postgres.js 3.4 takes no socket directory in a URL:
 * `?host=/dir` is sent as a startup parameter, so DATABASE_URL cannot name the socket itself.)
 * `stop()` ends the forwarder (by its pid).
 */
export async function forwardIntoNamespace(ns: string, socketPath: string): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', FORWARDER, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  const spawned: Spawned = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  }
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('\n')) resolve(Number(out.trim()))
    })
    void spawned.exited.then(({ code }) => reject(new Error(`forwarder in ${ns} exited (${code}): ${err.trim()}`)))
  })
  return { port, stop: () => stopSpawned([spawned]) }
}
