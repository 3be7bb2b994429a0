import { z } from 'zod'

// GET /fleet/summary: the dashboard's fleet view needs last-hour loss, p95 and a sparkline for every
// target. One batched answer instead of one /insights request per target (1,000 targets would be
// 1,000 requests a refresh).

export const FLEET_WINDOW_MINUTES = 60
export const FLEET_BUCKET_SECONDS = 180
/** The answer is shared by all callers for this long (it is computed from minute rollups). */
export const FLEET_CACHE_MS = 30_000

const ms = z.number().nullable()

export const fleetTargetSummaryOut = z.object({
  target_id: z.number().int(),
  sent: z.number().int().describe('echoes sent in the window'),
  received: z.number().int(),
  loss_percent: ms.describe('null without echoes'),
  avg_latency_ms: ms,
  p95_latency_ms: ms.describe('estimated from the 1-minute histograms (within 27.5 %)'),
  spark_latency_ms: z.array(ms).describe('mean RTT per bucket, oldest first; null for an empty bucket'),
  spark_loss: z.array(z.number().nullable()).describe('loss fraction (0–1) per bucket; null for an empty bucket'),
})
export type FleetTargetSummaryOut = z.infer<typeof fleetTargetSummaryOut>

export const fleetSummaryOut = z.object({
  window_start: z.string(),
  window_end: z.string(),
  bucket_seconds: z.number().int(),
  targets: z.array(fleetTargetSummaryOut).describe('targets with at least one echo in the window'),
})
export type FleetSummaryOut = z.infer<typeof fleetSummaryOut>
