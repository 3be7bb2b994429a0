import { textArrayLiteral } from '../db/arrays.js'
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

export interface TimelineRow extends EventRow {
  targetName: string | null
  targetAddress: string | null
  targetExists: boolean
}

export interface TimelineFilter {
  limit: number
  types?: readonly string[]
  targetId?: number
  tag?: string
  from?: Date
  to?: Date
  beforeId?: number
}

/**
 * Every target's events, newest first (created_at, id), one page after the cursor event `beforeId`.
 * A deleted target is named from its 'deleted' event's snapshot; a tag matches the targets that carry
 * it now.
 */
export async function listTimeline(sql: Queryable, f: TimelineFilter): Promise<TimelineRow[]> {
  const cursor = f.beforeId === undefined ? sql`true` : sql`(e.created_at, e.id) < (select created_at, id from events where id = ${f.beforeId})`
  return sql<TimelineRow[]>`
    select e.id, e.target_id, e.type, e.message, e.actor, e.data, e.created_at,
           coalesce(t.name, d.data->>'name', e.data->>'name') as target_name,
           coalesce(t.address, d.data->>'address', e.data->>'address') as target_address,
           t.id is not null as target_exists
    from events e
    left join targets t on t.id = e.target_id
    left join lateral (
      select data from events x where t.id is null and e.target_id is not null and x.target_id = e.target_id and x.type = 'deleted' limit 1
    ) d on true
    where ${f.types ? sql`e.type = any(${textArrayLiteral(f.types)}::text[])` : sql`true`}
      and ${f.targetId === undefined ? sql`true` : sql`e.target_id = ${f.targetId}`}
      and ${f.tag === undefined ? sql`true` : sql`${f.tag} = any(t.tags)`}
      and ${f.from ? sql`e.created_at >= ${f.from}` : sql`true`}
      and ${f.to ? sql`e.created_at < ${f.to}` : sql`true`}
      and ${cursor}
    order by e.created_at desc, e.id desc
    limit ${f.limit}`
}

export async function eventExists(sql: Queryable, id: number): Promise<boolean> {
  return (await sql`select 1 from events where id = ${id}`).length > 0
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
