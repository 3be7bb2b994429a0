import fastifyCompress from '@fastify/compress'
import fastifyCors from '@fastify/cors'
import fastifyHelmet from '@fastify/helmet'
import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify'
import { type ZodTypeProvider, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import type { AlertingStatus } from './alerts/alerting.js'
import { agentRoutes } from './agent/agent.routes.js'
import { alertRoutes } from './alerts/alerts.routes.js'
import { incidentRoutes } from './alerts/incidents.routes.js'
import { authPlugin } from './auth/auth.plugin.js'
import { authRoutes } from './auth/auth.routes.js'
import type { Config } from './config.js'
import type { JobRunner } from './db/maintenance/jobs.js'
import type { Database } from './db/open.js'
import { errorHandler, frameworkErrorHandler } from './errors.js'
import { badgeRoutes } from './badge/badge.routes.js'
import { statusPageRoutes } from './status-page/status-page.routes.js'
import { eventsRoutes } from './events/events.routes.js'
import { insightsRoutes } from './insights/insights.routes.js'
import type { LiveHub } from './live/hub.js'
import { liveRoutes } from './live/live.routes.js'
import { createStateWatch } from './live/state-watch.js'
import type { Logger } from './log.js'
import { healthRoutes } from './ops/health.routes.js'
import { metricsRoutes } from './ops/metrics.routes.js'
import type { ProbeStatus } from './probe/status.js'
import { samplesRoutes } from './samples/samples.routes.js'
import { siteRoutes } from './sites/sites.routes.js'
import { targetRoutes } from './targets/targets.routes.js'
import { LOSS_WINDOW_SHARED_MS } from './targets/target-state.js'
import { readLossWindow } from './targets/targets.repo.js'
import { listTargetStates } from './targets/targets.service.js'
import { sharedFor } from './fleet/fleet.routes.js'
import { checkTracerouteBinary } from './traceroute/runner.js'
import { tracerouteRoutes } from './traceroute/traceroute.routes.js'
import { VERSION } from './version.js'
import { webPlugin } from './web/web.plugin.js'

export interface AppDeps {
  config: Config
  db: Database
  log: Logger
  jobs: JobRunner
  jwtSecret: string
  live: LiveHub
  /** Hostname resolution for new targets (default: the system resolver). */
  resolveHost?: (hostname: string) => Promise<string>
  /** How often target states are read for the live stream while anyone listens (default 5 s). */
  statePollMs?: number
  /** Probe engine status for /health (scheduler and writer statistics). */
  probe: () => ProbeStatus
  /** This process's alert evaluator and sender, for /health and /metrics (absent or null: not running). */
  alerts?: () => AlertingStatus | null
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
    frameworkErrors: frameworkErrorHandler,
  }).withTypeProvider<ZodTypeProvider>()
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.setErrorHandler(errorHandler(deps.log))
  app.setNotFoundHandler((_req, reply) => reply.status(404).send({ detail: 'Not Found' }))

  // Security headers on every answer, dashboard and API alike. The dashboard loads only its own hashed
  // scripts and styles (Vite build); uPlot and React set styles through the CSSOM, which CSP allows.
  // Nothing may frame pingscope (clickjacking): frame-ancestors 'none' and X-Frame-Options DENY.
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: null,
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // served over plain HTTP on a LAN as often as behind TLS: HSTS is the TLS terminator's business
    strictTransportSecurity: false,
  })

  // Compressed answers (br, gzip or deflate, as the client accepts) for JSON, the dashboard's assets and
  // CSV exports (streamed through the compressor, page by page): the fleet's target list is 424 KB of
  // JSON, about a tenth compressed. Registered before every route, @fastify/static's included (it must
  // be). GET /live takes over the socket (reply.hijack), so no compressor ever buffers its events; its
  // route also says `compress: false`. Bodies under 1 KB go as they are. Requests are not decompressed:
  // clients send plain JSON.
  await app.register(fastifyCompress, { global: true, globalDecompression: false, threshold: 1024 })

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
  // The docs page has no inline script (swagger-ui 6) but sets inline styles while it renders: its pages
  // alone allow inline styles, never scripts. Its validator badge (an outside request) is off.
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { validatorUrl: null },
    transformStaticCSP: (csp) => csp.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  })

  await app.register(authPlugin, { sql: db.sql, secret: deps.jwtSecret, expiresMin: config.auth.jwtExpiresMin })
  // An optional tool: without it only traceroute runs fail, so say it once (log and /health), clearly.
  const tracerouteProblem = checkTracerouteBinary(config.traceroute.bin, config.traceroute.searchPath)
  if (tracerouteProblem) deps.log.warn(tracerouteProblem)
  await app.register(healthRoutes, {
    db,
    jobs: deps.jobs,
    probe: deps.probe,
    ...(deps.alerts ? { alerts: deps.alerts } : {}),
    traceroute: { available: tracerouteProblem === null, bin: config.traceroute.bin, ...(tracerouteProblem ? { error: tracerouteProblem } : {}) },
  })
  await app.register(authRoutes, {
    sql: db.sql,
    expiresMin: config.auth.jwtExpiresMin,
    loginRateLimitPerMin: config.auth.loginRateLimitPerMin,
    loginRateLimitGlobalPerMin: config.auth.loginRateLimitGlobalPerMin,
  })
  // Every target's loss window (the state's degraded test), read at most once per LOSS_WINDOW_SHARED_MS
  // for the list, each target, the badges and the live stream's state watch of this process.
  const lossWindow = sharedFor(LOSS_WINDOW_SHARED_MS, () => readLossWindow(db.sql, null))
  await app.register(targetRoutes, { sql: db.sql, lossWindow, ...(deps.resolveHost ? { resolveHost: deps.resolveHost } : {}) })
  await app.register(liveRoutes, { hub: deps.live })
  // Target state changes on the live stream, so that open dashboards follow the API's states.
  const stateWatch = createStateWatch({
    hub: deps.live,
    pollMs: deps.statePollMs ?? 5_000,
    readStates: () => listTargetStates(db.sql, lossWindow),
    onError: (err) => deps.log.warn({ err }, 'reading target states for the live stream failed'),
  })
  app.addHook('onClose', async () => stateWatch.close())
  await app.register(metricsRoutes, { sql: db.sql, live: deps.live, jobs: deps.jobs, probe: deps.probe, ...(deps.alerts ? { alerts: deps.alerts } : {}) })
  await app.register(badgeRoutes, { sql: db.sql, lossWindow })
  await app.register(statusPageRoutes, { sql: db.sql, lossWindow })
  await app.register(tracerouteRoutes, { sql: db.sql, ...config.traceroute })
  await app.register(samplesRoutes, { sql: db.sql })
  await app.register(siteRoutes, { sql: db.sql })
  await app.register(eventsRoutes, { sql: db.sql })
  await app.register(insightsRoutes, { sql: db.sql, retention: config.retention })
  await app.register(alertRoutes, { sql: db.sql, groupWaitMs: config.alerts.groupWaitMs })
  await app.register(incidentRoutes, { sql: db.sql })
  await app.register(agentRoutes, { sql: db.sql, heartbeatMs: config.probe.heartbeatMs, rawRetentionDays: config.retention.rawDays })
  await app.register(webPlugin, { sql: db.sql })
  return app as unknown as FastifyInstance
}
