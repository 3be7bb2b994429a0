import type { FastifyInstance } from 'fastify'
import os from 'node:os'
import { type Alerting, startAlerting } from './alerts/alerting.js'
import { buildApp } from './app.js'
import { ensureAdmin, loadJwtSecret } from './auth/bootstrap.js'
import type { Config } from './config.js'
import { createJobRunner } from './db/maintenance/jobs.js'
import { migrate } from './db/migrate.js'
import { type Database, openDatabase } from './db/open.js'
import { reconcilePolicies } from './db/maintenance/policies.js'
import { createLiveHub } from './live/hub.js'
import type { Logger } from './log.js'
import { IcmpPermissionError, type Pinger, createIcmpPinger } from './probe/icmp.js'
import { type LeaseKeeper, createLeaseKeeper } from './probe/leases.js'
import { type Scheduler, createScheduler } from './probe/scheduler.js'
import { createWriter } from './probe/writer.js'
import { DEFAULT_SITE_ID, ensureSite } from './sites/sites.repo.js'
import { VERSION } from './version.js'

export interface RunningServer {
  app: FastifyInstance
  db: Database
  url: string
  scheduler: Scheduler | null
  stop(): Promise<void>
}

export interface ServerOverrides {
  /** Replaces the ICMP adapter (tests of pure scheduling logic only). */
  pinger?: Pinger
}

/** A probe-only process (`pingscope probe`, `serve --no-api`): no HTTP, no jobs, no alerting. */
export type RunningProbe = Omit<RunningServer, 'app' | 'url'>

/** Probing needs ICMP: a probe-only process that cannot send it stops with this. */
export class ProbeUnavailableError extends Error {
  override name = 'ProbeUnavailableError'
}

/**
 * config → database → migrations → policies → job runner → writer + fleet leases + scheduler → HTTP.
 * `stop()`: leases handed back (their rounds in flight finish first), scheduler, flush samples, HTTP,
 * jobs, database.
 *
 * With `api: false` (a probe-only process of the fleet) only the database, migrations, the writer, the
 * leases and the scheduler run: the per-database work (policy jobs, alert evaluation and delivery) and
 * the API stay with the `serve` processes, and a process that cannot probe refuses to start.
 */
export async function startServer(config: Config, log: Logger, overrides?: ServerOverrides & { api?: true }): Promise<RunningServer>
export async function startServer(config: Config, log: Logger, overrides: ServerOverrides & { api: false }): Promise<RunningProbe>
export async function startServer(config: Config, log: Logger, overrides: ServerOverrides & { api?: boolean } = {}): Promise<RunningServer | RunningProbe> {
  const withApi = overrides.api !== false
  const t0 = performance.now()
  const db = await openDatabase(config, { log, supervise: true })
  let app: FastifyInstance | undefined
  const jobs = createJobRunner({
    sql: db.sql,
    log,
    mode: db.mode,
    enabled: config.jobs.enabled && withApi,
    pollMs: config.jobs.pollMs,
    vacuumIntervalMs: config.jobs.vacuumIntervalMs,
    stepMs: config.jobs.stepMs,
  })
  // The probe's site id (sites.id), known once the schema is migrated; samples are written with it.
  let siteId = DEFAULT_SITE_ID
  const writer = createWriter({ sql: db.sql, log, ...config.writer, siteId: () => siteId })
  const live = createLiveHub()
  let scheduler: Scheduler | null = null
  let alerts: Alerting | null = null
  let leases: LeaseKeeper | null = null
  let pinger: Pinger | null = null
  let probeError: string | null = null
  try {
    const { applied, version } = await migrate(db.sql)
    log.info({ applied, version }, applied.length ? 'migrations applied' : 'schema up to date')
    if (withApi) {
      await reconcilePolicies(db.sql, config.retention)
      jobs.start()
      if (config.alerts.enabled) alerts = startAlerting({ sql: db.sql, log, evalMs: config.alerts.evalMs, groupWaitMs: config.alerts.groupWaitMs })
    }
    if (config.probe.enabled) {
      try {
        pinger = overrides.pinger ?? createIcmpPinger()
      } catch (err) {
        // Without CAP_NET_RAW the API and CLI still work; say once, clearly, how to fix it.
        if (!(err instanceof IcmpPermissionError)) throw err
        probeError = err.message
        if (!withApi) throw new ProbeUnavailableError(err.message)
        log.error(err.message)
      }
    } else if (withApi) probeError = 'disabled by PROBE_ENABLED=false'
    else throw new ProbeUnavailableError('probing is disabled by PROBE_ENABLED=false: a probe-only process has nothing to do')
    if (pinger) {
      // A process that probes joins the fleet of its site: it probes only the targets it holds a lease on.
      const now = () => performance.timeOrigin + performance.now()
      const { name, site, heartbeatMs } = config.probe
      siteId = await ensureSite(db.sql, site)
      const keeper = createLeaseKeeper({
        sql: db.sql,
        log,
        identity: { name, site, heartbeatMs, version: VERSION, hostname: os.hostname(), pid: process.pid, capacity: null },
        pollMs: config.probe.reloadMs,
        now,
        drain: (ids) => scheduler?.drain(ids) ?? Promise.resolve(),
        onChange: () => void scheduler?.reload(),
      })
      leases = keeper
      await keeper.start()
      scheduler = createScheduler({
        sql: db.sql,
        log,
        pinger,
        writer,
        ...config.probe,
        now,
        leases: keeper.view,
        onRound: (r) => live.round(r),
        onOutage: (id, state, cause) => live.outage(id, state, cause),
        onTargetsChanged: () => live.targetsChanged('changed'),
      })
      await scheduler.start()
    }
    // Self-monitoring in the logs: one line a minute with the probe engine's figures.
    const monitor = setInterval(() => {
      if (scheduler) log.info({ scheduler: scheduler.stats(), writer: writer.stats(), leases: leases?.status() }, 'probe engine')
    }, 60_000)
    monitor.unref()
    let stopping: Promise<void> | null = null
    const stop = () =>
      (stopping ??= (async () => {
        clearInterval(monitor)
        // Hand the targets over first: the other probes of the site take them at their next look.
        await leases?.stop()
        await scheduler?.stop()
        await writer.stop()
        pinger?.close()
        const w = writer.stats()
        log.info({ samplesWritten: w.written, samplesDropped: w.dropped, rounds: scheduler?.stats().rounds ?? 0 }, 'probe engine stopped')
        live.close()
        await app?.close()
        await alerts?.stop()
        await jobs.stop()
        await db.close()
      })())
    if (!withApi) {
      const { name, site } = config.probe
      log.info({ name, site, database: db.mode, ms: Math.round(performance.now() - t0) }, 'pingscope probe is running (no API)')
      return { db, scheduler, stop }
    }
    const jwtSecret = await loadJwtSecret(db.sql, config)
    await ensureAdmin(db.sql, config, log)
    app = await buildApp({
      config,
      db,
      log,
      jobs,
      jwtSecret,
      live,
      probe: () => ({
        enabled: config.probe.enabled,
        running: scheduler !== null,
        error: probeError,
        scheduler: scheduler?.stats() ?? null,
        writer: writer.stats(),
        leases: leases?.status() ?? null,
      }),
      alerts: () => alerts?.status() ?? null,
    })
    const url = await app.listen({ host: config.host, port: config.port })
    log.info({ url, database: db.mode, ms: Math.round(performance.now() - t0) }, 'pingscope is serving')
    return { app, db, url, scheduler, stop }
  } catch (err) {
    await leases?.stop().catch(() => {})
    await scheduler?.stop().catch(() => {})
    await writer.stop(1000).catch(() => 0)
    pinger?.close()
    await app?.close().catch(() => {})
    await alerts?.stop().catch(() => {})
    await jobs.stop()
    await db.close().catch(() => {})
    throw err
  }
}
