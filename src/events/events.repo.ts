import type { Queryable } from '../db/open.js'

export interface EventRow {
  id: string // bigserial: postgres.js returns int8 as text
  targetId: number | null
  type: string
  message: string
  actor: string | null
  data: unknown
  createdAt: Date
}

/** A target's events, newest first. */
export async function listTargetEvents(sql: Queryable, targetId: number, limit: number): Promise<EventRow[]> {
  return sql<EventRow[]>`
    select id, target_id, type, message, actor, data, created_at
    from events where target_id = ${targetId}
    order by created_at desc, id desc
    limit ${limit}`
}

export interface NewEvent {
  targetId: number | null
  type: string
  message: string
  actor: string | null
  data?: Record<string, unknown>
}

/** Records an event: the one place events are written (targets, outages, traceroutes, …). */
export async function recordEvent(sql: Queryable, e: NewEvent): Promise<void> {
  await sql`
    insert into events (target_id, type, message, actor, data)
    values (${e.targetId}, ${e.type}, ${e.message}, ${e.actor}, ${sql.json((e.data ?? {}) as never)})`
}
