import type { Queryable } from '../db/open.js'
import type { RetentionDays } from '../db/maintenance/policies.js'
import { estimateHops } from '../samples/hops.js'
import { requireTarget } from '../targets/targets.service.js'
import { HISTOGRAM_BINS, HISTOGRAM_EDGES_US, HISTOGRAM_MAX_RELATIVE_ERROR, estimatePercentile, locatePercentile, shapeBin } from './histogram.js'
import { meanOpinionScore } from './insights.mos.js'
import { type OutageRow, listOutages, outagesInWindow } from '../outages/outages.repo.js'
import { type BucketStats, RAW_PERCENTILES, binShapeRows, mergeInto, rawBuckets, rawPercentiles, rawRangeBuckets, tierBuckets } from './insights.repo.js'
import type { InsightsOut, InsightsQuery, OutageOut, SiteBreakdownOut, TimelineBucketOut } from './insights.schema.js'
import { type Tier, type TierName, type WindowPlan, chooseBucketSeconds, chooseTier, planWindow, rawKeptFrom } from './insights.tiers.js'
import { siteIdOf, siteNames } from '../sites/sites.repo.js'
import { usToMs } from '../lib/format.js'

// Insights of one target over a window: pick the tier, read its buckets, then derive the summary and
// the gap-filled timeline here. The window is [from, to) exactly: on the 1m/1h tiers the partial buckets
// at its ends come from raw samples while those are kept, else the window shrinks to whole buckets
// (planWindow). Percentiles are exact (percentile_cont, the predecessor's linear interpolation) on raw
// samples, and on the tiers too while raw samples still cover the window (windowPercentiles); beyond,
// they are estimated from the summed histogram columns and clamped to the exact min and max.

export interface InsightsContext {
  retention: RetentionDays
  now?: Date
}

const OUTAGE_ITEMS = 100
const DEFAULT_WINDOW_MINUTES = 60
const DAY_MS = 86_400_000

function sumBuckets(rows: BucketStats[]): BucketStats {
  const total: BucketStats = {
    bucket: null, sent: 0, received: 0, rttMin: null, rttMax: null, rttSum: 0, jitterCount: 0, jitterSum: 0,
    ttlMin: null, ttlMax: null, pct: null, hist: new Array<number>(HISTOGRAM_BINS).fill(0),
  }
  for (const r of rows) mergeInto(total, r)
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
    site: o.site,
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

/** Echoes in a window up to which its percentiles are computed exactly from raw samples (one sort). */
export const EXACT_PERCENTILE_MAX_SAMPLES = 100_000
/** Rows of the 1-minute tier up to which they refine a window's percentiles (beyond: the histogram alone). */
export const REFINE_MAX_MINUTE_ROWS = 50_000

interface Window {
  targetId: number
  siteId: number | null
  start: Date
  end: Date
  bucketS: number
}

/**
 * The summary's p50/p95/p99 (µs) and, when exact, each bucket's percentiles, from the finest source
 * still covering the window:
 *   raw  exact (percentile_cont), while raw retention covers the window and it holds at most
 *        EXACT_PERCENTILE_MAX_SAMPLES echoes;
 *   1m   the summed histogram's bin, refined inside it with the rows of the 1-minute tier (their exact
 *        min, max and mean), while that tier covers the window in at most REFINE_MAX_MINUTE_ROWS rows;
 *   1h   the summed histogram alone. Refining with hourly rows was measured no better (an hour's min and
 *        max are too far apart: worse p50, better p95 on seeded history), so it is not done.
 */
async function windowPercentiles(
  sql: Queryable,
  w: Window,
  total: BucketStats,
  buckets: BucketStats[],
  now: Date,
  retention: RetentionDays,
): Promise<{ source: TierName; summary: (number | null)[] }> {
  const ps = [0.5, 0.95, 0.99] as const
  if (total.received === 0) return { source: 'raw', summary: ps.map(() => null) }
  if (w.start.getTime() >= rawKeptFrom(now, retention) && total.sent <= EXACT_PERCENTILE_MAX_SAMPLES) {
    const exact = await rawPercentiles(sql, w)
    for (const b of buckets) b.pct = exact.get(b.bucket!.getTime()) ?? null
    total.pct = exact.get(null) ?? null
    return { source: 'raw', summary: ps.map((p) => percentileUs(total, p)) }
  }
  const minuteRows = (w.end.getTime() - w.start.getTime()) / 60_000
  if (w.start.getTime() < now.getTime() - retention.minuteDays * DAY_MS || minuteRows > REFINE_MAX_MINUTE_ROWS) {
    return { source: '1h', summary: ps.map((p) => percentileUs(total, p)) }
  }
  const positions = ps.map((p) => locatePercentile(total.hist!, p))
  const bins = [...new Set(positions.flatMap((q) => (q ? [q.bin] : [])))]
  const rows = await binShapeRows(sql, {
    targetId: w.targetId,
    siteId: w.siteId,
    start: new Date(Math.floor(w.start.getTime() / 60_000) * 60_000),
    end: new Date(Math.ceil(w.end.getTime() / 60_000) * 60_000),
  }, bins)
  const shapes = bins.map((bin, i) => shapeBin(bin, rows, i))
  const summary = positions.map((q) => {
    const e = q ? shapes[bins.indexOf(q.bin)]?.quantile(q.fraction) : null
    // The true value lies within [min, max], which are exact: clamping can only reduce the error.
    return e === null || e === undefined ? null : Math.min(total.rttMax!, Math.max(total.rttMin!, e))
  })
  return { source: '1m', summary }
}

interface Measured {
  buckets: BucketStats[]
  total: BucketStats
  /** p50, p95, p99 in µs. */
  summary: (number | null)[]
  source: TierName
}

/** A window's buckets, total and percentiles, for one site or all sites combined (w.siteId). */
async function measure(
  sql: Queryable,
  w: Window,
  tier: Tier,
  plan: WindowPlan,
  withHistogram: boolean,
  now: Date,
  retention: RetentionDays,
): Promise<Measured> {
  if (tier.name === 'raw') {
    const rows = await rawBuckets(sql, w, withHistogram)
    const total = rows.find((r) => r.bucket === null) ?? sumBuckets([])
    const summary = [0.5, 0.95, 0.99].map((p) => percentileUs(total, p as (typeof RAW_PERCENTILES)[number]))
    return { buckets: rows.filter((r) => r.bucket !== null), total, summary, source: 'raw' }
  }
  // Whole tier buckets, plus the partial ones at the ends from raw samples, merged per timeline bucket.
  const tierRows = plan.tierRange ? await tierBuckets(sql, tier, { ...w, ...plan.tierRange }) : []
  const byTime = new Map(tierRows.map((r) => [r.bucket!.getTime(), r]))
  for (const r of await rawRangeBuckets(sql, w, plan.edges, w.bucketS)) {
    const b = byTime.get(r.bucket!.getTime())
    if (b) mergeInto(b, r)
    else byTime.set(r.bucket!.getTime(), r)
  }
  const buckets = [...byTime.values()].sort((a, b) => a.bucket!.getTime() - b.bucket!.getTime())
  const total = sumBuckets(buckets)
  const { source, summary } = await windowPercentiles(sql, w, total, buckets, now, retention)
  return { buckets, total, summary, source }
}

/** The figures every view of a window shares: the whole target's, and each site's in the breakdown. */
function summaryFields(m: Measured) {
  const { total } = m
  const lossCount = total.sent - total.received
  const lossPercent = total.sent > 0 ? (lossCount / total.sent) * 100 : null
  const latencyAvg = total.received > 0 ? usToMs(total.rttSum / total.received) : null
  const jitter = total.jitterCount > 0 ? usToMs(total.jitterSum / total.jitterCount) : null
  const [p50, p95, p99] = m.summary
  return {
    sample_count: total.sent,
    loss_count: lossCount,
    uptime_percent: lossPercent === null ? null : 100 - lossPercent,
    loss_percent: lossPercent,
    latency_avg_ms: latencyAvg,
    latency_min_ms: usToMs(total.rttMin),
    latency_max_ms: usToMs(total.rttMax),
    latency_p50_ms: usToMs(p50 ?? null),
    latency_p95_ms: usToMs(p95 ?? null),
    latency_p99_ms: usToMs(p99 ?? null),
    percentile_source: m.source,
    percentile_max_relative_error: m.source === 'raw' ? 0 : HISTOGRAM_MAX_RELATIVE_ERROR,
    jitter_ms: jitter,
    mos: lossPercent === null ? null : meanOpinionScore({ latencyMs: latencyAvg, jitterMs: jitter, lossPercent }),
  }
}

export async function getInsights(sql: Queryable, targetId: number, q: InsightsQuery, ctx: InsightsContext): Promise<InsightsOut> {
  const target = await requireTarget(sql, targetId)
  const siteId = q.site === undefined ? null : await siteIdOf(sql, q.site)
  const now = ctx.now ?? new Date()
  const to = q.to ?? now
  const from = q.from ?? new Date(to.getTime() - (q.window_minutes ?? DEFAULT_WINDOW_MINUTES) * 60_000)
  const tier = chooseTier(from, to, now, ctx.retention)
  const plan = planWindow(from, to, now, tier, ctx.retention)
  const { start, end } = plan
  const windowS = (end.getTime() - start.getTime()) / 1000
  // Never finer than the target's current interval: a 60 s target in 15 s buckets fills one in four.
  const bucketS = chooseBucketSeconds(windowS, tier, q.bucket_seconds, target.intervalS)
  const w: Window = { targetId, siteId, start, end, bucketS }

  const m = await measure(sql, w, tier, plan, q.histogram, now, ctx.retention)
  const outages = await outagesInWindow(sql, { targetId, start, end, now, limit: OUTAGE_ITEMS, site: q.site ?? null })

  const byTime = new Map(m.buckets.map((r) => [r.bucket!.getTime(), r]))
  const timeline: TimelineBucketOut[] = []
  const stepMs = bucketS * 1000
  for (let t = Math.floor(start.getTime() / stepMs) * stepMs; t < end.getTime(); t += stepMs) {
    const b = byTime.get(t)
    const bucket = new Date(t).toISOString()
    if (b) timeline.push({ bucket, ...timelineBucket(b, q.histogram) })
    else timeline.push({ bucket, ...EMPTY_BUCKET, ...(q.histogram ? { histogram: new Array<number>(HISTOGRAM_BINS).fill(0) } : {}) })
  }
  const hops = hopRange(m.buckets)
  const summary = summaryFields(m)

  // Each site's own figures over the same window (not when one site was asked for). With a single
  // site they are the combined ones: no second query.
  const sites: SiteBreakdownOut[] = []
  if (q.site === undefined) {
    const all = await siteNames(sql)
    const probing = [...all].filter(([, name]) => target.sites === null || target.sites.includes(name))
    if (all.size === 1 && probing.length === 1) {
      sites.push({ site: probing[0]![1], ...summary, outages: { count: outages.count, downtime_seconds: outages.downtimeS } })
    } else {
      for (const [id, name] of probing) {
        const one = await measure(sql, { ...w, siteId: id }, tier, plan, false, now, ctx.retention)
        const o = await outagesInWindow(sql, { targetId, start, end, now, limit: 1, site: name })
        sites.push({ site: name, ...summaryFields(one), outages: { count: o.count, downtime_seconds: o.downtimeS } })
      }
    }
  }

  return {
    target_id: target.id,
    target_ip: target.address,
    created_at: target.createdAt.toISOString(),
    site: q.site ?? null,
    tier: tier.name,
    window_minutes: windowS / 60,
    window_start: start.toISOString(),
    window_end: end.toISOString(),
    bucket_seconds: bucketS,
    ...summary,
    hop_count: hops.current,
    hop_count_min: hops.min,
    hop_count_max: hops.max,
    outages: { count: outages.count, downtime_seconds: outages.downtimeS, items: outages.items.map((o) => outageJson(o, now)) },
    sites,
    ...(q.histogram ? { histogram_edges_us: [...HISTOGRAM_EDGES_US] } : {}),
    timeline,
  }
}

/** A target's outages (seen from one site, or from any), newest first. */
export async function getOutages(sql: Queryable, targetId: number, limit: number, now = new Date(), site: string | null = null): Promise<OutageOut[]> {
  await requireTarget(sql, targetId)
  if (site !== null) await siteIdOf(sql, site)
  return (await listOutages(sql, targetId, limit, site)).map((o) => outageJson(o, now))
}
