import type { Queryable } from '../db/open.js'
import type { RetentionDays } from '../db/policies.js'
import { estimateHops } from '../samples/hops.js'
import { requireTarget } from '../targets/targets.service.js'
import { HISTOGRAM_BINS, HISTOGRAM_EDGES_US, HISTOGRAM_MAX_RELATIVE_ERROR, estimatePercentile } from './histogram.js'
import { meanOpinionScore } from './insights.mos.js'
import { type OutageRow, listOutages, outagesInWindow } from '../outages/outages.repo.js'
import { type BucketStats, RAW_PERCENTILES, rawBuckets, tierBuckets } from './insights.repo.js'
import type { InsightsOut, InsightsQuery, OutageOut, TimelineBucketOut } from './insights.schema.js'
import { alignWindow, chooseBucketSeconds, chooseTier } from './insights.tiers.js'
import { usToMs } from '../lib/format.js'

// Insights of one target over a window: pick the tier, read its buckets, then derive the summary and
// the gap-filled timeline here. On raw samples the percentiles are exact (percentile_cont, as the
// predecessor's linear interpolation); on the 1m/1h tiers they are estimated from the summed histogram
// columns (nearest rank, within HISTOGRAM_MAX_RELATIVE_ERROR) and clamped to the exact min and max.

export interface InsightsContext {
  retention: RetentionDays
  now?: Date
}

const OUTAGE_ITEMS = 100
const DEFAULT_WINDOW_MINUTES = 60


function sumBuckets(rows: BucketStats[]): BucketStats {
  const total: BucketStats = {
    bucket: null, sent: 0, received: 0, rttMin: null, rttMax: null, rttSum: 0, jitterCount: 0, jitterSum: 0,
    ttlMin: null, ttlMax: null, pct: null, hist: new Array<number>(HISTOGRAM_BINS).fill(0),
  }
  const min = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b))
  const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b))
  for (const r of rows) {
    total.sent += r.sent
    total.received += r.received
    total.rttSum += r.rttSum
    total.jitterCount += r.jitterCount
    total.jitterSum += r.jitterSum
    total.rttMin = min(total.rttMin, r.rttMin)
    total.rttMax = max(total.rttMax, r.rttMax)
    total.ttlMin = min(total.ttlMin, r.ttlMin)
    total.ttlMax = max(total.ttlMax, r.ttlMax)
    r.hist?.forEach((n, i) => (total.hist![i]! += n))
  }
  return total
}

/** The p-quantile of a bucket's RTTs in µs: exact on raw rows, else estimated from the histogram. */
function percentileUs(b: BucketStats, p: (typeof RAW_PERCENTILES)[number]): number | null {
  if (b.pct) return b.pct[RAW_PERCENTILES.indexOf(p)] ?? null
  if (!b.hist || b.rttMin === null || b.rttMax === null) return null
  const e = estimatePercentile(b.hist, p)
  // The true value lies within [min, max], which are exact: clamping can only reduce the error.
  return e === null ? null : Math.min(b.rttMax, Math.max(b.rttMin, e))
}

function timelineBucket(b: BucketStats, withHistogram: boolean): Omit<TimelineBucketOut, 'bucket'> {
  return {
    avg_latency_ms: b.received > 0 ? usToMs(b.rttSum / b.received) : null,
    min_latency_ms: usToMs(b.rttMin),
    max_latency_ms: usToMs(b.rttMax),
    loss_rate: b.sent > 0 ? (b.sent - b.received) / b.sent : null,
    sample_count: b.sent,
    p5_latency_ms: usToMs(percentileUs(b, 0.05)),
    p50_latency_ms: usToMs(percentileUs(b, 0.5)),
    p95_latency_ms: usToMs(percentileUs(b, 0.95)),
    ...(withHistogram ? { histogram: b.hist ?? new Array<number>(HISTOGRAM_BINS).fill(0) } : {}),
  }
}

const EMPTY_BUCKET: Omit<TimelineBucketOut, 'bucket' | 'histogram'> = {
  avg_latency_ms: null, min_latency_ms: null, max_latency_ms: null, loss_rate: null, sample_count: 0,
  p5_latency_ms: null, p50_latency_ms: null, p95_latency_ms: null,
}

export function outageJson(o: OutageRow, now: Date): OutageOut {
  const end = o.endedAt ?? now
  return {
    id: Number(o.id),
    target_id: o.targetId,
    started_at: o.startedAt.toISOString(),
    ended_at: o.endedAt?.toISOString() ?? null,
    duration_s: Math.max(0, (end.getTime() - o.startedAt.getTime()) / 1000),
    ongoing: o.endedAt === null,
    lost_rounds: o.lostRounds,
    cause: o.cause,
  }
}

function hopRange(rows: BucketStats[]): { current: number | null; min: number | null; max: number | null } {
  let current: number | null = null
  const hops: number[] = []
  for (const r of rows) {
    if (r.bucket === null || r.ttlMax === null) continue
    current = estimateHops(r.ttlMax) // rows are oldest first: the last one wins
    hops.push(estimateHops(r.ttlMax)!, estimateHops(r.ttlMin)!)
  }
  return { current, min: hops.length ? Math.min(...hops) : null, max: hops.length ? Math.max(...hops) : null }
}

export async function getInsights(sql: Queryable, targetId: number, q: InsightsQuery, ctx: InsightsContext): Promise<InsightsOut> {
  const target = await requireTarget(sql, targetId)
  const now = ctx.now ?? new Date()
  const to = q.to ?? now
  const from = q.from ?? new Date(to.getTime() - (q.window_minutes ?? DEFAULT_WINDOW_MINUTES) * 60_000)
  const tier = chooseTier(from, to, now, ctx.retention)
  const { start, end } = alignWindow(from, to, now, tier)
  const windowS = (end.getTime() - start.getTime()) / 1000
  const bucketS = chooseBucketSeconds(windowS, tier, q.bucket_seconds)
  const range = { targetId, start, end, bucketS }

  const rows = tier.name === 'raw' ? await rawBuckets(sql, range, q.histogram) : await tierBuckets(sql, tier, range)
  const outages = await outagesInWindow(sql, { targetId, start, end, now, limit: OUTAGE_ITEMS })

  const buckets = rows.filter((r) => r.bucket !== null)
  const total = tier.name === 'raw' ? (rows.find((r) => r.bucket === null) ?? sumBuckets([])) : sumBuckets(buckets)
  const byTime = new Map(buckets.map((r) => [r.bucket!.getTime(), r]))
  const timeline: TimelineBucketOut[] = []
  const stepMs = bucketS * 1000
  for (let t = Math.floor(start.getTime() / stepMs) * stepMs; t < end.getTime(); t += stepMs) {
    const b = byTime.get(t)
    const bucket = new Date(t).toISOString()
    if (b) timeline.push({ bucket, ...timelineBucket(b, q.histogram) })
    else timeline.push({ bucket, ...EMPTY_BUCKET, ...(q.histogram ? { histogram: new Array<number>(HISTOGRAM_BINS).fill(0) } : {}) })
  }

  const lossCount = total.sent - total.received
  const lossPercent = total.sent > 0 ? (lossCount / total.sent) * 100 : null
  const latencyAvg = total.received > 0 ? usToMs(total.rttSum / total.received) : null
  const jitter = total.jitterCount > 0 ? usToMs(total.jitterSum / total.jitterCount) : null
  const hops = hopRange(buckets)

  return {
    target_id: target.id,
    target_ip: target.address,
    created_at: target.createdAt.toISOString(),
    tier: tier.name,
    window_minutes: windowS / 60,
    window_start: start.toISOString(),
    window_end: end.toISOString(),
    bucket_seconds: bucketS,
    sample_count: total.sent,
    loss_count: lossCount,
    uptime_percent: lossPercent === null ? null : 100 - lossPercent,
    loss_percent: lossPercent,
    latency_avg_ms: latencyAvg,
    latency_min_ms: usToMs(total.rttMin),
    latency_max_ms: usToMs(total.rttMax),
    latency_p50_ms: usToMs(percentileUs(total, 0.5)),
    latency_p95_ms: usToMs(percentileUs(total, 0.95)),
    latency_p99_ms: usToMs(percentileUs(total, 0.99)),
    percentile_max_relative_error: tier.name === 'raw' ? 0 : HISTOGRAM_MAX_RELATIVE_ERROR,
    jitter_ms: jitter,
    mos: lossPercent === null ? null : meanOpinionScore({ latencyMs: latencyAvg, jitterMs: jitter, lossPercent }),
    hop_count: hops.current,
    hop_count_min: hops.min,
    hop_count_max: hops.max,
    outages: { count: outages.count, downtime_seconds: outages.downtimeS, items: outages.items.map((o) => outageJson(o, now)) },
    ...(q.histogram ? { histogram_edges_us: [...HISTOGRAM_EDGES_US] } : {}),
    timeline,
  }
}

/** A target's outages, newest first. */
export async function getOutages(sql: Queryable, targetId: number, limit: number, now = new Date()): Promise<OutageOut[]> {
  await requireTarget(sql, targetId)
  return (await listOutages(sql, targetId, limit)).map((o) => outageJson(o, now))
}
