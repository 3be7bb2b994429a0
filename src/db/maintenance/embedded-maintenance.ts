import type { Sql } from '../open.js'
import { POLICY_RELATIONS, type TierRelation, refreshTier } from './policies.js'
import {
  type TimeRange,
  chunkIntervalFor,
  createCostEstimate,
  pendingRanges,
  splitIntoSteps,
  unitsPerStep,
} from './steps.js'

// The embedded engine's maintenance, cut into steps of about `stepMs` each. It has one backend for every
// client: a job that runs 10 s holds every API request and every sample write for 10 s (measured with
// 1,000 targets at 1 s, scripts/bench/stalls.ts). Each step is one short statement; between two steps
// the clients queued behind it get the backend first (the multiplexer serves them in arrival order), and
// then maintenance pauses as long as the step took (at most `stepMs`): a request of several queries
// runs them all in that gap instead of queueing each one behind the next step. Maintenance gets at most
// half of the backend's time while it has work.
//
//   refresh    the parts of the policy's window that TimescaleDB's invalidation logs mark (new buckets
//              above the watermark, late or deleted rows below it), a few buckets per step: as many as
//              fit in stepMs at the measured cost per bucket (about 160 ms per 1-minute bucket of 1,000
//              targets at 1 s, unloaded)
//   compress   one chunk per step; the raw chunk interval follows the fleet's rows/s so that one chunk
//              compresses in about stepMs (compressing costs 1.1–1.6 µs per raw row: a day chunk of
//              1,000 targets at 1 s is 86 M rows, about two minutes in one statement)
//   vacuum     one relation per step (a whole-database VACUUM ANALYZE visits every chunk at once)
//
// It reads two TimescaleDB catalog tables (the invalidation logs). If those ever move, the runner logs it
// once and falls back to `CALL run_job`, the policy in one piece.

export interface MaintenanceStep {
  job: string
  kind: 'refresh' | 'compress' | 'vacuum' | 'chunk-interval'
  startedAt: number
  ms: number
  detail: string
}

export interface PolicyJobInfo {
  jobId: number
  procName: string
  hypertableSchema: string | null
  hypertableName: string | null
  matHypertableId: number | null
}

export interface StepRun {
  steps: number
  maxStepMs: number
}

// msPerSourceRow: measured refresh cost per source row (a raw sample, or a 1-minute row for the 1-hour
// tier): about 160–300 ms for a minute of 1,000 targets at 1 s, 190 ms for an hour of their minutes.
// The per-site tiers cost the same per source row (they read the same rows, grouped one column finer).
const MINUTE_TIER = { bucketMs: 60_000, priorMsPerBucket: 200, msPerSourceRow: 0.004, source: 'samples' } as const
const HOUR_TIER = { bucketMs: 3_600_000, priorMsPerBucket: 1000, msPerSourceRow: 0.003, source: 'samples_1m' } as const
const TIERS: Record<TierRelation, typeof MINUTE_TIER | typeof HOUR_TIER> = {
  samples_1m: MINUTE_TIER,
  samples_1h: HOUR_TIER,
  samples_site_1m: MINUTE_TIER,
  samples_site_1h: HOUR_TIER,
}

// Measured compress cost per row (ms) on this machine's embedded engine, before the first real measurement:
// raw samples 1.1–1.6 µs per row (600,000 rows: 0.67–0.99 s); a 1-minute-tier row about 5 µs (an hour of
// 1,000 targets, 60,000 rows: 0.28 s), mostly the per-target segment.
const COMPRESS_PRIOR_MS_PER_ROW: Record<string, number> = { samples: 0.0015, samples_1m: 0.005, samples_1h: 0.005, samples_site_1m: 0.005, samples_site_1h: 0.005 }
// The chunk intervals pingscope chooses from: never shorter than these (more chunks cost planning time on
// every query), never longer than what the migrations set.
const CHUNK_RANGE_S: Record<string, [number, number]> = {
  samples: [300, 86_400],
  samples_1m: [3_600, 86_400],
  samples_1h: [86_400, 864_000],
  samples_site_1m: [3_600, 86_400],
  samples_site_1h: [86_400, 864_000],
}
const MAX_BUCKETS_PER_STEP = 1440

export interface EmbeddedMaintenanceOptions {
  sql: Sql
  stepMs: number
  now: () => Date
  onStep?: (step: MaintenanceStep) => void
  stopped?: () => boolean
  /** The pause after each step, as a share of the step's time (at most stepMs); default 1, 0 for none. */
  pauseRatio?: number
}

export function createEmbeddedMaintenance(opts: EmbeddedMaintenanceOptions) {
  const { sql, stepMs } = opts
  const stopped = opts.stopped ?? (() => false)
  const refreshCost = Object.fromEntries(Object.entries(TIERS).map(([k, t]) => [k, createCostEstimate(t.priorMsPerBucket)])) as Record<
    TierRelation,
    ReturnType<typeof createCostEstimate>
  >
  const compressCost = new Map<string, ReturnType<typeof createCostEstimate>>()
  const costOf = (relation: string) => {
    let c = compressCost.get(relation)
    if (!c) compressCost.set(relation, (c = createCostEstimate(COMPRESS_PRIOR_MS_PER_ROW[relation] ?? 0.02)))
    return c
  }

  async function step<T>(job: string, kind: MaintenanceStep['kind'], detail: string, run: StepRun, f: () => Promise<T>): Promise<T> {
    const startedAt = Date.now()
    const t0 = performance.now()
    try {
      return await f()
    } finally {
      const ms = performance.now() - t0
      run.steps++
      run.maxStepMs = Math.max(run.maxStepMs, Math.round(ms))
      opts.onStep?.({ job, kind, startedAt, ms, detail })
      // The gap in which other clients' follow-up queries run (see the top of this file).
      const pause = Math.min(ms, stepMs) * (opts.pauseRatio ?? 1)
      if (pause >= 1 && !stopped()) await new Promise((r) => setTimeout(r, pause))
    }
  }

  /** Refreshes what the policy `job` would, a few buckets per statement. */
  async function refresh(job: PolicyJobInfo, name: string): Promise<StepRun> {
    const [info] = await sql<{ tier: string; raw: number; startS: number; endS: number }[]>`
      select ca.user_view_name as tier, ca.raw_hypertable_id as raw,
             extract(epoch from (j.config ->> 'start_offset')::interval)::float8 as start_s,
             extract(epoch from (j.config ->> 'end_offset')::interval)::float8 as end_s
      from _timescaledb_catalog.continuous_agg ca, timescaledb_information.jobs j
      where ca.mat_hypertable_id = ${job.matHypertableId} and j.job_id = ${job.jobId}`
    if (!info || !(info.tier in TIERS)) throw new Error(`refresh job ${job.jobId}: unknown continuous aggregate`)
    const tier = info.tier as TierRelation
    const { bucketMs } = TIERS[tier]
    const now = opts.now().getTime()
    const window: TimeRange = { from: new Date(now - info.startS * 1000), to: new Date(now - info.endS * 1000) }
    const logged = await sql<{ lo: string; hi: string }[]>`
      select lowest_modified_value::text as lo, greatest_modified_value::text as hi
      from _timescaledb_catalog.continuous_aggs_materialization_invalidation_log
      where materialization_id = ${job.matHypertableId}
      union all
      select lowest_modified_value::text, greatest_modified_value::text
      from _timescaledb_catalog.continuous_aggs_hypertable_invalidation_log
      where hypertable_id = ${info.raw}`
    const run: StepRun = { steps: 0, maxStepMs: 0 }
    let ranges = pendingRanges(window, logged, bucketMs)
    // A bucket of the live fleet costs at least this much: fast steps over empty or sparse history must
    // not talk the estimate into a step of hundreds of the fleet's buckets.
    const rates = ranges.length > 0 ? await fleetRates() : null
    const sourceRate = rates?.[TIERS[tier].source] ?? 0
    const floorMs = sourceRate * (bucketMs / 1000) * TIERS[tier].msPerSourceRow
    while (ranges.length > 0 && !stopped()) {
      // Re-cut after every step: the estimate may have changed.
      const buckets = unitsPerStep(stepMs, Math.max(refreshCost[tier].get(), floorMs), MAX_BUCKETS_PER_STEP)
      const [next] = splitIntoSteps(ranges, bucketMs, buckets)
      const t0 = performance.now()
      await step(name, 'refresh', `${next!.from.toISOString()} +${(next!.to.getTime() - next!.from.getTime()) / bucketMs}`, run, () => refreshTier(sql, tier, next!.from, next!.to))
      refreshCost[tier].record(performance.now() - t0, (next!.to.getTime() - next!.from.getTime()) / bucketMs)
      ranges = [{ from: next!.to, to: ranges[0]!.to }, ...ranges.slice(1)].filter((r) => r.from < r.to)
    }
    return run
  }

  /** Compresses the chunks the policy `job` would, one per statement, then lets the policy sweep up. */
  async function compress(job: PolicyJobInfo, name: string): Promise<StepRun> {
    const run: StepRun = { steps: 0, maxStepMs: 0 }
    const relation = await relationOf(job)
    // The job names a continuous aggregate by its view; its chunks belong to the materialization hypertable.
    const chunks = await sql<{ chunk: string }[]>`
      select format('%I.%I', c.chunk_schema, c.chunk_name) as chunk
      from timescaledb_information.jobs j
      join _timescaledb_catalog.hypertable h on h.id = (j.config ->> 'hypertable_id')::int
      join timescaledb_information.chunks c on c.hypertable_schema = h.schema_name and c.hypertable_name = h.table_name
      where j.job_id = ${job.jobId}
        and not c.is_compressed and c.range_end <= now() - (j.config ->> 'compress_after')::interval
      order by c.range_start`
    for (const { chunk } of chunks) {
      if (stopped()) return run
      const [n] = await sql.unsafe<{ rows: number }[]>(`select count(*)::float8 as rows from ${chunk}`)
      const t0 = performance.now()
      await step(name, 'compress', `${chunk} ${n?.rows ?? 0} rows`, run, () => sql`select compress_chunk(${chunk}::regclass, if_not_compressed => true)`)
      costOf(relation).record(performance.now() - t0, n?.rows ?? 0)
    }
    // Partially compressed chunks (rows written after compression) are left to the policy itself.
    if (!stopped()) await step(name, 'compress', 'policy sweep', run, () => sql`call run_job(${job.jobId})`)
    return run
  }

  async function relationOf(job: PolicyJobInfo): Promise<string> {
    if (job.matHypertableId === null && job.hypertableName === 'samples') return 'samples'
    const [row] = await sql<{ tier: string }[]>`
      select ca.user_view_name as tier from _timescaledb_catalog.continuous_agg ca
      join _timescaledb_catalog.hypertable h on h.id = ca.mat_hypertable_id
      where h.schema_name = ${job.hypertableSchema} and h.table_name = ${job.hypertableName}`
    return row?.tier ?? job.hypertableName ?? '?'
  }

  /** Rows per second written to each tier by the enabled targets. */
  async function fleetRates(): Promise<Record<'samples' | TierRelation, number>> {
    const [fleet] = await sql<{ rowsPerS: number; targets: number }[]>`
      select coalesce(sum(packets::float8 / interval_s), 0) as rows_per_s, count(*)::int as targets
      from targets where enabled`
    const targets = fleet?.targets ?? 0
    // The per-site tiers: as many rows as the combined ones while a target is probed from one site.
    return { samples: fleet?.rowsPerS ?? 0, samples_1m: targets / 60, samples_1h: targets / 3600, samples_site_1m: targets / 60, samples_site_1h: targets / 3600 }
  }

  /**
   * Sets the chunk interval of each tier so that one chunk compresses in about stepMs at
   * the fleet's current rate. Affects chunks created from now on; existing ones keep their size.
   */
  async function sizeChunks(): Promise<StepRun> {
    const run: StepRun = { steps: 0, maxStepMs: 0 }
    const rates: Record<string, number> = await fleetRates()
    const current = await sql<{ relation: string; seconds: number }[]>`
      select coalesce(ca.user_view_name, d.hypertable_name) as relation,
             extract(epoch from d.time_interval)::float8 as seconds
      from timescaledb_information.dimensions d
      left join _timescaledb_catalog.hypertable h on h.schema_name = d.hypertable_schema and h.table_name = d.hypertable_name
      left join _timescaledb_catalog.continuous_agg ca on ca.mat_hypertable_id = h.id
      where d.dimension_number = 1 and coalesce(ca.user_view_name, d.hypertable_name) in ${sql(POLICY_RELATIONS)}`
    for (const { relation, seconds } of current) {
      const [min, max] = CHUNK_RANGE_S[relation] ?? [86_400, 86_400]
      const want = chunkIntervalFor(rates[relation] ?? 0, costOf(relation).get(), stepMs, min, max)
      if (want === seconds) continue
      await step('chunk_interval', 'chunk-interval', `${relation} ${seconds} s → ${want} s`, run, () =>
        sql`select set_chunk_time_interval(${relation}::regclass, make_interval(secs => ${want}))`,
      )
    }
    return run
  }

  /**
   * VACUUM, then ANALYZE, one relation per statement: the catalogs and pingscope's tables, and the chunks
   * changed since `since` (all of them the first time). Chunks are analyzed on the columns queries filter
   * on only: a full ANALYZE of a 1-hour-tier chunk (70 columns of histogram counts) took a second.
   */
  async function vacuum(since: Date | null): Promise<StepRun> {
    const run: StepRun = { steps: 0, maxStepMs: 0 }
    const relations = await sql<{ rel: string; columns: string | null; analyze: boolean }[]>`
      select format('%I.%I', n.nspname, c.relname) as rel, null as columns, true as analyze
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind = 'r' and n.nspname in ('pg_catalog', 'public', '_timescaledb_catalog', '_timescaledb_config')
        and not exists (select 1 from _timescaledb_catalog.hypertable h where h.schema_name = n.nspname and h.table_name = c.relname)
      union all
      select format('%I.%I', ch.schema_name, ch.table_name),
             case when h.table_name = 'samples' then 'time, target_id' else 'bucket, target_id' end,
             ch.id = c.id
      from timescaledb_information.chunks i
      join _timescaledb_catalog.chunk c on c.schema_name = i.chunk_schema and c.table_name = i.chunk_name
      join _timescaledb_catalog.hypertable h on h.id = c.hypertable_id
      join _timescaledb_catalog.chunk ch on ch.id = c.id or ch.id = c.compressed_chunk_id
      where ${since}::timestamptz is null or i.range_end >= ${since}::timestamptz - interval '5 days'`
    for (const { rel, columns, analyze } of relations) {
      if (stopped()) return run
      await step('vacuum_analyze', 'vacuum', `vacuum ${rel}`, run, () => sql.unsafe(`vacuum ${rel}`))
      if (!analyze || stopped()) continue
      const target = columns ? `${rel} (${columns})` : rel
      await step('vacuum_analyze', 'vacuum', `analyze ${target}`, run, () => sql.unsafe(`analyze ${target}`))
    }
    return run
  }

  return { refresh, compress, sizeChunks, vacuum }
}

export type EmbeddedMaintenance = ReturnType<typeof createEmbeddedMaintenance>
