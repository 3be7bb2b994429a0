import type { Queryable } from '../db/open.js'
import { HISTOGRAM_COLUMNS, HISTOGRAM_EDGES_US, histogramFromRow } from './histogram.js'
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

interface Range {
  targetId: number
  start: Date
  end: Date
  bucketS: number
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
    where target_id = ${r.targetId} and time >= ${r.start} and time < ${r.end}
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
    where target_id = ${r.targetId} and time >= ${r.start} and time < ${r.end} and rtt_us is not null
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
    from ${sql(tier.table)}
    where target_id = ${r.targetId} and bucket >= ${r.start} and bucket < ${r.end}
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
