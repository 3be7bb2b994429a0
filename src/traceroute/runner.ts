import { spawn } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import path from 'node:path'
import { isIP } from 'node:net'

// The traceroute adapter: the system binary run with an argument array (never a shell), an overall
// timeout, and SIGTERM then SIGKILL. It knows nothing of HTTP: failures are TracerouteErrors.

export interface TracerouteRequest {
  address: string
  maxHops: number
  /** Overall limit; the process is killed when it passes. */
  timeoutMs: number
  /** Probes per hop (-q; default 1). */
  queries?: number
  /** Aborting kills the process too (server shutdown). */
  signal?: AbortSignal
}

export interface TracerouteRun {
  stdout: string
  startedAt: Date
  finishedAt: Date
  durationMs: number
}

export interface TracerouteRunner {
  run(req: TracerouteRequest): Promise<TracerouteRun>
}

export type TracerouteFailure = 'not_found' | 'timeout' | 'aborted' | 'failed'

export class TracerouteError extends Error {
  constructor(
    readonly reason: TracerouteFailure,
    message: string,
  ) {
    super(message)
    this.name = 'TracerouteError'
  }
}

export interface RunnerOptions {
  bin: string
  /** Time between SIGTERM and SIGKILL once the timeout has passed. */
  killGraceMs?: number
  /** Output beyond this is dropped (64 hops of -q 1 take about 3 KB, of -q 10 about 15 KB). */
  maxOutputBytes?: number
}

/** Per-probe wait (-w): traceroute's default 5 s, less for short timeouts so that silent hops fit in them. */
export function probeWaitSeconds(timeoutMs: number): number {
  return Math.round(Math.min(5, timeoutMs / 4000) * 1000) / 1000
}

export function tracerouteArgs(req: Pick<TracerouteRequest, 'address' | 'maxHops' | 'timeoutMs' | 'queries'>): string[] {
  return [
    '-n', // never reverse DNS: slow, and it leaks every hop to the resolver
    '-q', String(req.queries ?? 1), // probes per hop: 1 for a run on demand, more for per-hop loss (schedules)
    '-w', String(probeWaitSeconds(req.timeoutMs)),
    '-m', String(req.maxHops),
    ...(isIP(req.address) === 6 ? ['-6'] : []),
    '--', // the address can never be read as an option
    req.address,
  ]
}

export function createTracerouteRunner(opts: RunnerOptions): TracerouteRunner {
  const killGraceMs = opts.killGraceMs ?? 1000
  const maxOutputBytes = opts.maxOutputBytes ?? 256 * 1024

  return {
    run(req) {
      return new Promise<TracerouteRun>((resolve, reject) => {
        if (req.signal?.aborted) return reject(new TracerouteError('aborted', 'Traceroute cancelled: server shutting down'))
        const startedAt = new Date()
        const t0 = performance.now()
        const child = spawn(opts.bin, tracerouteArgs(req), { stdio: ['ignore', 'pipe', 'pipe'] })
        let stdout = ''
        let stderr = ''
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          if (stdout.length < maxOutputBytes) stdout += d
        })
        child.stderr.setEncoding('utf8').on('data', (d: string) => {
          if (stderr.length < 4096) stderr += d
        })

        let killedFor: 'timeout' | 'aborted' | null = null
        let killTimer: NodeJS.Timeout | undefined
        const kill = (why: 'timeout' | 'aborted') => {
          if (killedFor || child.exitCode !== null || child.signalCode !== null) return
          killedFor = why
          child.kill('SIGTERM')
          killTimer = setTimeout(() => child.kill('SIGKILL'), killGraceMs)
        }
        const timer = setTimeout(() => kill('timeout'), req.timeoutMs)
        const onAbort = () => kill('aborted')
        req.signal?.addEventListener('abort', onAbort, { once: true })

        let settled = false
        const settle = (fn: () => void) => {
          if (settled) return
          settled = true
          clearTimeout(timer)
          clearTimeout(killTimer)
          req.signal?.removeEventListener('abort', onAbort)
          fn()
        }

        child.on('error', (err: NodeJS.ErrnoException) => {
          // Spawn failures (no such file, not executable); a kill failing later is not fatal.
          if (child.pid !== undefined) return
          settle(() =>
            reject(
              err.code === 'ENOENT'
                ? new TracerouteError('not_found', 'Traceroute binary not found on host')
                : new TracerouteError('failed', `Traceroute could not start: ${err.code ?? err.message}`),
            ),
          )
        })
        // After a kill, answer as soon as the process is gone: a grandchild could hold the pipes open.
        child.on('exit', () => {
          if (!killedFor) return
          child.stdout.destroy()
          child.stderr.destroy()
          settle(() =>
            reject(
              killedFor === 'timeout'
                ? new TracerouteError('timeout', 'Traceroute timed out')
                : new TracerouteError('aborted', 'Traceroute cancelled: server shutting down'),
            ),
          )
        })
        child.on('close', (code, signal) => {
          if (killedFor) return
          const finishedAt = new Date()
          const durationMs = Math.round((performance.now() - t0) * 1000) / 1000
          if (code === 0) return settle(() => resolve({ stdout, startedAt, finishedAt, durationMs }))
          const firstLine = stderr.split('\n').map((l) => l.trim()).find(Boolean)
          settle(() => reject(new TracerouteError('failed', firstLine ?? `Traceroute failed (${signal ? `signal ${signal}` : `exit code ${code}`})`)))
        })
      })
    },
  }
}

/**
 * Whether the traceroute binary is there to be run: null when it is, else the reason and the fix. It is
 * looked up as spawn would (a name on PATH, or a path), without running it.
 */
export function checkTracerouteBinary(bin: string, searchPath: string): string | null {
  const candidates = bin.includes('/') ? [bin] : searchPath.split(':').filter(Boolean).map((dir) => path.join(dir, bin))
  for (const file of candidates) {
    try {
      accessSync(file, constants.X_OK)
      if (statSync(file).isFile()) return null
    } catch {
      // not here
    }
  }
  return `traceroute binary "${bin}" not found${bin.includes('/') ? '' : ' on PATH'}: traceroute runs answer 503 until it is installed (Debian: apt-get install traceroute) or TRACEROUTE_BIN names it`
}
