import { z } from 'zod'
import { safeText } from '../lib/input.schema.js'
import { TARGET_STATES } from '../targets/target-state.js'
import { tag, targetStateSchema } from '../targets/targets.schema.js'

// Public status pages (issue 14): an admin publishes a tag's page (title, description); anyone reads
// it at GET /public/status/{tag} and /status/{tag} in the dashboard. API_GUIDE.md, "Public status pages".

/** At most this many targets on one page (by name, then id); `truncated` says when the tag has more. */
export const MAX_STATUS_TARGETS = 200
/** Daily uptime bars per target: today (UTC) and the 89 days before it. */
export const STATUS_DAYS = 90
/** At most this many incidents on one page, the newest first. */
export const MAX_STATUS_INCIDENTS = 100

export const statusPageParams = z.object({ tag })

export const statusPageBody = z
  .object({
    title: safeText().trim().min(1, 'is required').max(200),
    description: safeText()
      .max(2000, 'must be at most 2000 characters')
      .nullish()
      .transform((v) => (v && v.trim() ? v.trim() : null)),
  })
  .strict()
export type StatusPageInput = z.infer<typeof statusPageBody>

export const statusPageOut = z.object({
  tag: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  targets: z.number().int().describe('targets carrying the tag now'),
  url: z.string().describe('path of the public page in the dashboard, e.g. /status/core'),
  created_at: z.string(),
  updated_at: z.string(),
})
export type StatusPageOut = z.infer<typeof statusPageOut>

export const statusPageDeletedOut = z.object({ message: z.string(), tag: z.string() })

export const uptimeBarOut = z.object({
  day: z.string().describe('UTC day, YYYY-MM-DD'),
  sent: z.number().int(),
  received: z.number().int(),
  uptime_pct: z.number().nullable().describe('received / sent × 100 (3 decimals); null without echoes that day'),
})
export type UptimeBarOut = z.infer<typeof uptimeBarOut>

export const publicTargetOut = z.object({
  id: z.number().int(),
  name: z.string().describe('its name, or its address when it has none'),
  state: targetStateSchema,
  state_since: z.string(),
  uptime_pct: z.number().nullable().describe('over the 90 days of bars; null without echoes'),
  bars: z.array(uptimeBarOut).describe('90 days, oldest first, the last one today (UTC) so far'),
})

export const publicIncidentOut = z.object({
  id: z.number().int(),
  rule_name: z.string(),
  target_id: z.number().int(),
  target_name: z.string(),
  started_at: z.string(),
  ended_at: z.string().nullable(),
  state: z.enum(['open', 'resolved']),
})

export const publicStatusOut = z.object({
  tag: z.string(),
  title: z.string(),
  description: z.string().nullable(),
  generated_at: z.string(),
  state: targetStateSchema.describe('the worst state of its targets: down, degraded, unknown, up, paused (unknown without targets)'),
  counts: z.object(Object.fromEntries(TARGET_STATES.map((s) => [s, z.number().int()])) as Record<(typeof TARGET_STATES)[number], z.ZodNumber>),
  total_targets: z.number().int().describe(`targets carrying the tag (the page lists at most ${MAX_STATUS_TARGETS})`),
  truncated: z.boolean(),
  targets: z.array(publicTargetOut),
  incidents: z.array(publicIncidentOut).describe(`incidents of the listed targets open or ended within the last ${STATUS_DAYS} days, newest first, at most ${MAX_STATUS_INCIDENTS}`),
})
export type PublicStatusOut = z.infer<typeof publicStatusOut>
