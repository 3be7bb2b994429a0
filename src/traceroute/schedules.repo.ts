import type { Queryable } from '../db/open.js'

// Traceroute schedules (sql/migrations/00009_traceroute_schedules.sql): one per target at most.

export interface ScheduleRow {
  targetId: number
  intervalS: number
  maxHops: number
  queries: number
  nextRunAt: Date
  lastRunAt: Date | null
  lastError: string | null
  createdBy: string | null
  createdAt: Date
  updatedAt: Date
}

export async function findSchedule(sql: Queryable, targetId: number): Promise<ScheduleRow | null> {
  const [row] = await sql<ScheduleRow[]>`select * from traceroute_schedules where target_id = ${targetId}`
  return row ?? null
}

/** Creates or replaces a target's schedule; its first run is due at once. */
export async function upsertSchedule(sql: Queryable, s: { targetId: number; intervalS: number; maxHops: number; queries: number; actor: string }): Promise<ScheduleRow> {
  const [row] = await sql<ScheduleRow[]>`
    insert into traceroute_schedules (target_id, interval_s, max_hops, queries, created_by)
    values (${s.targetId}, ${s.intervalS}, ${s.maxHops}, ${s.queries}, ${s.actor})
    on conflict (target_id) do update set interval_s = excluded.interval_s, max_hops = excluded.max_hops,
      queries = excluded.queries, next_run_at = now(), updated_at = now()
    returning *`
  return row!
}

export async function deleteSchedule(sql: Queryable, targetId: number): Promise<boolean> {
  return (await sql`delete from traceroute_schedules where target_id = ${targetId}`).count > 0
}

/**
 * Claims up to `limit` due schedules of enabled targets, oldest due first, by moving their next run one
 * interval ahead in the same statement: another process running this at once skips the locked rows.
 */
export async function claimDueSchedules(sql: Queryable, limit: number): Promise<(ScheduleRow & { address: string })[]> {
  if (limit <= 0) return []
  return sql<(ScheduleRow & { address: string })[]>`
    with due as (
      select s.target_id from traceroute_schedules s join targets t on t.id = s.target_id
      where t.enabled and s.next_run_at <= now()
      order by s.next_run_at
      limit ${limit}
      for update of s skip locked
    )
    update traceroute_schedules s set next_run_at = now() + s.interval_s * interval '1 second'
    from due, targets t
    where s.target_id = due.target_id and t.id = s.target_id
    returning s.*, t.address`
}

export async function recordScheduledRun(sql: Queryable, targetId: number, error: string | null): Promise<void> {
  await sql`update traceroute_schedules set last_run_at = now(), last_error = ${error} where target_id = ${targetId}`
}
