import type { Logger } from '../../log.js'
import { type MaintenanceStep, type StepRun, createEmbeddedMaintenance } from './embedded-maintenance.js'
import type { Sql } from '../open.js'
import { type JobRun, type PolicyJob, VACUUM_JOB_ID, dueJobs, failingTimescaleJobs, jobName, recordRun, runExclusive, runJob, vacuumAnalyze } from './job-runs.js'

// The embedded engine has no background workers: TimescaleDB's policies (continuous-aggregate refresh,
// compression, retention) never run by themselves and autovacuum cannot run either. This runner calls
// each policy job when it is due, runs VACUUM ANALYZE periodically, and logs every run in job_runs because
// timescaledb's job_stats stays empty here. It runs them in short steps (./maintenance/): the engine has one
// backend, and a job in one piece would hold every other client for as long as it runs.
// Against a TimescaleDB server its own scheduler runs the jobs, and this runner only watches them: a job
// that scheduler fails (its last run Failed) or no longer completes (overdue by twice its interval plus a
// grace) is taken over, and pingscope then runs it on its schedule, one process of a fleet at a time
// (an advisory lock per job), for as long as it runs. A job held with next_start = infinity (TimescaleDB's
// documented pause) is the operator's choice and left alone. /health and /metrics list the taken-over jobs.

export interface TakenOverJob {
  job: string
  /** Why TimescaleDB's scheduler was found wanting. */
  reason: string
  since: string
}

export interface JobRunnerStatus {
  mode: 'pingscope' | 'timescaledb' | 'disabled'
  running: boolean
  /** Server mode: the policy jobs pingscope runs because TimescaleDB's scheduler failed or stalled them. */
  takenOver: TakenOverJob[]
  lastTickAt: string | null
  lastError: string | null
  runs: number
  failures: number
}

export interface JobRunnerOptions {
  sql: Sql
  log: Logger
  mode: 'server' | 'embedded'
  enabled: boolean
  pollMs: number
  vacuumIntervalMs: number
  /** The longest a maintenance statement should hold the embedded engine (about; a chunk is one step). */
  stepMs?: number
  /** Embedded engine: run the policies in short steps (default). False runs each in one piece. */
  stepped?: boolean
  /** Called after every maintenance statement of a stepped run (benchmarks, logs). */
  onStep?: (step: MaintenanceStep) => void
  /** Stepped runs: the pause after each statement as a share of its time (default 1; 0 for none). */
  pauseRatio?: number
  now?: () => Date
  /** Server mode: slack beyond 2 × a job's interval before a job TimescaleDB has not completed is taken over (default 5 min). */
  takeoverGraceMs?: number
}

const CHUNK_SIZING_EVERY_MS = 5 * 60_000

export function createJobRunner(opts: JobRunnerOptions) {
  const { sql, log } = opts
  const now = opts.now ?? (() => new Date())
  const active = opts.enabled
  const status: JobRunnerStatus = {
    mode: !opts.enabled ? 'disabled' : opts.mode === 'embedded' ? 'pingscope' : 'timescaledb',
    running: false,
    takenOver: [],
    lastTickAt: null,
    lastError: null,
    runs: 0,
    failures: 0,
  }
  let timer: NodeJS.Timeout | undefined
  let ticking: Promise<void> | null = null
  let stopped = false

  const maintenance = createEmbeddedMaintenance({ sql, stepMs: opts.stepMs ?? 500, now, onStep: opts.onStep, stopped: () => stopped, pauseRatio: opts.pauseRatio })
  // Set when TimescaleDB's catalogs no longer look as expected: the policies then run in one piece.
  let steppedFailed = opts.stepped === false
  let sizedAt = -Infinity

  /** Runs `f` in steps, logged in job_runs like a policy run; falls back to run_job once the catalogs differ. */
  async function stepped(job: PolicyJob, f: () => Promise<StepRun>): Promise<JobRun> {
    if (steppedFailed) return runJob(sql, job)
    const started = new Date()
    const t0 = performance.now()
    let error: string | undefined
    let r: StepRun = { steps: 0, maxStepMs: 0 }
    try {
      r = await f()
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
      if (/_timescaledb_catalog|does not exist|unknown continuous aggregate/.test(error)) {
        steppedFailed = true
        log.warn({ job: jobName(job), err: error }, 'stepped maintenance unavailable on this engine; running policies in one piece')
        return runJob(sql, job)
      }
    }
    const run: JobRun = { jobId: job.jobId, jobName: jobName(job), ok: !error, ms: Math.round(performance.now() - t0), ...(error ? { error } : {}), ...r }
    await recordRun(sql, run, started)
    return run
  }

  function runDue(job: PolicyJob): Promise<JobRun> {
    const name = jobName(job)
    if (job.procName === 'policy_refresh_continuous_aggregate') return stepped(job, () => maintenance.refresh(job, name))
    if (job.procName === 'policy_compression') return stepped(job, () => maintenance.compress(job, name))
    return runJob(sql, job)
  }

  function count(run: JobRun) {
    status.runs++
    if (!run.ok) {
      status.failures++
      status.lastError = `${run.jobName}: ${run.error}`
      log.error({ job: run.jobName, error: run.error }, 'policy job failed')
    } else log.debug({ job: run.jobName, ms: run.ms, steps: run.steps, maxStepMs: run.maxStepMs }, 'policy job ran')
  }

  // Server mode: the jobs taken over from TimescaleDB's scheduler (kept for the process's life: a job
  // run here looks healthy to the scheduler's own statistics, which would otherwise flap).
  const takenOver = new Map<number, TakenOverJob>()
  const watchingSince = now()

  async function serverTick() {
    try {
      for (const { job, reason } of await failingTimescaleJobs(sql, now(), watchingSince, opts.takeoverGraceMs ?? 5 * 60_000)) {
        if (takenOver.has(job.jobId)) continue
        takenOver.set(job.jobId, { job: jobName(job), reason, since: now().toISOString() })
        log.warn({ job: jobName(job), reason }, 'TimescaleDB is not running this policy job: pingscope runs it')
      }
      status.takenOver = [...takenOver.values()]
      if (takenOver.size === 0) return
      for (const job of await dueJobs(sql, now())) {
        if (stopped) return
        if (!takenOver.has(job.jobId)) continue
        // In steps with pauses, as on the embedded engine: a compression or a refresh in one piece would
        // hold its chunk's locks (and the server's cores) for as long as it runs.
        const run = await runExclusive(sql, job, () => runDue(job))
        if (run) count(run)
      }
    } catch (err) {
      status.lastError = err instanceof Error ? err.message : String(err)
      log.warn({ err: status.lastError }, 'job watch tick failed')
    } finally {
      status.lastTickAt = now().toISOString()
    }
  }

  async function tick() {
    if (opts.mode === 'server') return serverTick()
    try {
      if (!steppedFailed && now().getTime() - sizedAt >= CHUNK_SIZING_EVERY_MS) {
        sizedAt = now().getTime()
        await maintenance.sizeChunks().catch((err) => log.warn({ err: String(err) }, 'chunk sizing failed'))
      }
      for (const job of await dueJobs(sql, now())) {
        if (stopped) return
        count(await runDue(job))
      }
      const [v] = await sql<{ last: Date | null }[]>`
        select max(started_at) as last from job_runs where job_id = ${VACUUM_JOB_ID} and ok`
      if (!stopped && (!v?.last || v.last.getTime() + opts.vacuumIntervalMs <= now().getTime())) {
        // The run log is pingscope's own table: keep 90 days of it.
        await sql`delete from job_runs where started_at < now() - interval '90 days'`
        const run = steppedFailed ? await vacuumAnalyze(sql) : await steppedVacuum(v?.last ?? null)
        status.runs++
        if (!run.ok) status.failures++
        log.info({ ms: run.ms, ok: run.ok, steps: run.steps, maxStepMs: run.maxStepMs }, 'vacuum analyze')
      }
    } catch (err) {
      // The loop never dies: a database that is briefly down just delays the next tick.
      status.lastError = err instanceof Error ? err.message : String(err)
      log.warn({ err: status.lastError }, 'job runner tick failed')
    } finally {
      status.lastTickAt = now().toISOString()
    }
  }

  async function steppedVacuum(since: Date | null): Promise<JobRun> {
    const started = new Date()
    const t0 = performance.now()
    let error: string | undefined
    let r: StepRun = { steps: 0, maxStepMs: 0 }
    try {
      r = await maintenance.vacuum(since)
    } catch (err) {
      error = err instanceof Error ? err.message : String(err)
    }
    const run: JobRun = { jobId: VACUUM_JOB_ID, jobName: 'vacuum_analyze', ok: !error, ms: Math.round(performance.now() - t0), ...(error ? { error } : {}), ...r }
    await recordRun(sql, run, started)
    return run
  }

  function schedule() {
    if (stopped) return
    timer = setTimeout(() => {
      ticking = tick().finally(() => {
        ticking = null
        schedule()
      })
    }, opts.pollMs)
    timer.unref()
  }

  return {
    start() {
      if (!active || status.running) return
      status.running = true
      stopped = false
      ticking = tick().finally(() => {
        ticking = null
        schedule()
      })
    },
    async stop() {
      stopped = true
      status.running = false
      clearTimeout(timer)
      await ticking
    },
    /** One pass now (used by tests): the embedded engine's jobs, or the server's watch and taken-over jobs. */
    tick,
    status: (): JobRunnerStatus => ({ ...status, takenOver: [...status.takenOver] }),
  }
}

export type JobRunner = ReturnType<typeof createJobRunner>
