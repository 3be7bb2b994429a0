import type { Logger } from '../../log.js'
import { type MaintenanceStep, type StepRun, createEmbeddedMaintenance } from './embedded-maintenance.js'
import type { Sql } from '../open.js'

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

export interface PolicyJob {
  jobId: number
  /** For refresh jobs: the aggregate's materialization hypertable (1m was created before 1h). */
  matHypertableId: number | null
  procName: string
  hypertableSchema: string | null
  hypertableName: string | null
  scheduleInterval: string
  scheduleMs: number
}

export interface JobRun {
  jobId: number
  jobName: string
  ok: boolean
  ms: number
  error?: string
  /** Stepped runs (embedded engine): statements run and the longest of them. */
  steps?: number
  maxStepMs?: number
}

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

export const VACUUM_JOB_ID = -1

// Refresh the 1-minute tier before the 1-hour tier built on it, compress, and only then drop old chunks.
const PROC_ORDER: Record<string, number> = {
  policy_refresh_continuous_aggregate: 0,
  policy_compression: 1,
  policy_retention: 2,
}

export async function listPolicyJobs(sql: Sql): Promise<PolicyJob[]> {
  const rows = await sql<PolicyJob[]>`
    select job_id, proc_name, hypertable_schema, hypertable_name, schedule_interval::text as schedule_interval,
           (config ->> 'mat_hypertable_id')::int as mat_hypertable_id,
           (extract(epoch from schedule_interval) * 1000)::float8 as schedule_ms
    from timescaledb_information.jobs
    where scheduled and job_id >= 1000
    order by job_id`
  // A re-created policy gets a new id: order refreshes by tier (the 1m aggregate's materialization
  // hypertable predates the 1h one built on it), not by job id.
  return [...rows].sort(
    (a, b) =>
      (PROC_ORDER[a.procName] ?? 9) - (PROC_ORDER[b.procName] ?? 9) ||
      (a.matHypertableId ?? 0) - (b.matHypertableId ?? 0) ||
      a.jobId - b.jobId,
  )
}

function jobName(job: PolicyJob): string {
  return `${job.procName.replace(/^policy_/, '')}:${job.hypertableName ?? '?'}`
}

/** Runs one policy job now and records the run. Never throws: a failed job is a logged result. */
export async function runJob(sql: Sql, job: PolicyJob): Promise<JobRun> {
  const started = new Date()
  const t0 = performance.now()
  let error: string | undefined
  try {
    await sql`call run_job(${job.jobId})`
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
  }
  const run: JobRun = { jobId: job.jobId, jobName: jobName(job), ok: !error, ms: Math.round(performance.now() - t0), ...(error ? { error } : {}) }
  await recordRun(sql, run, started)
  return run
}

async function recordRun(sql: Sql, run: JobRun, started: Date) {
  await sql`
    insert into job_runs (job_id, job_name, started_at, finished_at, ok, error)
    values (${run.jobId}, ${run.jobName}, ${started}, now(), ${run.ok}, ${run.error ?? null})`.catch(() => {})
}

export async function vacuumAnalyze(sql: Sql): Promise<JobRun> {
  const started = new Date()
  const t0 = performance.now()
  let error: string | undefined
  try {
    await sql`vacuum analyze`
  } catch (err) {
    error = err instanceof Error ? err.message : String(err)
  }
  const run: JobRun = { jobId: VACUUM_JOB_ID, jobName: 'vacuum_analyze', ok: !error, ms: Math.round(performance.now() - t0), ...(error ? { error } : {}) }
  await recordRun(sql, run, started)
  return run
}

/**
 * Jobs whose last successful run started at least one schedule interval before `now`; a job that just
 * failed waits min(schedule, 1 min) before it is tried again.
 */
async function dueJobs(sql: Sql, now: Date): Promise<PolicyJob[]> {
  const jobs = await listPolicyJobs(sql)
  const last = await sql<{ jobId: number; lastOk: Date | null; lastTry: Date }[]>`
    select job_id, max(started_at) filter (where ok) as last_ok, max(started_at) as last_try
    from job_runs group by job_id`
  const byId = new Map(last.map((r) => [r.jobId, r]))
  const t = now.getTime()
  return jobs.filter((j) => {
    const r = byId.get(j.jobId)
    if (!r) return true
    const okDue = !r.lastOk || r.lastOk.getTime() + j.scheduleMs <= t
    const failedRecently = r.lastTry.getTime() !== r.lastOk?.getTime() && r.lastTry.getTime() + Math.min(j.scheduleMs, 60_000) > t
    return okDue && !failedRecently
  })
}

interface TimescaleJobHealth {
  jobId: number
  lastRunStatus: string | null
  lastSuccessfulFinish: Date | null
  held: boolean
  lastError: string | null
}

/**
 * The policy jobs TimescaleDB's scheduler is failing or not running (server mode), with the reason: its
 * last run failed, or none completed for 2 × its interval + `graceMs` (counted from `watchingSince` for a
 * job that never completed). Held jobs (next_start = infinity) are skipped.
 */
export async function failingTimescaleJobs(sql: Sql, now: Date, watchingSince: Date, graceMs: number): Promise<{ job: PolicyJob; reason: string }[]> {
  const jobs = await listPolicyJobs(sql)
  const rows = await sql<TimescaleJobHealth[]>`
    select j.job_id, s.last_run_status, s.last_successful_finish, coalesce(j.next_start = 'infinity', false) as held,
      (select e.err_message from timescaledb_information.job_errors e where e.job_id = j.job_id order by e.start_time desc limit 1) as last_error
    from timescaledb_information.jobs j
    left join timescaledb_information.job_stats s using (job_id)
    where j.job_id >= 1000`
  const byId = new Map(rows.map((r) => [r.jobId, r]))
  const out: { job: PolicyJob; reason: string }[] = []
  for (const job of jobs) {
    const h = byId.get(job.jobId)
    if (!h || h.held) continue
    if (h.lastRunStatus === 'Failed') {
      out.push({ job, reason: `TimescaleDB's scheduler failed its last run${h.lastError ? `: ${h.lastError}` : ''}` })
      continue
    }
    const since = h.lastSuccessfulFinish ?? watchingSince
    const overdueMs = now.getTime() - since.getTime() - (2 * job.scheduleMs + graceMs)
    if (overdueMs > 0) {
      const mins = Math.round((now.getTime() - since.getTime()) / 60_000)
      out.push({ job, reason: `TimescaleDB's scheduler has not completed it for ${mins} min (interval ${job.scheduleInterval})` })
    }
  }
  return out
}

/** Advisory lock class of taken-over jobs: one pingscope process of a fleet runs a job at a time. */
const TAKEOVER_LOCK = 0x70696e67 // 'ping'

/**
 * Runs `run` for a job unless another process holds the job's lock or has just run it (then null): a
 * fleet's processes run a taken-over job once per interval between them. Server mode only (the lock is
 * held on a reserved connection while `run` uses the pool).
 */
async function runExclusive(sql: Sql, job: PolicyJob, run: () => Promise<JobRun>): Promise<JobRun | null> {
  const conn = await sql.reserve()
  try {
    const [lock] = await conn<{ ok: boolean }[]>`select pg_try_advisory_lock(${TAKEOVER_LOCK}, ${job.jobId}) as ok`
    if (!lock?.ok) return null
    try {
      // The database's clock: the one the fleet's processes share.
      const [recent] = await conn<{ ran: boolean }[]>`
        select coalesce(max(started_at) + make_interval(secs => ${job.scheduleMs / 1000}) > now(), false) as ran
        from job_runs where job_id = ${job.jobId} and ok`
      if (recent?.ran) return null
      return await run()
    } finally {
      await conn`select pg_advisory_unlock(${TAKEOVER_LOCK}, ${job.jobId})`
    }
  } finally {
    conn.release()
  }
}

/** Runs every policy job once, in dependency order (tests, the seed script, `pingscope jobs run`). */
export async function runAllJobs(sql: Sql): Promise<JobRun[]> {
  const runs: JobRun[] = []
  for (const job of await listPolicyJobs(sql)) runs.push(await runJob(sql, job))
  return runs
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
