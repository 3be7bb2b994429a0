import { z } from 'zod'
import { isoTime, rowId, safeText } from '../lib/input.schema.js'

export const eventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

/** The kinds of event pingscope writes (src/events/events.repo.ts recordEvent callers). */
export const EVENT_TYPES = [
  'created',
  'updated',
  'deleted',
  'start',
  'stop',
  'outage_open',
  'outage_close',
  'path_change',
  'incident_open',
  'incident_resolved',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

/** `outage_open,outage_close` → the list, each one of EVENT_TYPES (an unknown one is named). */
const typeList = z.string().transform((s, ctx) => {
  const types = [...new Set(s.split(',').map((t) => t.trim()).filter(Boolean))]
  if (types.length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one type' })
  const unknown = types.find((t) => !(EVENT_TYPES as readonly string[]).includes(t))
  if (unknown !== undefined) ctx.addIssue({ code: 'custom', message: `unknown type ${JSON.stringify(unknown.slice(0, 40))}: each must be one of ${EVENT_TYPES.join(', ')}` })
  return types.length && unknown === undefined ? (types as EventType[]) : z.NEVER
})

/** The global timeline: every target's events (and those of deleted targets), newest first, paged by a cursor. */
export const timelineQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    type: typeList.optional().describe(`comma-separated event types: ${EVENT_TYPES.join(', ')}`),
    target_id: rowId.optional().describe("one target's events (also after it was deleted)"),
    tag: safeText().trim().min(1).max(100).optional().describe('events of the targets that carry this tag now'),
    from: isoTime.optional().describe('inclusive'),
    to: isoTime.optional().describe('exclusive'),
    before_id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().describe('the next page: the id of the last event of the previous page'),
  })
  .superRefine((q, ctx) => {
    if (q.from instanceof Date && q.to instanceof Date && q.from > q.to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be after to' })
  })
export type TimelineQuery = z.infer<typeof timelineQuery>

// The predecessor's EventLogOut (id, target_id, event_type, message, created_at) plus actor and data.
export const eventOut = z.object({
  id: z.number().int(),
  target_id: z.number().int().nullable(),
  event_type: z.string().describe(`${EVENT_TYPES.join(', ')}`),
  message: z.string(),
  actor: z.string().nullable().describe('username, "scheduler" or "alerting"'),
  data: z.unknown().describe('event details (JSON), or null'),
  created_at: z.string(),
})
export type EventOut = z.infer<typeof eventOut>

/** A timeline entry: the event with its target as it is named now (or was, for a deleted one). */
export const timelineEventOut = eventOut.extend({
  target_name: z.string().nullable(),
  target_address: z.string().nullable(),
  target_exists: z.boolean().describe('false once the target was deleted (its events stay)'),
})
export type TimelineEventOut = z.infer<typeof timelineEventOut>
