import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type PolicyJob, listPolicyJobs } from '../../src/db/maintenance/job-runs.js'
import { createJobRunner } from '../../src/db/maintenance/jobs.js'
import { type MaintenanceStep, createEmbeddedMaintenance } from '../../src/db/maintenance/embedded-maintenance.js'
import { refreshTier } from '../../src/db/maintenance/policies.js'
import { type TestDatabase, openTestDatabase, testLog } from '../helpers/db.js'
import { ENGINES } from '../helpers/engines.js'

// The embedded engine's maintenance in short steps (src/db/maintenance/): the same results as the
// policies in one piece, cut into statements of a few buckets, one chunk, one relation.

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

describe.each(ENGINES)('stepped maintenance (%s engine)', (engine) => {
  let db: TestDatabase
  let jobs: PolicyJob[]
  let first: number
  const hour = Math.floor(Date.now() / HOUR) * HOUR
  const liveFrom = hour - 3 * HOUR
  const oldFrom = Math.floor((Date.now() - 3 * DAY) / DAY) * DAY

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    const { sql } = db
    const ids = await sql<{ id: number }[]>`
      insert into targets (address, interval_s, enabled) values ('127.0.0.1', 10, false), ('127.0.0.2', 10, false) returning id`
    first = ids[0]!.id
    // Two day-old chunks' worth of one target, for compression.
    await sql`insert into samples (time, target_id, seq, rtt_us, status)
      select ${new Date(oldFrom)}::timestamptz + make_interval(secs => s), ${first}, 0, 100, 0
      from generate_series(0, 36 * 3600 - 1, 60) s`
    // Materialize the policy window first, so what follows is exactly what the logs mark.
    await refreshTier(sql, 'samples_1m', new Date(oldFrom - DAY), new Date(hour))
    // 30 minutes of 2 targets every 10 s, below the watermark now: 30 invalidated 1-minute buckets.
    await sql`insert into samples (time, target_id, seq, rtt_us, status)
      select ${new Date(liveFrom)}::timestamptz + make_interval(secs => s), t.id, 0, 100 + s, 0
      from generate_series(0, 1799, 10) s, targets t`
    jobs = await listPolicyJobs(sql)
  })

  afterAll(async () => {
    await db?.destroy()
  })

  const job = (proc: string, relation: string) => {
    // listPolicyJobs orders refreshes by tier: the 1-minute one comes first.
    const j = relation === 'samples_1m' ? jobs.find((x) => x.procName === proc) : jobs.find((x) => x.procName === proc && x.hypertableName === relation)
    if (!j) throw new Error(`no ${proc} job for ${relation}`)
    return j
  }

  it('refreshes only the invalidated buckets, one bucket per statement when a bucket costs more than a step', async () => {
    const steps: MaintenanceStep[] = []
    const m = createEmbeddedMaintenance({ sql: db.sql, stepMs: 0.001, now: () => new Date(), onStep: (s) => steps.push(s) })
    const refresh1m = job('policy_refresh_continuous_aggregate', 'samples_1m')
    const run = await m.refresh(refresh1m, 'refresh:1m')
    expect(steps.every((s) => s.kind === 'refresh' && s.detail.endsWith(' +1'))).toBe(true)
    const inLive = (d: string) => new Date(d.slice(0, 24)).getTime() >= liveFrom && new Date(d.slice(0, 24)).getTime() < liveFrom + 30 * MIN
    const stepped = steps.map((s) => s.detail.slice(0, 24)).filter(inLive)
    // Every bucket of the 30 minutes, once, in order (the other steps are the buckets since the watermark).
    expect(stepped).toEqual(Array.from({ length: 30 }, (_, i) => new Date(liveFrom + i * MIN).toISOString()))
    expect(run.steps).toBe(steps.length)
    const [row] = await db.sql<{ n: number; sent: number; rttSum: string }[]>`
      select count(*)::int as n, sum(sent)::int as sent, sum(rtt_sum)::text as rtt_sum
      from samples_1m where bucket >= ${new Date(liveFrom)} and bucket < ${new Date(liveFrom + 30 * MIN)}`
    expect(row).toEqual({ n: 60, sent: 360, rttSum: String(2 * (180 * 100 + 10 * (179 * 180) / 2)) })

    // Nothing is left to do: a second pass only looks.
    steps.length = 0
    await m.refresh(refresh1m, 'refresh:1m')
    expect(steps.map((s) => s.detail).filter(inLive)).toEqual([])
  })

  it('compresses eligible chunks one per statement, then lets the policy sweep', async () => {
    const steps: MaintenanceStep[] = []
    const m = createEmbeddedMaintenance({ sql: db.sql, stepMs: 500, now: () => new Date(), onStep: (s) => steps.push(s) })
    const compress = job('policy_compression', 'samples')
    const chunks = async () =>
      db.sql<{ isCompressed: boolean }[]>`
        select is_compressed from timescaledb_information.chunks
        where hypertable_name = 'samples' and range_end <= now() - interval '1 day' order by range_start`
    expect((await chunks()).map((c) => c.isCompressed)).toEqual([false, false])
    await m.compress(compress, 'compression:samples')
    expect((await chunks()).map((c) => c.isCompressed)).toEqual([true, true])
    expect(steps.map((s) => s.detail.replace(/^_timescaledb_internal\._hyper_\d+_\d+_chunk /, ''))).toEqual(['1440 rows', '720 rows', 'policy sweep'])
    const [n] = await db.sql<{ n: number }[]>`select count(*)::int as n from samples where target_id = ${first} and time < ${new Date(oldFrom + 2 * DAY)}`
    expect(n?.n).toBe(36 * 60)
  })

  it('compresses a tier by its materialization hypertable\'s chunks, one per statement', async () => {
    const compress1m = jobs.find((j) => j.procName === 'policy_compression' && j.hypertableName === 'samples_1m')!
    await db.sql`
      select alter_job(job_id, config => jsonb_set(config, '{compress_after}', '"2 days"'))
      from timescaledb_information.jobs where job_id = ${compress1m.jobId}`
    const steps: MaintenanceStep[] = []
    const m = createEmbeddedMaintenance({ sql: db.sql, stepMs: 500, now: () => new Date(), onStep: (s) => steps.push(s) })
    await m.compress(compress1m, 'compression:samples_1m')
    const [chunk] = await db.sql<{ name: string; isCompressed: boolean }[]>`
      select format('%I.%I', c.chunk_schema, c.chunk_name) as name, c.is_compressed
      from timescaledb_information.chunks c
      join timescaledb_information.continuous_aggregates a
        on a.materialization_hypertable_schema = c.hypertable_schema and a.materialization_hypertable_name = c.hypertable_name
      where a.view_name = 'samples_1m' and c.range_start <= ${new Date(oldFrom)} and c.range_end > ${new Date(oldFrom)}`
    expect(chunk?.isCompressed).toBe(true)
    // 36 hours of one target: 2,160 one-minute rows in the chunks of that day and the next.
    expect(steps[0]?.detail).toMatch(new RegExp(`^${chunk!.name.replace(/\./g, '\\.')} \\d+ rows$`))
    expect(steps.at(-1)?.detail).toBe('policy sweep')
  })

  it('sizes each tier\'s chunk interval to the fleet: the defaults for a few targets, 5 min / 1 h / 2 days for 1,000 at 1 s', async () => {
    const m = createEmbeddedMaintenance({ sql: db.sql, stepMs: 500, now: () => new Date() })
    const intervals = async () => {
      const rows = await db.sql<{ name: string; s: number }[]>`
        select coalesce(a.view_name, d.hypertable_name) as name, extract(epoch from d.time_interval)::float8 as s
        from timescaledb_information.dimensions d
        left join timescaledb_information.continuous_aggregates a
          on a.materialization_hypertable_schema = d.hypertable_schema and a.materialization_hypertable_name = d.hypertable_name
        where coalesce(a.view_name, d.hypertable_name) in ('samples', 'samples_1m', 'samples_1h')`
      return Object.fromEntries(rows.map((r) => [r.name, r.s]))
    }
    const defaults = { samples: 86_400, samples_1m: 86_400, samples_1h: 864_000 }
    await m.sizeChunks()
    expect(await intervals()).toEqual(defaults)
    await db.sql`insert into targets (address, interval_s, enabled)
      select '127.1.' || (n / 250) || '.' || (n % 250 + 1), 1, true from generate_series(0, 999) n`
    await m.sizeChunks()
    expect(await intervals()).toEqual({ samples: 300, samples_1m: 3_600, samples_1h: 172_800 })
    await db.sql`update targets set enabled = false`
    await m.sizeChunks()
    expect(await intervals()).toEqual(defaults)
  })

  it('never puts more of the live fleet\'s buckets in a step than fit, however fast sparse steps were', async () => {
    // 1,000 targets at 1 s: a minute costs about 240 ms to refresh, so 2 buckets per 500 ms step at most,
    // though these 20 buckets of one row each refresh in a few milliseconds.
    await db.sql`update targets set enabled = true where address like '127.1.%'`
    const from = hour - 2 * HOUR
    await db.sql`insert into samples (time, target_id, seq, rtt_us, status)
      select ${new Date(from)}::timestamptz + make_interval(mins => m), ${first}, 0, 100, 0 from generate_series(0, 19) m`
    const steps: MaintenanceStep[] = []
    const m = createEmbeddedMaintenance({ sql: db.sql, stepMs: 500, now: () => new Date(), onStep: (s) => steps.push(s) })
    await m.refresh(job('policy_refresh_continuous_aggregate', 'samples_1m'), 'refresh:1m')
    const sizes = steps.map((s) => Number(s.detail.split(' +')[1]))
    expect(sizes.length).toBeGreaterThanOrEqual(10)
    expect(Math.max(...sizes)).toBeLessThanOrEqual(2)
    await db.sql`update targets set enabled = false`
  })

  it('vacuums one relation per statement, chunks included, through the runner', async () => {
    const steps: MaintenanceStep[] = []
    const runner = createJobRunner({ sql: db.sql, log: testLog, mode: 'embedded', enabled: true, pollMs: 60_000, vacuumIntervalMs: HOUR, onStep: (s) => steps.push(s) })
    await runner.tick()
    const vacuums = steps.filter((s) => s.kind === 'vacuum').map((s) => s.detail)
    expect(vacuums).toEqual(expect.arrayContaining(['vacuum public.targets', 'analyze public.targets']))
    const raw = vacuums.filter((r) => /^(vacuum|analyze) _timescaledb_internal\._hyper_1_/.test(r))
    expect(raw.length).toBeGreaterThan(0)
    // Chunks are analyzed on the columns queries filter on; compressed companions only vacuumed.
    expect(raw.filter((r) => r.startsWith('analyze')).every((r) => r.endsWith(' (time, target_id)'))).toBe(true)
    expect(vacuums.some((r) => r.startsWith('vacuum _timescaledb_internal.compress_hyper_'))).toBe(true)
    expect(vacuums.some((r) => r.startsWith('analyze _timescaledb_internal.compress_hyper_'))).toBe(false)
    expect(new Set(vacuums).size).toBe(vacuums.length)
    expect(runner.status()).toMatchObject({ failures: 0, lastError: null })
    const [ok] = await db.sql<{ n: number }[]>`select count(*)::int as n from job_runs where job_id = -1 and ok`
    expect(ok?.n).toBe(1)
  })
})
