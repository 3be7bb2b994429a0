import { z } from 'zod'

export const eventsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

// The predecessor's EventLogOut (id, target_id, event_type, message, created_at) plus actor and data.
export const eventOut = z.object({
  id: z.number().int(),
  target_id: z.number().int().nullable(),
  event_type: z.string().describe('created, updated, deleted, start, stop, outage_open, outage_close, path_change, …'),
  message: z.string(),
  actor: z.string().nullable().describe('username, or "scheduler"'),
  data: z.unknown().describe('event details (JSON), or null'),
  created_at: z.string(),
})
export type EventOut = z.infer<typeof eventOut>
