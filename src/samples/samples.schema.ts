import { z } from 'zod'
import { isoTime, siteName } from '../lib/input.schema.js'

// Raw sample history: the predecessor's PingLogOut fields (time, latency_ms, hops, packet_loss) plus the
// measurement as stored, and the CSV export's time range.

export const logsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100).describe('the newest N samples, returned oldest first'),
  site: siteName.optional().describe('only this site\'s samples (default: every site\'s)'),
})

export const SAMPLE_STATUSES = ['ok', 'timeout', 'unreachable', 'error'] as const

export const logOut = z.object({
  time: z.string(),
  latency_ms: z.number().nullable().describe('null when lost'),
  hops: z.number().int().nullable().describe('estimated from the reply TTL (initial TTL 64, 128 or 255); null when lost'),
  packet_loss: z.boolean(),
  rtt_us: z.number().int().nullable(),
  ttl: z.number().int().nullable(),
  seq: z.number().int().describe('echo number within its round'),
  status: z.enum(SAMPLE_STATUSES),
  site: z.string().describe('the site (vantage point) that measured it'),
})
export type LogOut = z.infer<typeof logOut>

/** Optional [from, to) range; from ≤ to. */
export const exportQuery = z
  .object({
    from: isoTime.optional().describe('first sample time, inclusive (default: the oldest raw sample)'),
    to: isoTime.optional().describe('end, exclusive (default: now)'),
    site: siteName.optional().describe('only this site\'s samples (default: every site\'s; the `site` column says which)'),
  })
  .superRefine((q, ctx) => {
    if (q.from instanceof Date && q.to instanceof Date && q.from > q.to) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' })
    }
  })
export type ExportQuery = z.infer<typeof exportQuery>
