import fastifyCors from '@fastify/cors'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { type ZodTypeProvider, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { authPlugin } from './auth/auth.plugin.js'
import { authRoutes } from './auth/auth.routes.js'
import type { Config } from './config.js'
import type { JobRunner } from './db/jobs.js'
import type { Database } from './db/open.js'
import { errorHandler } from './errors.js'
import { badgeRoutes } from './badge/badge.routes.js'
import { healthRoutes } from './health.routes.js'
import { insightsRoutes } from './insights/insights.routes.js'
import type { LiveHub } from './live/hub.js'
import { liveRoutes } from './live/live.routes.js'
import type { Logger } from './log.js'
import { samplesRoutes } from './samples/samples.routes.js'
import { metricsRoutes } from './metrics/metrics.routes.js'
import { targetRoutes } from './targets/targets.routes.js'
import { tracerouteRoutes } from './traceroute/traceroute.routes.js'
import { VERSION } from './version.js'
import { webPlugin } from './web/web.plugin.js'

export interface ProbeStatus {
  enabled: boolean
  running: boolean
  writer: { retrying: boolean; dropped: number }
  [k: string]: unknown
}

export interface AppDeps {
  config: Config
  db: Database
  log: Logger
  jobs: JobRunner
  jwtSecret: string
  live: LiveHub
  /** Hostname resolution for new targets (default: the system resolver). */
  resolveHost?: (hostname: string) => Promise<string>
  /** Probe engine status for /health (scheduler and writer statistics). */
  probe: () => ProbeStatus
}

/** Builds the HTTP application; `server.ts` runs it. Tests use it with `app.inject`. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, db } = deps
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Request lines are noise at 1,000 targets: pingscope logs what happened, not each request.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler(errorHandler(deps.log))
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ detail: 'Not Found' }))

  // The dashboard is same-origin; CORS_ORIGINS lets a separate front end (e.g. the Vite dev server) call
  // the API from a browser. Nothing is allowed cross-origin unless listed.
  if (config.corsOrigins.length > 0) {
    await app.register(fastifyCors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['x-total-count', 'content-disposition'],
      maxAge: 600,
    })
  }
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'pingscope API', version: VERSION, description: 'Network telemetry: targets, samples, insights, traceroutes.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or pst_ API token' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  })
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' })

  await app.register(authPlugin, { sql: db.sql, secret: deps.jwtSecret, expiresMin: config.auth.jwtExpiresMin })
  await app.register(healthRoutes, { db, jobs: deps.jobs, probe: deps.probe })
  await app.register(authRoutes, { sql: db.sql, expiresMin: config.auth.jwtExpiresMin, loginRateLimitPerMin: config.auth.loginRateLimitPerMin })
  await app.register(targetRoutes, { sql: db.sql, ...(deps.resolveHost ? { resolveHost: deps.resolveHost } : {}) })
  await app.register(liveRoutes, { hub: deps.live })
  await app.register(metricsRoutes, { sql: db.sql, live: deps.live, jobs: deps.jobs, probe: deps.probe })
  await app.register(badgeRoutes, { sql: db.sql })
  await app.register(tracerouteRoutes, { sql: db.sql, ...config.traceroute })
  await app.register(samplesRoutes, { sql: db.sql })
  await app.register(insightsRoutes, { sql: db.sql, retention: config.retention })
  await app.register(webPlugin, { sql: db.sql })
  return app as unknown as FastifyInstance
}
