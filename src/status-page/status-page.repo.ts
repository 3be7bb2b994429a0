import type { Queryable } from '../db/open.js'

// Status pages (sql/migrations/00010_status_pages.sql) and what a public page reads besides the
// targets' states: daily sums of the 1-hour tier and the incidents of its targets.

export interface StatusPageRow {
  tag: string
  title: string
  description: string | null
  createdAt: Date
  updatedAt: Date
}

export interface StatusPageListed extends StatusPageRow {
  /** Targets carrying the tag now. */
  targets: number
}

export async function listStatusPages(sql: Queryable): Promise<StatusPageListed[]> {
  return sql<StatusPageListed[]>`
    select p.*, (select count(*) from targets t where p.tag = any(t.tags))::int as targets
    from status_pages p order by p.tag`
}

export async function findStatusPage(sql: Queryable, tag: string): Promise<StatusPageRow | null> {
  const [row] = await sql<StatusPageRow[]>`select * from status_pages where tag = ${tag}`
  return row ?? null
}

/** Creates or changes the page of `tag`; `created` says which (xmax is 0 on a row this statement inserted). */
export async function upsertStatusPage(sql: Queryable, p: Pick<StatusPageRow, 'tag' | 'title' | 'description'>): Promise<StatusPageListed & { created: boolean }> {
  const [row] = await sql<(StatusPageListed & { created: boolean })[]>`
    insert into status_pages as p (tag, title, description) values (${p.tag}, ${p.title}, ${p.description})
    on conflict (tag) do update set title = excluded.title, description = excluded.description, updated_at = now()
    returning p.*, (p.xmax = 0) as created, (select count(*) from targets t where p.tag = any(t.tags))::int as targets`
  return row!
}

export async function deleteStatusPage(sql: Queryable, tag: string): Promise<boolean> {
  const res = await sql`delete from status_pages where tag = ${tag}`
  return res.count > 0
}

export interface DailyUptimeRow {
  targetId: number
  /** UTC day, YYYY-MM-DD. */
  day: string
  sent: number
  received: number
}

/**
 * Echoes sent and received per target and UTC day, from the first day of a `days`-day window ending
 * today (the database's clock) on, read from the 1-hour tier (real-time: the newest hours come from the
 * 1-minute tier and raw samples). Days without echoes have no row. `start` is that first day's midnight.
 */
export async function dailyUptime(sql: Queryable, ids: number[], days: number): Promise<{ start: Date; rows: DailyUptimeRow[] }> {
  const [w] = await sql<{ start: Date }[]>`select date_trunc('day', now(), 'UTC') - make_interval(days => ${days - 1}) as start`
  const start = w!.start
  if (ids.length === 0) return { start, rows: [] }
  const rows = await sql<DailyUptimeRow[]>`
    select target_id, to_char(time_bucket('1 day', bucket) at time zone 'UTC', 'YYYY-MM-DD') as day,
      sum(sent)::int as sent, sum(received)::int as received
    from samples_1h
    where target_id = any(${ids}::int[]) and bucket >= ${start}
    group by 1, 2`
  return { start, rows }
}

export interface StatusIncidentRow {
  id: number
  ruleName: string
  targetId: number
  startedAt: Date
  endedAt: Date | null
}

/** Incidents of `ids` open now or ended within the last `days` days, the newest first. */
export async function recentIncidents(sql: Queryable, ids: number[], days: number, limit: number): Promise<StatusIncidentRow[]> {
  if (ids.length === 0) return []
  return sql<StatusIncidentRow[]>`
    select id, rule_name, target_id, started_at, ended_at from incidents
    where target_id = any(${ids}::int[]) and (ended_at is null or ended_at >= now() - make_interval(days => ${days}))
    order by started_at desc, id desc
    limit ${limit}`
}
