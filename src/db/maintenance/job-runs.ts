import type { Sql } from '../open.js'

// The policy jobs as rows and runs: which jobs exist and which are due (TimescaleDB's own job tables),
// one job run now and recorded in job_runs, VACUUM ANALYZE, the check of TimescaleDB's scheduler, and
// the advisory lock that lets one process of a fleet run a taken-over job. The runner that decides
// when (jobs.ts) and the stepped embedded runs (embedded-maintenance.ts) build on these.

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

export function jobName(job: PolicyJob): string {
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

export async function recordRun(sql: Sql, run: JobRun, started: Date) {
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
export async function dueJobs(sql: Sql, now: Date): Promise<PolicyJob[]> {
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
export async function runExclusive(sql: Sql, job: PolicyJob, run: () => Promise<JobRun>): Promise<JobRun | null> {
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
