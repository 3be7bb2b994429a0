import { z } from 'zod'
import { isoTime, siteName } from '../lib/input.schema.js'
import { MAX_BUCKET_S, MAX_WINDOW_MINUTES, MIN_BUCKET_S } from './insights.tiers.js'

// The predecessor's TargetInsights fields (same names, same meaning) plus the tier, jitter, loss %, MOS,
// hop count, outages and a latency band per bucket.

export const insightsQuery = z
  .object({
    window_minutes: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_WINDOW_MINUTES)
      .optional()
      .describe('window length ending at `to` (default 60); up to 5 years; not with `from`'),
    from: isoTime.optional().describe('window start (instead of window_minutes)'),
    to: isoTime.optional().describe('window end, exclusive (default now)'),
    bucket_seconds: z.coerce
      .number()
      .int()
      .min(MIN_BUCKET_S)
      .max(MAX_BUCKET_S)
      .optional()
      .describe('timeline bucket; default from the window (100–300 buckets); enlarged to the tier resolution, to the target\'s probe interval and to at most 10,000 buckets'),
    histogram: z.stringbool().default(false).describe('include each bucket\'s latency histogram (bins: histogram_edges_us)'),
    site: siteName.optional().describe('only what this site measured (default: all sites combined, with a per-site breakdown in `sites`)'),
  })
  .superRefine((q, ctx) => {
    if (q.from !== undefined && q.window_minutes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['window_minutes'], message: 'give either window_minutes or from, not both' })
    }
    if (!(q.from instanceof Date)) return
    const to = q.to instanceof Date ? q.to : new Date()
    if (q.from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: q.to ? 'must be before to' : 'must be in the past' })
    else if (to.getTime() - q.from.getTime() > MAX_WINDOW_MINUTES * 60_000) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: `the window may not exceed ${MAX_WINDOW_MINUTES} minutes (5 years)` })
    }
  })
export type InsightsQuery = z.infer<typeof insightsQuery>

const ms = z.number().nullable()

export const outageOut = z.object({
  id: z.number().int(),
  target_id: z.number().int(),
  started_at: z.string(),
  ended_at: z.string().nullable().describe('null while ongoing'),
  duration_s: z.number().describe('so far, when ongoing'),
  ongoing: z.boolean(),
  lost_rounds: z.number().int(),
  cause: z.string().nullable(),
  site: z.string().describe('the site that saw it (each site keeps its own outages)'),
})
export type OutageOut = z.infer<typeof outageOut>

export const outagesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  site: siteName.optional().describe('only the outages this site saw (default: every site\'s)'),
})

export const timelineBucketOut = z.object({
  bucket: z.string().describe('bucket start'),
  avg_latency_ms: ms,
  min_latency_ms: ms,
  max_latency_ms: ms,
  loss_rate: z.number().nullable().describe('0–1; null for an empty bucket'),
  sample_count: z.number().int().describe('echoes sent; 0 for a gap'),
  p5_latency_ms: ms,
  p50_latency_ms: ms,
  p95_latency_ms: ms,
  histogram: z.array(z.number().int()).optional().describe('replies per latency bin (with histogram=true)'),
})
export type TimelineBucketOut = z.infer<typeof timelineBucketOut>

const summaryOut = {
  sample_count: z.number().int().describe('echoes sent'),
  loss_count: z.number().int(),
  uptime_percent: ms.describe('replies / echoes × 100'),
  loss_percent: ms,
  latency_avg_ms: ms,
  latency_min_ms: ms,
  latency_max_ms: ms,
  latency_p50_ms: ms,
  latency_p95_ms: ms,
  latency_p99_ms: ms,
  percentile_source: z
    .enum(['raw', '1m', '1h'])
    .describe(
      'where p50/p95/p99 come from. raw: exact (percentile_cont on the raw samples, each bucket\'s too); 1m: the histogram, ' +
        'refined with the 1-minute rows\' min, max and mean; 1h: the histogram alone. Bucket percentiles are histogram estimates unless raw',
    ),
  percentile_max_relative_error: z.number().describe('0 when exact; otherwise the histogram\'s worst-case bound (one bin)'),
  jitter_ms: ms.describe('mean |RTT − previous RTT|'),
  mos: ms.describe('simplified E-model MOS (1–4.5) from latency, jitter and loss; null without samples'),
}

export const siteBreakdownOut = z.object({
  site: z.string(),
  ...summaryOut,
  outages: z.object({ count: z.number().int(), downtime_seconds: z.number() }),
})
export type SiteBreakdownOut = z.infer<typeof siteBreakdownOut>

export const insightsOut = z.object({
  target_id: z.number().int(),
  target_ip: z.string(),
  created_at: z.string().describe("the target's creation time"),
  site: z.string().nullable().describe('the site asked for; null: all sites combined'),
  tier: z.enum(['raw', '1m', '1h']).describe('raw ≤ 6 h, 1m ≤ 7 days, 1h beyond (or a coarser tier once the finer one has expired)'),
  window_minutes: z.number(),
  window_start: z
    .string()
    .describe('start of the range counted: `from`, or on the 1m/1h tiers, once raw samples of that time are gone, `from` rounded up to the tier resolution'),
  window_end: z
    .string()
    .describe('end of the range counted, exclusive: `to`, or on the 1m/1h tiers, once raw samples of that time are gone, `to` rounded down to the tier resolution'),
  bucket_seconds: z.number().int().describe('the bucket size used'),
  ...summaryOut,
  hop_count: z.number().int().nullable().describe('estimated from the newest reply TTL'),
  hop_count_min: z.number().int().nullable(),
  hop_count_max: z.number().int().nullable(),
  outages: z.object({
    count: z.number().int().describe('outages overlapping the window'),
    downtime_seconds: z.number().describe('their time inside the window'),
    items: z.array(outageOut).describe('the newest 100 of them'),
  }),
  sites: z
    .array(siteBreakdownOut)
    .describe('each site that probes the target, over the same window (empty when `site` is given); its outages are its own'),
  histogram_edges_us: z.array(z.number().int()).optional().describe('lower bin edges in µs (with histogram=true)'),
  timeline: z.array(timelineBucketOut),
})
export type InsightsOut = z.infer<typeof insightsOut>
