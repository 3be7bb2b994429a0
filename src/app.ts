import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Config } from './config.js'
import type { JobRunner } from './db/jobs.js'
import { schemaVersion } from './db/migrate.js'
import type { Database } from './db/open.js'
import { AppError, errorHandler } from './errors.js'
import type { Logger } from './log.js'
import { VERSION } from './version.js'

export interface AppDeps {
  config: Config
  db: Database
  log: Logger
  jobs: JobRunner
  /** Probe engine status for /health (scheduler and writer statistics). */
  probe: () => { enabled: boolean; running: boolean; writer: { retrying: boolean; dropped: number } } & Record<string, unknown>
}

/** Builds the HTTP application; `server.ts` runs it. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { db, jobs } = deps
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    disableRequestLogging: true,
    routerOptions: { ignoreTrailingSlash: true },
  })
  app.setErrorHandler(errorHandler(deps.log))
  app.setNotFoundHandler((req, reply) => reply.status(404).send({ detail: 'Not Found' }))
  const startedAt = Date.now()

  app.get('/health', async (_req, reply) => {
    const t0 = performance.now()
    let reachable = true
    let version = 0
    let error: string | undefined
    try {
      // A long aggregate refresh holds the embedded engine's single backend: do not hang the probe on it.
      version = await Promise.race([
        schemaVersion(db.sql),
        new Promise<never>((_, reject) => setTimeout(() => reject(new AppError(503, 'database did not answer within 3 s')), 3000).unref()),
      ])
    } catch (err) {
      reachable = false
      error = err instanceof Error ? err.message : String(err)
    }
    const probe = deps.probe()
    // Degraded: the database does not answer, samples are waiting for it (or were given up), or
    // probing is configured but cannot run (no CAP_NET_RAW).
    const degraded = !reachable || probe.writer.retrying || probe.writer.dropped > 0 || (probe.enabled && !probe.running)
    const body = {
      status: degraded ? 'degraded' : 'ok',
      version: VERSION,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      database: {
        mode: db.mode,
        reachable,
        latency_ms: Math.round((performance.now() - t0) * 100) / 100,
        schema_version: version,
        ...(error ? { error } : {}),
        ...(db.engine
          ? { engine: { pid: db.engine.pid, owned: db.engine.owned, restarts: db.engine.restarts } }
          : {}),
      },
      jobs: jobs.status(),
      probe,
    }
    return reply.status(reachable ? 200 : 503).send(body)
  })

  return app
}
