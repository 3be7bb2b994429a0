import type { Queryable } from '../db/open.js'
import { AppError } from '../errors.js'
import { type EventRow, type TimelineRow, eventExists, listTimeline } from './events.repo.js'
import type { EventOut, TimelineEventOut, TimelineQuery } from './events.schema.js'

// Events as the API, the CLI's --json and the dashboard show them: a target's own list
// (src/samples/samples.service.ts) and the global timeline of every target.

export function eventJson(e: EventRow): EventOut {
  return {
    id: Number(e.id),
    target_id: e.targetId,
    event_type: e.type,
    message: e.message,
    actor: e.actor,
    data: e.data ?? null,
    created_at: e.createdAt.toISOString(),
  }
}

function timelineJson(e: TimelineRow): TimelineEventOut {
  return { ...eventJson(e), target_name: e.targetName, target_address: e.targetAddress, target_exists: e.targetExists }
}

/** One page of the timeline, newest first; the next page is `before_id` = the last entry's id. */
export async function getTimeline(sql: Queryable, q: TimelineQuery): Promise<TimelineEventOut[]> {
  if (q.before_id !== undefined && !(await eventExists(sql, q.before_id))) throw new AppError(422, [{ loc: ['querystring', 'before_id'], msg: `no event ${q.before_id}: give the id of the last event of the previous page` }])
  const rows = await listTimeline(sql, {
    limit: q.limit,
    types: q.type,
    targetId: q.target_id,
    tag: q.tag,
    from: q.from,
    to: q.to,
    beforeId: q.before_id,
  })
  return rows.map(timelineJson)
}
