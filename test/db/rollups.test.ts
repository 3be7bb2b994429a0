import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { VACUUM_JOB_ID, listPolicyJobs } from '../../src/db/maintenance/job-runs.js'
import { type JobRunner, createJobRunner } from '../../src/db/maintenance/jobs.js'
import type { Sql } from '../../src/db/open.js'
import {
  HISTOGRAM_BINS,
  HISTOGRAM_COLUMNS,
  HISTOGRAM_EDGES_US,
  HISTOGRAM_MAX_RELATIVE_ERROR,
  binIndex,
  estimatePercentile,
  histogramFromRow,
  locatePercentile,
  refinePercentile,
} from '../../src/insights/histogram.js'
import { type Sample, insertSamples } from '../../src/probe/writer.js'
import { type TestDatabase, openTestDatabase, testLog } from '../helpers/db.js'
import { createPrng } from '../../src/lib/prng.js'
import { ENGINES } from '../helpers/engines.js'

// The rollup tiers and the policy lifecycle on the real embedded engine, where only pingscope's job
// runner runs the policies. One tick of the runner in beforeAll refreshes, compresses and drops
// everything the tests then check: each test uses its own target ids and time range.

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR
const ROLLUP_TARGETS = [1, 2, 3]
const PCT_TARGET = 10
const RETAIN_TARGET = 20
const COMPRESS_TARGET = 30
const VACUUM_INTERVAL_MS = 6 * HOUR

function sample(time: number, targetId: number, rttUs: number | null, extra: Partial<Sample> = {}): Sample {
  return { time: new Date(time), targetId, seq: 0, rttUs, ttl: rttUs === null ? null : 57, jitterUs: null, status: rttUs === null ? 1 : 0, reporter: null, ...extra }
}

/** Probe-like rounds: losses of every status, TTLs 40–64, jitter, RTTs log-uniform over 10 µs–2 s and on bin edges. */
function probeRounds(seed: number, targetId: number, from: number, to: number, stepMs: number, packets: number): Sample[] {
  const rand = createPrng(seed)
  const out: Sample[] = []
  let prev: number | null = null
  for (let t = from; t < to; t += stepMs) {
    for (let seq = 0; seq < packets; seq++) {
      const u = rand()
      const status = u < 0.05 ? 1 : u < 0.08 ? 2 : u < 0.09 ? 3 : 0
      if (status !== 0) {
        out.push(sample(t, targetId, null, { seq, status, ttl: null, reporter: status === 2 ? '192.0.2.1' : null }))
        continue
      }
      // One reply in eight sits exactly on a bin edge or just below it: the SQL filters and binIndex must agree.
      const rtt =
        rand() < 0.125
          ? (HISTOGRAM_EDGES_US[1 + Math.floor(rand() * (HISTOGRAM_BINS - 1))] as number) - (rand() < 0.5 ? 1 : 0)
          : Math.round(10 * 200_000 ** rand())
      out.push(sample(t, targetId, rtt, { seq, ttl: 40 + Math.floor(rand() * 25), jitterUs: prev === null ? null : Math.abs(rtt - prev) }))
      prev = rtt
    }
  }
  return out
}

type Row = Record<string, unknown> & { bucket: Date; targetId: number; rttSumsq: number | null }

/** The rollup of `samples` per target and bucket, computed here and not by the database. */
function rollUp(samples: Sample[], bucketMs: number): Row[] {
  const groups = new Map<string, Sample[]>()
  for (const s of samples) {
    const key = `${s.targetId}|${Math.floor(s.time.getTime() / bucketMs) * bucketMs}`
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  const min = (xs: number[]) => (xs.length ? Math.min(...xs) : null)
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : null)
  const sum = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) : null)
  const rows = [...groups.entries()].map(([key, g]): Row => {
    const [targetId, bucket] = key.split('|').map(Number) as [number, number]
    const rtts = g.flatMap((s) => (s.rttUs === null ? [] : [s.rttUs]))
    const jitters = g.flatMap((s) => (s.jitterUs === null ? [] : [s.jitterUs]))
    const ttls = g.flatMap((s) => (s.ttl === null ? [] : [s.ttl]))
    const hist = new Array<number>(HISTOGRAM_BINS).fill(0)
    for (const r of rtts) hist[binIndex(r)]! += 1
    return {
      bucket: new Date(bucket),
      targetId,
      sent: g.length,
      received: rtts.length,
      timeouts: g.filter((s) => s.status === 1).length,
      unreachable: g.filter((s) => s.status === 2).length,
      errors: g.filter((s) => s.status === 3).length,
      rttMin: min(rtts),
      rttMax: max(rtts),
      rttSum: sum(rtts),
      rttSumsq: sum(rtts.map((r) => r * r)),
      jitterCount: jitters.length,
      jitterSum: sum(jitters),
      jitterMax: max(jitters),
      ttlMin: min(ttls),
      ttlMax: max(ttls),
      ...Object.fromEntries(HISTOGRAM_COLUMNS.map((c, i) => [c, hist[i]])),
    }
  })
  return rows.sort((a, b) => a.targetId - b.targetId || a.bucket.getTime() - b.bucket.getTime())
}

/** Rows of a tier's materialized hypertable (no real-time union), bigint sums as numbers. */
async function materialized(sql: Sql, table: string, targets: number[]): Promise<Row[]> {
  const rows = await sql<Row[]>`select * from ${sql(table)} where target_id in ${sql(targets)} order by target_id, bucket`
  return rows.map((r) => ({ ...r, rttSum: r.rttSum === null ? null : Number(r.rttSum), jitterSum: r.jitterSum === null ? null : Number(r.jitterSum) }))
}

/** Every column equal; the float sum of squares within rounding (the 1h tier sums 60 float partial sums). */
function expectSameRollups(actual: Row[], expected: Row[]) {
  const exact = (r: Row) => ({ ...r, rttSumsq: r.rttSumsq === null })
  expect(actual.map(exact)).toEqual(expected.map(exact))
  actual.forEach((a, i) => {
    const e = expected[i]!.rttSumsq
    if (e !== null) expect(Math.abs(a.rttSumsq! - e) / e).toBeLessThan(1e-12)
  })
}

async function watermark(sql: Sql, view: string): Promise<Date> {
  const [row] = await sql<{ at: Date }[]>`
    select _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark(mat_hypertable_id)) as at
    from _timescaledb_catalog.continuous_agg where user_view_name = ${view}`
  return row!.at
}

async function runCounts(sql: Sql): Promise<Map<number, number>> {
  const rows = await sql<{ jobId: number; n: number }[]>`select job_id, count(*)::int as n from job_runs group by job_id`
  return new Map(rows.map((r) => [r.jobId, r.n]))
}

describe.each(ENGINES)('rollup tiers and policies through the job runner (%s engine)', (engine) => {
  let db: TestDatabase
  let sql: Sql
  let runner: JobRunner
  let clockOffsetMs = 0
  const mat: Record<string, string> = {}
  const before: Record<string, unknown> = {}
  // Whole hours, fixed once: rollup data ends two hours before the current hour.
  let hour = 0
  let rollupFrom = 0
  let rollupTo = 0
  let rollupSamples: Sample[] = []
  let pctFrom = 0
  let pctRtts: number[] = []
  let old40 = 0
  let old10 = 0
  let compressFrom = 0
  let compressSamples: Sample[] = []

  beforeAll(async () => {
    db = await openTestDatabase({ engine })
    sql = db.sql
    const [now] = await sql<{ hour: Date }[]>`select date_trunc('hour', now()) as hour`
    hour = now!.hour.getTime()
    for (const c of await sql<{ viewName: string; s: string; n: string }[]>`
      select view_name, materialization_hypertable_schema as s, materialization_hypertable_name as n
      from timescaledb_information.continuous_aggregates`) mat[c.viewName] = `${c.s}.${c.n}`

    rollupTo = hour - 2 * HOUR
    rollupFrom = rollupTo - 3 * HOUR
    rollupSamples = [
      ...probeRounds(1, 1, rollupFrom, rollupTo, 2_000, 1),
      ...probeRounds(2, 2, rollupFrom, rollupTo, 5_000, 3),
      ...probeRounds(3, 3, rollupFrom + 7 * MIN, rollupTo - 11 * MIN, 45_000, 1), // minutes with one or two rows
    ]

    pctFrom = rollupFrom - HOUR
    const rand = createPrng(42)
    pctRtts = Array.from({ length: 6_000 }, () => {
      const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand())
      return Math.round(20_000 * Math.exp(0.6 * z)) // median 20 ms
    })

    old40 = hour - 40 * DAY
    old10 = hour - 10 * DAY
    const steady = (from: number, to: number) =>
      Array.from({ length: (to - from) / 10_000 }, (_, i) => sample(from + i * 10_000, RETAIN_TARGET, 1_000 + i))

    compressFrom = hour - 50 * HOUR
    compressSamples = Array.from({ length: 720 }, (_, i) => sample(compressFrom + i * 5_000, COMPRESS_TARGET, i % 10 === 0 ? null : 500 + i))

    await insertSamples(sql, rollupSamples)
    await insertSamples(sql, pctRtts.map((rtt, i) => sample(pctFrom + i * 600, PCT_TARGET, rtt)))
    await insertSamples(sql, [...steady(old40, old40 + HOUR), ...steady(old10, old10 + HOUR), ...steady(hour - HOUR, hour)])
    await insertSamples(sql, compressSamples)

    // History older than the 1m tier's 30-day retention gets into the tiers only by an explicit refresh
    // (it is outside both refresh policy windows), as after an import.
    const window = [new Date(old40), new Date(old40 + HOUR)] as const
    await sql`call refresh_continuous_aggregate('samples_1m', ${window[0]}::timestamptz, ${window[1]}::timestamptz)`
    await sql`call refresh_continuous_aggregate('samples_1h', ${window[0]}::timestamptz, ${window[1]}::timestamptz)`
    await sql`call refresh_continuous_aggregate('samples_1m', ${new Date(old10)}::timestamptz, ${new Date(old10 + HOUR)}::timestamptz)`

    before.rollup1m = (await materialized(sql, mat.samples_1m!, ROLLUP_TARGETS)).length
    before.rollup1h = (await materialized(sql, mat.samples_1h!, ROLLUP_TARGETS)).length
    before.watermark1m = await watermark(sql, 'samples_1m')
    before.oldRawChunks = (await sql`select show_chunks('samples', older_than => interval '3 days')`).length
    before.old1mRows = (await sql`select 1 from samples_1m where target_id = ${RETAIN_TARGET} and bucket < ${new Date(old40 + HOUR)}`).length
    before.compressed = await chunkCompressed(new Date(compressFrom))

    runner = createJobRunner({
      sql,
      log: testLog,
      mode: 'embedded',
      enabled: true,
      pollMs: 60_000,
      vacuumIntervalMs: VACUUM_INTERVAL_MS,
      now: () => new Date(Date.now() + clockOffsetMs),
    })
    await runner.tick()
  })

  afterAll(async () => {
    await runner?.stop()
    await db?.destroy()
  })

  async function chunkCompressed(at: Date): Promise<boolean | undefined> {
    const [row] = await sql<{ isCompressed: boolean }[]>`
      select is_compressed from timescaledb_information.chunks
      where hypertable_name = 'samples' and range_start <= ${at} and range_end > ${at}`
    return row?.isCompressed
  }

  it('materializes exact 1-minute and 1-hour rollups, every bucket and every column', async () => {
    const jobs = await listPolicyJobs(sql)
    const refreshIds = jobs.filter((j) => j.procName === 'policy_refresh_continuous_aggregate').map((j) => j.jobId)
    expect(refreshIds).toHaveLength(4) // samples_1m, samples_1h and their per-site twins
    const runs = await sql<{ jobId: number; ok: boolean; error: string | null }[]>`
      select job_id, ok, error from job_runs where job_id in ${sql(refreshIds)} order by job_id`
    expect(runs.map((r) => ({ ...r }))).toEqual(refreshIds.map((jobId) => ({ jobId, ok: true, error: null })))
    expect(runner.status()).toMatchObject({ failures: 0, lastError: null })

    // Nothing of these hours was materialized before the runner; now both watermarks are past them.
    expect(before).toMatchObject({ rollup1m: 0, rollup1h: 0 })
    expect((before.watermark1m as Date).getTime()).toBeLessThan(rollupFrom)
    expect((await watermark(sql, 'samples_1m')).getTime()).toBeGreaterThanOrEqual(rollupTo)
    expect((await watermark(sql, 'samples_1h')).getTime()).toBeGreaterThanOrEqual(rollupTo)

    const minutes = rollUp(rollupSamples, MIN)
    const hours = rollUp(rollupSamples, HOUR)
    expect(minutes).toHaveLength(3 * 180 - 18) // target 3 skips 18 minutes
    expect(hours).toHaveLength(9)
    expect(rollupSamples.filter((s) => s.status === 2).length).toBeGreaterThan(0)
    expect(new Set(hours.flatMap((h) => HISTOGRAM_COLUMNS.filter((c) => (h[c] as number) > 0))).size).toBeGreaterThan(45)
    expectSameRollups(await materialized(sql, mat.samples_1m!, ROLLUP_TARGETS), minutes)
    expectSameRollups(await materialized(sql, mat.samples_1h!, ROLLUP_TARGETS), hours)
    // Every sample here was measured from the one site there is: the per-site tiers hold the same rows.
    const ofDefaultSite = (rows: Row[]) => rows.map(({ siteId, ...r }) => (expect(siteId).toBe(1), r))
    expectSameRollups(ofDefaultSite(await materialized(sql, mat.samples_site_1m!, ROLLUP_TARGETS)), minutes)
    expectSameRollups(ofDefaultSite(await materialized(sql, mat.samples_site_1h!, ROLLUP_TARGETS)), hours)
  })

  it('estimates p50/p95/p99 of log-normal RTTs within the error README claims, plain and refined', async () => {
    const [row] = await sql<Record<string, unknown>[]>`
      select * from ${sql(mat.samples_1h!)} where target_id = ${PCT_TARGET} and bucket = ${new Date(pctFrom)}`
    expect(row?.sent).toBe(pctRtts.length)
    const counts = histogramFromRow(row!)
    const minutes = await sql<Record<string, unknown>[]>`select * from ${sql(mat.samples_1m!)} where target_id = ${PCT_TARGET}`
    expect(minutes).toHaveLength(60)
    const ps = [0.5, 0.95, 0.99]
    const [exact] = await sql<{ cont: number[]; disc: number[] }[]>`
      select percentile_cont(${ps}::float8[]) within group (order by rtt_us) as cont,
             percentile_disc(${ps}::float8[]) within group (order by rtt_us) as disc
      from samples where target_id = ${PCT_TARGET}`
    const report = ps.map((p, i) => {
      // The hour's histogram alone (the 1h source), and refined with its 60 minute rows (the 1m source).
      const plain = estimatePercentile(counts, p)!
      const at = locatePercentile(counts, p)!
      const col = HISTOGRAM_COLUMNS[at.bin]!
      const rows = minutes.map((m) => ({ received: m.received as number, rttMin: m.rttMin as number, rttMax: m.rttMax as number, rttSum: Number(m.rttSum), counts: [m[col] as number] }))
      const refined = refinePercentile(at, rows, 0)!
      const cont = exact!.cont[i]!
      const disc = exact!.disc[i]!
      return { p, cont, disc, plain: Math.round(plain), refined: Math.round(refined), errPlain: Math.abs(plain - cont) / cont, errPlainDisc: Math.abs(plain - disc) / disc, errRefined: Math.abs(refined - cont) / cont }
    })
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`
    console.log('histogram percentile error, 6,000 log-normal RTTs (median 20 ms, sigma 0.6) in one hour:')
    console.table(report.map((r) => ({ ...r, errPlain: pct(r.errPlain), errPlainDisc: pct(r.errPlainDisc), errRefined: pct(r.errRefined) })))
    for (const r of report) {
      // The proven bound (against nearest rank) …
      expect(r.errPlainDisc).toBeLessThanOrEqual(HISTOGRAM_MAX_RELATIVE_ERROR)
      // … and what README claims for this smooth, wide shape against percentile_cont: under 0.5 %.
      expect(r.errPlain).toBeLessThan(0.005)
      expect(r.errRefined).toBeLessThan(0.005)
    }
  })

  it('drops raw chunks past 3 days and 1m chunks past 30 days while the 1h tier keeps their history', async () => {
    expect(before).toMatchObject({ oldRawChunks: 2, old1mRows: 60 })
    expect(await sql`select show_chunks('samples', older_than => interval '3 days')`).toHaveLength(0)
    expect(await sql`select show_chunks('samples_1m', older_than => interval '30 days')`).toHaveLength(0)

    const perHour = await sql<{ tier: string; bucket: Date; sent: number; rttSum: string }[]>`
      select 'raw' as tier, time_bucket('1 hour', time) as bucket, count(*)::int as sent, sum(rtt_us)::text as rtt_sum
      from samples where target_id = ${RETAIN_TARGET} group by 2
      union all
      select '1m', time_bucket('1 hour', bucket), sum(sent)::int, sum(rtt_sum)::text
      from samples_1m where target_id = ${RETAIN_TARGET} group by 2
      union all
      select '1h', bucket, sent, rtt_sum::text from samples_1h where target_id = ${RETAIN_TARGET}
      order by 1, 2`
    const hourOf = (from: number) => ({ bucket: new Date(from), sent: 360, rttSum: String(360 * 1_000 + (359 * 360) / 2) })
    const tier = (name: string) => perHour.filter((r) => r.tier === name).map(({ tier: _, ...r }) => r)
    expect(tier('raw')).toEqual([hourOf(hour - HOUR)])
    expect(tier('1m')).toEqual([hourOf(old10), hourOf(hour - HOUR)])
    expect(tier('1h')).toEqual([hourOf(old40), hourOf(old10), hourOf(hour - HOUR)])
  })

  it('compresses 2-day-old raw chunks, which stay readable and ignore duplicate batches', async () => {
    expect(before.compressed).toBe(false)
    expect(await chunkCompressed(new Date(compressFrom))).toBe(true)
    const totals = async () => {
      const [row] = await sql<{ n: number; received: number; rttSum: string }[]>`
        select count(*)::int as n, count(rtt_us)::int as received, sum(rtt_us)::text as rtt_sum
        from samples where target_id = ${COMPRESS_TARGET}`
      return row
    }
    const rtts = compressSamples.flatMap((s) => (s.rttUs === null ? [] : [s.rttUs]))
    const expected = { n: 720, received: rtts.length, rttSum: String(rtts.reduce((a, b) => a + b, 0)) }
    expect(await totals()).toEqual(expected)

    expect(await insertSamples(sql, compressSamples)).toBe(0)
    expect(await totals()).toEqual(expected)
    // The same path does write a row that is new, so the 0 above is the conflict check at work.
    expect(await insertSamples(sql, [{ ...compressSamples[1]!, seq: 1 }])).toBe(1)
    expect((await totals())?.n).toBe(721)
  })

  it('runs each job again only once its schedule interval has passed, VACUUM ANALYZE on its own interval', async () => {
    const jobs = await listPolicyJobs(sql)
    const first = await runCounts(sql)
    expect(Object.fromEntries(first)).toEqual(Object.fromEntries([...jobs.map((j) => [j.jobId, 1]), [VACUUM_JOB_ID, 1]]))

    await runner.tick()
    expect(await runCounts(sql)).toEqual(first)

    const refresh = jobs.filter((j) => j.procName === 'policy_refresh_continuous_aggregate')
    const refreshEveryMs = Math.max(...refresh.map((j) => j.scheduleMs))
    expect(refreshEveryMs).toBeLessThan(VACUUM_INTERVAL_MS)
    expect(Math.min(...jobs.filter((j) => !refresh.includes(j)).map((j) => j.scheduleMs))).toBeGreaterThan(VACUUM_INTERVAL_MS)
    const ranSince = (prev: Map<number, number>, now: Map<number, number>) =>
      [...now].filter(([id, n]) => n > (prev.get(id) ?? 0)).map(([id]) => id).sort((a, b) => a - b)

    clockOffsetMs = refreshEveryMs
    await runner.tick()
    const second = await runCounts(sql)
    expect(ranSince(first, second)).toEqual(refresh.map((j) => j.jobId).sort((a, b) => a - b))

    clockOffsetMs = VACUUM_INTERVAL_MS
    await runner.tick()
    expect(ranSince(second, await runCounts(sql))).toEqual([VACUUM_JOB_ID, ...refresh.map((j) => j.jobId)].sort((a, b) => a - b))
    const [failed] = await sql<{ n: number }[]>`select count(*)::int as n from job_runs where not ok`
    expect(failed?.n).toBe(0)
  })
})
