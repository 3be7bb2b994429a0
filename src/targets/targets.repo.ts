import type { Queryable } from '../db/open.js'

export interface ProbeTarget {
  id: number
  address: string
  intervalS: number
  packets: number
  timeoutMs: number
  enabled: boolean
}

/** Everything the scheduler needs of every target. */
export async function listProbeTargets(sql: Queryable): Promise<ProbeTarget[]> {
  return sql<ProbeTarget[]>`
    select id, address, interval_s, packets, timeout_ms, enabled from targets order by id`
}

/**
 * Changes whenever any process adds, changes or deletes a target (updated_at is maintained by a
 * trigger; the id sum catches a delete and an insert in the same second), so the scheduler re-reads
 * the table only when something changed.
 */
export async function targetsFingerprint(sql: Queryable): Promise<string> {
  const [r] = await sql<{ n: number; m: string; s: string }[]>`
    select count(*)::int as n, coalesce(max(updated_at), 'epoch')::text as m, coalesce(sum(id), 0)::text as s
    from targets`
  return `${r!.n}|${r!.m}|${r!.s}`
}

export interface TargetRow {
  id: number
  address: string
  name: string | null
  tags: string[]
  intervalS: number
  packets: number
  timeoutMs: number
  enabled: boolean
  url: string | null
  notes: string | null
  badgePublic: boolean
  createdAt: Date
  updatedAt: Date
}

export async function findTarget(sql: Queryable, id: number): Promise<TargetRow | null> {
  const [t] = await sql<TargetRow[]>`
    select id, address, name, tags, interval_s, packets, timeout_ms, enabled, url, notes, badge_public, created_at, updated_at
    from targets where id = ${id}`
  return t ?? null
}

export interface TargetListed extends TargetRow {
  state: 'up' | 'down' | 'paused' | 'unknown'
  lastTime: Date | null
  lastRttUs: number | null
  lastReplyAt: Date | null
}

/** Targets with their state and last sample, filtered and paged; `total` counts all matches. */
export async function listTargets(
  sql: Queryable,
  q: { tag?: string | undefined; state?: string | undefined; q?: string | undefined; limit: number; offset: number; sort: string; ids?: number[] },
): Promise<{ rows: TargetListed[]; total: number }> {
  const like = q.q ? `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null
  const order = { id: sql`id`, ip: sql`address`, name: sql`name nulls last, id`, created_at: sql`created_at, id` }[q.sort] ?? sql`id`
  const rows = await sql<(TargetListed & { total: number })[]>`
    with listed as (
      select t.*,
        case
          when not t.enabled then 'paused'
          when exists (select 1 from outages o where o.target_id = t.id and o.ended_at is null) then 'down'
          when last.time is null then 'unknown'
          when reply.time is not null and reply.time > now() - make_interval(secs => greatest(3 * t.interval_s, 10)) then 'up'
          else 'unknown'
        end as state,
        last.time as last_time, last.rtt_us as last_rtt_us, reply.time as last_reply_at
      from targets t
      left join lateral (select s.time, s.rtt_us from samples s where s.target_id = t.id order by s.time desc, s.seq desc limit 1) last on true
      left join lateral (
        select s.time from samples s where s.target_id = t.id and s.rtt_us is not null
          and s.time > now() - interval '1 day' order by s.time desc limit 1) reply on true
      where ${q.tag ? sql`${q.tag} = any(t.tags)` : sql`true`}
        and ${like ? sql`(t.address ilike ${like} or t.name ilike ${like} or t.notes ilike ${like})` : sql`true`}
        and ${q.ids ? sql`t.id = any(${q.ids}::int[])` : sql`true`}
    )
    select listed.*, count(*) over ()::int as total from listed
    where ${
      q.state === 'active' ? sql`enabled` : q.state === 'paused' ? sql`not enabled` : q.state ? sql`state = ${q.state}` : sql`true`
    }
    order by ${order}
    limit ${q.limit} offset ${q.offset}`
  return { rows, total: rows[0]?.total ?? 0 }
}

export interface NewTarget {
  address: string
  name: string | null
  tags: string[]
  intervalS: number
  packets: number
  timeoutMs: number
  url: string | null
  notes: string | null
  badgePublic: boolean
}

/** Inserts a target; null when its address is already monitored. */
export async function insertTarget(sql: Queryable, t: NewTarget): Promise<number | null> {
  const [row] = await sql<{ id: number }[]>`
    insert into targets (address, name, tags, interval_s, packets, timeout_ms, url, notes, badge_public)
    values (${t.address}, ${t.name}, ${t.tags}, ${t.intervalS}, ${t.packets},
            ${t.timeoutMs}, ${t.url}, ${t.notes}, ${t.badgePublic})
    on conflict (address) do nothing
    returning id`
  return row?.id ?? null
}

/** The columns a PATCH may change, keyed by column name (they are also the event's field names). */
export interface TargetEditable {
  interval_s: number
  url: string | null
  notes: string | null
  name: string | null
  tags: string[]
  packets: number
  timeout_ms: number
  badge_public: boolean
}

/** Writes `columns` of `values` to the target. */
export async function updateTargetColumns(sql: Queryable, id: number, values: TargetEditable, columns: (keyof TargetEditable)[]): Promise<void> {
  await sql`update targets set ${sql(values, columns)} where id = ${id}`
}

export async function updateTargetEnabled(sql: Queryable, id: number, enabled: boolean): Promise<void> {
  await sql`update targets set enabled = ${enabled} where id = ${id}`
}

/** Ends the target's open outage now, if it has one (a paused target is not down). */
export async function endOpenOutage(sql: Queryable, targetId: number): Promise<void> {
  await sql`update outages set ended_at = now() where target_id = ${targetId} and ended_at is null`
}

/** Deletes the target row only: its measurements go first (deleteTargetData), its events stay. */
export async function deleteTargetRow(sql: Queryable, id: number): Promise<void> {
  await sql`delete from targets where id = ${id}`
}
