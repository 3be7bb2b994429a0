import { siteFilter } from '../sites/sites.repo.js'
import type { Queryable } from '../db/open.js'
import { type BinShapeRow, HISTOGRAM_COLUMNS, HISTOGRAM_EDGES_US, histogramFromRow } from './histogram.js'
import type { Tier } from './insights.tiers.js'
import { intArrayLiteral } from '../db/arrays.js'

// The insights queries. Every tier answers with the same bucket rows (counts, RTT min/max/sum, jitter
// sums, TTL range), so one piece of TypeScript turns them into a summary and a timeline. Buckets are
// aligned to the Unix epoch (as the predecessor's floor(epoch / bucket) · bucket was).

/** One timeline bucket (or, with `bucket` null, the whole window) as read from a tier. */
export interface BucketStats {
  bucket: Date | null
  sent: number
  received: number
  rttMin: number | null
  rttMax: number | null
  rttSum: number
  jitterCount: number
  jitterSum: number
  ttlMin: number | null
  ttlMax: number | null
  /** Raw tier only: exact p5, p50, p95, p99 of the RTT (percentile_cont), µs. */
  pct: (number | null)[] | null
  /** Latency histogram (HISTOGRAM_EDGES_US bins); always on the rollup tiers, on request on raw. */
  hist: number[] | null
}

export const RAW_PERCENTILES = [0.05, 0.5, 0.95, 0.99] as const

const EPOCH = new Date(0)

export interface Range {
  targetId: number
  /** One site's samples (sites.id), or null for all sites combined. */
  siteId: number | null
  start: Date
  end: Date
  bucketS: number
}


/** The relation a rollup tier is read from: the combined one, or its per-site twin for one site. */
export function tierRelation(tier: Tier, siteId: number | null): string {
  if (siteId === null || tier.table === 'samples') return tier.table
  return tier.table === 'samples_1m' ? 'samples_site_1m' : 'samples_site_1h'
}

/**
 * Raw samples per bucket, plus the whole window as one more row (grouping sets: one scan), with exact
 * percentiles. The histogram, when asked for, is a second grouped query.
 */
export async function rawBuckets(sql: Queryable, r: Range, withHistogram: boolean): Promise<BucketStats[]> {
  const rows = await sql<Omit<BucketStats, 'hist'>[]>`
    select time_bucket(make_interval(secs => ${r.bucketS}), time, ${EPOCH}::timestamptz) as bucket,
      count(*)::int as sent, count(rtt_us)::int as received,
      min(rtt_us) as rtt_min, max(rtt_us) as rtt_max, coalesce(sum(rtt_us), 0)::float8 as rtt_sum,
      count(jitter_us)::int as jitter_count, coalesce(sum(jitter_us), 0)::float8 as jitter_sum,
      min(ttl)::int as ttl_min, max(ttl)::int as ttl_max,
      percentile_cont(array[0.05, 0.5, 0.95, 0.99]) within group (order by rtt_us) as pct -- RAW_PERCENTILES
    from samples
    where target_id = ${r.targetId} ${siteFilter(sql, r.siteId)} and time >= ${r.start} and time < ${r.end}
    group by grouping sets ((1), ())
    order by 1 nulls first`
  const hists = withHistogram ? await rawHistograms(sql, r) : null
  return rows.map((row) => ({ ...row, hist: hists ? (hists.get(row.bucket?.getTime() ?? null) ?? HISTOGRAM_COLUMNS.map(() => 0)) : null }))
}

/** Per-bucket histograms of raw RTTs, binned exactly as the rollups' h00…h55 (width_bucket on the edges). */
async function rawHistograms(sql: Queryable, r: Range): Promise<Map<number | null, number[]>> {
  const rows = await sql<{ bucket: Date | null; bin: number; n: number }[]>`
    select time_bucket(make_interval(secs => ${r.bucketS}), time, ${EPOCH}::timestamptz) as bucket,
      width_bucket(rtt_us, ${intArrayLiteral(HISTOGRAM_EDGES_US.slice(1))}::int[]) as bin, count(*)::int as n
    from samples
    where target_id = ${r.targetId} ${siteFilter(sql, r.siteId)} and time >= ${r.start} and time < ${r.end} and rtt_us is not null
    group by grouping sets ((1, 2), (2))`
  const out = new Map<number | null, number[]>()
  for (const row of rows) {
    const key = row.bucket?.getTime() ?? null
    let h = out.get(key)
    if (!h) out.set(key, (h = HISTOGRAM_COLUMNS.map(() => 0)))
    h[row.bin] = row.n
  }
  return out
}

// sum(h00)::float8 as h00, … as a list of fragments (identifiers from a fixed list, never user input).
const histogramSums = (sql: Queryable) => HISTOGRAM_COLUMNS.map((c) => sql`, sum(${sql(c)})::float8 as ${sql(c)}`)

/** A rollup tier's rows re-bucketed to `bucketS` (a multiple of the tier's resolution), oldest first. */
export async function tierBuckets(sql: Queryable, tier: Tier, r: Range): Promise<BucketStats[]> {
  const rows = await sql<Record<string, unknown>[]>`
    select time_bucket(make_interval(secs => ${r.bucketS}), bucket, ${EPOCH}::timestamptz) as bucket,
      sum(sent)::float8 as sent, sum(received)::float8 as received,
      min(rtt_min) as rtt_min, max(rtt_max) as rtt_max, coalesce(sum(rtt_sum), 0)::float8 as rtt_sum,
      coalesce(sum(jitter_count), 0)::float8 as jitter_count, coalesce(sum(jitter_sum), 0)::float8 as jitter_sum,
      min(ttl_min)::int as ttl_min, max(ttl_max)::int as ttl_max
      ${histogramSums(sql)}
    from ${sql(tierRelation(tier, r.siteId))}
    where target_id = ${r.targetId} ${siteFilter(sql, r.siteId)} and bucket >= ${r.start} and bucket < ${r.end}
    group by 1
    order by 1`
  return rows.map((row) => ({
    bucket: row.bucket as Date,
    sent: row.sent as number,
    received: row.received as number,
    rttMin: row.rttMin as number | null,
    rttMax: row.rttMax as number | null,
    rttSum: row.rttSum as number,
    jitterCount: row.jitterCount as number,
    jitterSum: row.jitterSum as number,
    ttlMin: row.ttlMin as number | null,
    ttlMax: row.ttlMax as number | null,
    pct: null,
    hist: histogramFromRow(row),
  }))
}

/**
 * Raw samples of a few ranges (the partial tier buckets at a window's ends) per timeline bucket, in the
 * shape tierBuckets gives, histogram included (width_bucket on the rollups' edges). One statement: the
 * ranges are a union of index range scans, so chunk exclusion works for each.
 */
export async function rawRangeBuckets(
  sql: Queryable,
  scope: { targetId: number; siteId: number | null },
  ranges: readonly { start: Date; end: Date }[],
  bucketS: number,
): Promise<BucketStats[]> {
  if (ranges.length === 0) return []
  const { targetId, siteId } = scope
  const scans = ranges
    .map((g) => sql`select time, rtt_us, jitter_us, ttl from samples where target_id = ${targetId} ${siteFilter(sql, siteId)} and time >= ${g.start} and time < ${g.end}`)
    .reduce((a, b) => sql`${a} union all ${b}`)
  const rows = await sql<(Omit<BucketStats, 'bucket' | 'pct' | 'hist'> & { bucket: Date; bin: number | null })[]>`
    select time_bucket(make_interval(secs => ${bucketS}), time, ${EPOCH}::timestamptz) as bucket,
      width_bucket(rtt_us, ${intArrayLiteral(HISTOGRAM_EDGES_US.slice(1))}::int[]) as bin,
      count(*)::int as sent, count(rtt_us)::int as received,
      min(rtt_us) as rtt_min, max(rtt_us) as rtt_max, coalesce(sum(rtt_us), 0)::float8 as rtt_sum,
      count(jitter_us)::int as jitter_count, coalesce(sum(jitter_us), 0)::float8 as jitter_sum,
      min(ttl)::int as ttl_min, max(ttl)::int as ttl_max
    from (${scans}) s
    group by 1, 2`
  const byBucket = new Map<number, BucketStats>()
  for (const { bin, ...r } of rows) {
    const key = r.bucket.getTime()
    let b = byBucket.get(key)
    if (!b) byBucket.set(key, (b = { ...r, pct: null, hist: HISTOGRAM_COLUMNS.map(() => 0) }))
    else mergeInto(b, r)
    if (bin !== null) b.hist![bin]! += r.received
  }
  return [...byBucket.values()].sort((a, b) => a.bucket!.getTime() - b.bucket!.getTime())
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b))
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b))

/** Adds b's counts, sums, extremes and histogram into a (not percentiles: those do not add up). */
export function mergeInto(a: BucketStats, b: Omit<BucketStats, 'bucket' | 'pct' | 'hist'> & { hist?: number[] | null }): void {
  a.sent += b.sent
  a.received += b.received
  a.rttSum += b.rttSum
  a.jitterCount += b.jitterCount
  a.jitterSum += b.jitterSum
  a.rttMin = minOf(a.rttMin, b.rttMin)
  a.rttMax = maxOf(a.rttMax, b.rttMax)
  a.ttlMin = minOf(a.ttlMin, b.ttlMin)
  a.ttlMax = maxOf(a.ttlMax, b.ttlMax)
  if (b.hist) {
    a.hist ??= HISTOGRAM_COLUMNS.map(() => 0)
    b.hist.forEach((n, i) => (a.hist![i]! += n))
  }
}

/**
 * Exact percentiles (RAW_PERCENTILES, percentile_cont) of the raw RTTs in [start, end), per bucket and
 * (key null) for the whole range: one scan, two sorts (grouping sets).
 */
export async function rawPercentiles(sql: Queryable, r: Range): Promise<Map<number | null, (number | null)[]>> {
  const rows = await sql<{ bucket: Date | null; pct: (number | null)[] }[]>`
    select time_bucket(make_interval(secs => ${r.bucketS}), time, ${EPOCH}::timestamptz) as bucket,
      percentile_cont(array[0.05, 0.5, 0.95, 0.99]) within group (order by rtt_us) as pct -- RAW_PERCENTILES
    from samples
    where target_id = ${r.targetId} ${siteFilter(sql, r.siteId)} and time >= ${r.start} and time < ${r.end}
    group by grouping sets ((1), ())`
  return new Map(rows.map((row) => [row.bucket?.getTime() ?? null, row.pct]))
}

/**
 * The 1-minute rows in [start, end) that hold RTTs in any of `bins`: their counts there and what each
 * row knows exactly (received, min, max, sum), for shapeBin. Only the bins the percentiles fall
 * in are read, and only rows with RTTs in them; they come back as one row of arrays, which the embedded
 * engine delivers about four times faster than one row per minute (30 days: 41k rows in 160 ms, not 560).
 */
export async function binShapeRows(
  sql: Queryable,
  r: { targetId: number; siteId: number | null; start: Date; end: Date },
  bins: readonly number[],
): Promise<BinShapeRow[]> {
  const cols = bins.map((b) => HISTOGRAM_COLUMNS[b]!)
  const [agg] = await sql<{ received: number[] | null; rttMin: number[]; rttMax: number[]; rttSum: number[]; counts: number[][] }[]>`
    select array_agg(received) as received, array_agg(rtt_min) as rtt_min, array_agg(rtt_max) as rtt_max,
      array_agg(rtt_sum::float8) as rtt_sum, array[${cols.map((c, i) => (i === 0 ? sql`array_agg(${sql(c)})` : sql`, array_agg(${sql(c)})`))}] as counts
    from ${sql(r.siteId === null ? 'samples_1m' : 'samples_site_1m')}
    where target_id = ${r.targetId} ${siteFilter(sql, r.siteId)} and bucket >= ${r.start} and bucket < ${r.end} and greatest(${sql(cols)}) > 0`
  if (!agg?.received) return []
  return agg.received.map((received, i) => ({
    received,
    rttMin: agg.rttMin[i]!,
    rttMax: agg.rttMax[i]!,
    rttSum: agg.rttSum[i]!,
    counts: cols.map((_, k) => agg.counts[k]![i]!),
  }))
}
