import type { Queryable } from '../db/open.js'
import { LOSS_WINDOW_MINUTES, type StateFacts } from './target-state.js'

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
  /** The sites that probe it; null: every site. */
  sites: string[] | null
  createdAt: Date
  updatedAt: Date
}

export async function findTarget(sql: Queryable, id: number): Promise<TargetRow | null> {
  const [t] = await sql<TargetRow[]>`
    select id, address, name, tags, interval_s, packets, timeout_ms, enabled, url, notes, badge_public, sites, created_at, updated_at
    from targets where id = ${id}`
  return t ?? null
}

/** A target with the facts its state is decided from (target-state.ts) and its last sample. */
export interface TargetFactsRow extends TargetRow, StateFacts {
  lastTime: Date | null
  lastRttUs: number | null
  /** The database's clock, which the facts' times are compared with. */
  dbNow: Date
  total: number
}

export interface TargetFactsQuery {
  tag?: string | undefined
  q?: string | undefined
  /** Only running (true) or paused (false) targets. */
  enabled?: boolean | undefined
  ids?: number[]
  sort: string
  /** null: every match (the caller pages, e.g. after filtering by state). */
  limit: number | null
  offset: number
  /** Only what the state is decided from: no last sample (the live stream's state watch). */
  stateOnly?: boolean
}

export type WindowFacts = Pick<StateFacts, 'windowSent' | 'windowReceived' | 'firstLossAt'>
/** The loss window of every target (readLossWindow(sql, null)), possibly shared by several readers. */
export type LossWindowSource = () => Promise<Map<number, WindowFacts>>

/**
 * Targets with their last sample and the facts of their state, filtered, sorted and paged; `total` on
 * each row counts all matches. Each fact is an index lookup per target (and site); the loss window is a
 * second query over the 1-minute tier for the listed targets (a join to it does not push the target ids
 * into its real-time part, which then aggregates every target's newest raw samples), or `shared` when
 * given.
 */
export async function listTargetFacts(sql: Queryable, q: TargetFactsQuery, shared?: LossWindowSource): Promise<TargetFactsRow[]> {
  const like = q.q ? `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null
  const order = { id: sql`t.id`, ip: sql`t.address`, name: sql`t.name nulls last, t.id`, created_at: sql`t.created_at, t.id` }[q.sort] ?? sql`t.id`
  const filtered = Boolean(q.tag || like || q.ids || q.enabled !== undefined || q.limit !== null || q.offset > 0)
  // Every sample's site is a row of sites (none is ever deleted). A constant list, not a join to the
  // table: the server's planner guesses a never-analysed table at 1,160 rows, and the cost it then
  // estimates buys 0.3 s of JIT compilation for a 25 ms query.
  const siteIds = (await sql<{ id: number }[]>`select id from sites order by id`).map((r) => r.id)
  const rows = await sql<Omit<TargetFactsRow, keyof WindowFacts>[]>`
    with listed as (
      select t.*, count(*) over ()::int as total from targets t
      where ${q.tag ? sql`${q.tag} = any(t.tags)` : sql`true`}
        and ${like ? sql`(t.address ilike ${like} or t.name ilike ${like} or t.notes ilike ${like})` : sql`true`}
        and ${q.ids ? sql`t.id = any(${q.ids}::int[])` : sql`true`}
        and ${q.enabled === undefined ? sql`true` : sql`t.enabled = ${q.enabled}`}
      order by ${order}
      ${q.limit === null ? sql`` : sql`limit ${q.limit} offset ${q.offset}`}
    )
    select t.id, t.address, t.name, t.tags, t.interval_s, t.packets, t.timeout_ms, t.enabled, t.url, t.notes,
      t.badge_public, t.sites, t.created_at, t.updated_at, t.total, now() as db_now,
      ${q.stateOnly ? sql`null::timestamptz as last_time, null::int as last_rtt_us` : sql`last.time as last_time, last.rtt_us as last_rtt_us`},
      reply.time as last_reply_at,
      case when pause.type = 'stop' then pause.created_at end as paused_at,
      case when pause.type = 'start' then pause.created_at end as resumed_at,
      case when outage.ended_at is null then outage.started_at end as open_outage_at,
      outage.ended_at as last_outage_end_at
    from listed t
    -- The newest pause or resume, and the newest outage: at most one is open, and it is the newest.
    left join lateral (
      select e.type, e.created_at from events e where e.target_id = t.id and e.type in ('start', 'stop')
      order by e.created_at desc limit 1) pause on true
    left join lateral (
      select o.started_at, o.ended_at from outages o where o.target_id = t.id order by o.started_at desc limit 1) outage on true
    -- The newest sample and the newest reply, each the newest of its sites' newest: samples' index
    -- leads with (target, site), so that is one index probe per site, newest chunk first. Ordered by
    -- time across sites, the planner walked the time index through every newer row of every target
    -- instead (0.35 s for 1,000 targets with an hour of samples, 8 s with three days). 'With ties'
    -- keeps to the index's order (time desc, seq) and leaves the highest seq at that time to the sort.
    ${q.stateOnly ? sql`` : sql`left join lateral (
      select x.time, x.rtt_us from unnest(${siteIds}::smallint[]) si(id) cross join lateral (
        select s.time, s.seq, s.rtt_us from samples s where s.target_id = t.id and s.site_id = si.id
        order by s.time desc fetch first 1 rows with ties) x
      order by x.time desc, x.seq desc limit 1) last on true`}
    left join lateral (
      select x.time from unnest(${siteIds}::smallint[]) si(id) cross join lateral (
        select s.time from samples s where s.target_id = t.id and s.site_id = si.id and s.rtt_us is not null
          and s.time > now() - interval '1 day' order by s.time desc limit 1) x
      order by x.time desc limit 1) reply on true
    order by ${order}`
  if (rows.length === 0) return []
  const win = shared ? await shared() : await readLossWindow(sql, filtered ? rows.map((r) => r.id) : null)
  const none: WindowFacts = { windowSent: 0, windowReceived: 0, firstLossAt: null }
  return rows.map((r) => ({ ...r, ...(win.get(r.id) ?? none) }))
}

/**
 * Echoes sent and received over the loss window, and its first minute with a loss, of `ids` (null: all).
 * The real-time part of the tier computes every aggregate of the 1-minute rows (histogram included) from
 * the raw samples above its watermark: about 0.2 s for 1,000 targets with an unmaterialised hour.
 */
export async function readLossWindow(sql: Queryable, ids: number[] | null): Promise<Map<number, WindowFacts>> {
  const rows = await sql<(WindowFacts & { targetId: number })[]>`
    select m.target_id, sum(m.sent)::int as window_sent, sum(m.received)::int as window_received,
      min(m.bucket) filter (where m.received < m.sent) as first_loss_at
    from samples_1m m
    where m.bucket > now() - make_interval(mins => ${LOSS_WINDOW_MINUTES})
      and ${ids ? sql`m.target_id = any(${ids}::int[])` : sql`true`}
    group by m.target_id`
  return new Map(rows.map(({ targetId, ...w }) => [targetId, w]))
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
  sites: string[] | null
}

/** Inserts a target; null when its address is already monitored. */
export async function insertTarget(sql: Queryable, t: NewTarget): Promise<number | null> {
  const [row] = await sql<{ id: number }[]>`
    insert into targets (address, name, tags, interval_s, packets, timeout_ms, url, notes, badge_public, sites)
    values (${t.address}, ${t.name}, ${t.tags}, ${t.intervalS}, ${t.packets},
            ${t.timeoutMs}, ${t.url}, ${t.notes}, ${t.badgePublic}, ${t.sites})
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
  sites: string[] | null
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
