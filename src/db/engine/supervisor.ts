import { type ChildProcess, fork } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Logger } from '../../log.js'
import { EXIT_LOCKED, engineSocketPath, readEngineLock } from './lock.js'

// Starts, finds and supervises the embedded engine process (engine-main) for a data directory.
// Any pingscope process may use a running engine; if none runs, the first one to need it starts it.

/** Read-only to its users: pid, owned and restarts change only inside the supervisor, after a restart. */
export interface EngineHandle {
  readonly socket: string
  /** Whether this process started the engine (and so supervises it). */
  readonly owned: boolean
  readonly pid: number
  readonly restarts: number
  readonly stop: () => Promise<void>
}

interface EngineState {
  owned: boolean
  pid: number
  restarts: number
}

/** A frozen handle whose changing fields read the supervisor's private state. */
function createHandle(socket: string, state: EngineState, stop: () => Promise<void>): EngineHandle {
  return Object.freeze({
    socket,
    get owned() {
      return state.owned
    },
    get pid() {
      return state.pid
    },
    get restarts() {
      return state.restarts
    },
    stop,
  })
}

function engineEntry(): { file: string; execArgv: string[] } {
  const js = fileURLToPath(new URL('./engine-main.js', import.meta.url))
  if (existsSync(js)) return { file: js, execArgv: [] }
  // Running from TypeScript sources (tests, dev): load them through tsx.
  return { file: fileURLToPath(new URL('./engine-main.ts', import.meta.url)), execArgv: ['--import', 'tsx'] }
}

export function canConnect(socket: string, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socket)
    const done = (ok: boolean) => {
      s.destroy()
      resolve(ok)
    }
    s.setTimeout(timeoutMs, () => done(false))
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

type SpawnResult = { kind: 'ready'; child: ChildProcess } | { kind: 'locked' } | { kind: 'failed'; reason: string }

function spawnEngine(dataDir: string, timeoutMs: number, log: Logger): Promise<SpawnResult> {
  const { file, execArgv } = engineEntry()
  const child = fork(file, [dataDir], { execArgv, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => {
    const text = d.toString()
    stderr = (stderr + text).slice(-4000)
    for (const line of text.split('\n')) if (line.trim()) log.debug({ engine: child.pid }, line.trim())
  })
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve({ kind: 'failed', reason: `embedded engine did not start within ${timeoutMs / 1000} s` })
    }, timeoutMs)
    child.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') {
        clearTimeout(timer)
        resolve({ kind: 'ready', child })
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === EXIT_LOCKED) resolve({ kind: 'locked' })
      else resolve({ kind: 'failed', reason: `embedded engine exited with code ${code}: ${stderr.trim().split('\n').pop() ?? ''}` })
    })
  })
}

async function waitForSocket(socket: string, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await canConnect(socket)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

export interface EnsureEngineOptions {
  dataDir: string
  log: Logger
  startTimeoutMs: number
  /** Restart an engine we started if it dies (a long-running server); CLI commands do not. */
  supervise: boolean
}

/**
 * Returns a running engine for `dataDir`: the one another process already runs, or one started here.
 * A started engine lingers after this process exits while other processes still use it.
 */
export async function ensureEngine(opts: EnsureEngineOptions): Promise<EngineHandle> {
  const { dataDir, log } = opts
  const socket = engineSocketPath(dataDir)
  for (let attempt = 0; attempt < 3; attempt++) {
    const lock = readEngineLock(dataDir)
    if (lock && (await waitForSocket(lock.socket, opts.startTimeoutMs))) {
      log.info({ pid: lock.pid, socket: lock.socket }, 'using the embedded engine another pingscope process runs')
      const state = { owned: false, pid: lock.pid, restarts: 0 }
      return opts.supervise ? supervise(null, lock.socket, state, opts) : createHandle(lock.socket, state, async () => {})
    }
    const res = await spawnEngine(dataDir, opts.startTimeoutMs, log)
    if (res.kind === 'locked') continue // another process won the race: use its engine
    if (res.kind === 'failed') throw new Error(res.reason)
    const state = { owned: true, pid: res.child.pid!, restarts: 0 }
    return opts.supervise ? supervise(res.child, socket, state, opts) : unsupervised(res.child, socket, state)
  }
  throw new Error(`could not start or reach the embedded engine for ${dataDir}`)
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

function unsupervised(child: ChildProcess, socket: string, state: EngineState): EngineHandle {
  // Let this process exit while the engine finishes serving others; the IPC disconnect tells it we left.
  child.unref()
  child.channel?.unref()
  return createHandle(socket, state, async () => {
    if (child.connected) child.disconnect()
  })
}

/**
 * Keeps an engine running for as long as this process needs it: restarts the one it started when that
 * dies, and starts one when an engine run by another process (a CLI command) goes away.
 */
function supervise(first: ChildProcess | null, socket: string, state: EngineState, opts: EnsureEngineOptions): EngineHandle {
  const { log } = opts
  let child = first
  let stopping = false
  let starting = false
  let failures = 0

  async function check() {
    if (stopping || starting) return
    if (child && child.exitCode === null && child.signalCode === null) return
    if (readEngineLock(opts.dataDir)) return // someone serves the directory
    starting = true
    try {
      const res = await spawnEngine(opts.dataDir, opts.startTimeoutMs, log)
      if (stopping) {
        if (res.kind === 'ready') await stopChild(res.child)
        return
      }
      if (res.kind === 'ready') {
        child = res.child
        state.owned = true
        state.pid = child.pid!
        state.restarts++
        failures = 0
        log.warn({ pid: state.pid, restarts: state.restarts }, 'embedded engine (re)started')
        child.once('exit', onExit)
      } else if (res.kind === 'failed') {
        failures++
        log.error({ reason: res.reason, failures }, 'embedded engine restart failed; retrying')
      }
    } finally {
      starting = false
    }
  }
  function onExit(code: number | null, signal: string | null) {
    if (stopping) return
    log.error({ code, signal }, 'embedded engine exited; restarting it')
    void check()
  }
  child?.once('exit', onExit)
  const timer = setInterval(() => void check(), 1000)
  timer.unref()
  return createHandle(socket, state, async () => {
    stopping = true
    clearInterval(timer)
    if (child) await stopChild(child)
  })
}
