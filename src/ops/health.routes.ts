import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { AlertingStatus } from '../alerts/alerting.js'
import { type AlertFigures, alertFigures } from '../alerts/status.repo.js'
import type { JobRunner } from '../db/maintenance/jobs.js'
import { schemaVersion } from '../db/migrate.js'
import type { Database } from '../db/open.js'
import { AppError } from '../errors.js'
import { type ProbeRow, listProbes } from '../probe/probes.repo.js'
import type { ProbeStatus } from '../probe/status.js'
import { VERSION } from '../version.js'

export interface HealthOptions {
  db: Database
  jobs: JobRunner
  probe: () => ProbeStatus
  /** Checked once at start: traceroute is optional, so its absence does not degrade the status. */
  traceroute: { available: boolean; bin: string; error?: string }
  /** This process's evaluator and sender (null: ALERTS_ENABLED=false here). */
  alerts?: () => AlertingStatus | null
}

export const healthRoutes: FastifyPluginAsyncZod<HealthOptions> = async (app, { db, jobs, probe: probeStatus, traceroute, alerts = () => null }) => {
  const startedAt = Date.now()
  app.get('/health', { schema: { tags: ['health'], summary: 'Liveness and readiness (public)', security: [] } }, async (_req, reply) => {
    const t0 = performance.now()
    let reachable = true
    let version = 0
    let probes: ProbeRow[] = []
    let figures: AlertFigures | null = null
    let error: string | undefined
    try {
      // A long aggregate refresh holds the embedded engine's single backend: do not hang the probe on it.
      const answers = await Promise.race([
        Promise.all([schemaVersion(db.sql), listProbes(db.sql), alertFigures(db.sql)]),
        new Promise<never>((_, reject) => setTimeout(() => reject(new AppError(503, 'database did not answer within 3 s')), 3000).unref()),
      ])
      version = answers[0]
      probes = answers[1]
      figures = answers[2]
    } catch (err) {
      reachable = false
      error = err instanceof Error ? err.message : String(err)
    }
    const probe = probeStatus()
    // Degraded: the database does not answer, samples are waiting for it (or were given up),
    // probing is configured but cannot run (no CAP_NET_RAW), or the fleet's lease steps fail.
    const degraded =
      !reachable || probe.writer.retrying || probe.writer.dropped > 0 || (probe.enabled && !probe.running) || Boolean(probe.leases?.lastError)
    return reply.status(reachable ? 200 : 503).send({
      status: degraded ? 'degraded' : 'ok',
      version: VERSION,
      uptime_s: Math.round((Date.now() - startedAt) / 1000),
      database: {
        mode: db.mode,
        reachable,
        latency_ms: Math.round((performance.now() - t0) * 100) / 100,
        schema_version: version,
        ...(error ? { error } : {}),
        ...(db.engine ? { engine: { pid: db.engine.pid, owned: db.engine.owned, restarts: db.engine.restarts } } : {}),
      },
      jobs: jobs.status(),
      probe,
      // The probe fleet on this database (every process that probes, this one included), from the table.
      probes: probes.map((p) => ({
        name: p.name,
        site: p.site,
        state: p.state,
        version: p.version,
        heartbeat_age_s: Math.round(p.heartbeatAgeS * 10) / 10,
        assigned: p.assigned,
        started_at: p.startedAt.toISOString(),
        last_error: p.lastError,
      })),
      traceroute,
      alerts: alertsJson(alerts(), figures),
    })
  })
}

/**
 * Alerting in /health: whether this process evaluates and delivers (with its counters since start), and,
 * from the database, the open incidents by severity and the notifications waiting to be delivered.
 */
function alertsJson(status: AlertingStatus | null, figures: AlertFigures | null) {
  const e = status?.evaluator
  const s = status?.sender
  return {
    enabled: status !== null,
    evaluator: e ? { passes: e.passes, failures: e.failures, fired: e.fired, resolved: e.resolved, last_pass_ms: e.lastPassMs, last_error: e.lastError } : null,
    sender: s ? { delivered: s.delivered, notifications: s.notifications, failures: s.failures, given_up: s.givenUp, last_error: s.lastError } : null,
    open_incidents: figures?.open ?? null,
    queued_notifications: figures?.queued ?? null,
    oldest_queued_s: figures?.oldestQueuedS === null || figures?.oldestQueuedS === undefined ? null : Math.round(figures.oldestQueuedS),
  }
}
