import { type Queryable, type Sql, inTransaction } from '../db/open.js'
import { recordEvent } from '../events/events.repo.js'
import { DEFAULT_SITE } from '../sites/sites.repo.js'

export interface OpenOutage {
  id: number
  targetId: number
  startedAt: Date
  lostRounds: number
}

/** The open outages seen from `site` (each site keeps its own: a target may be down from one only). */
export async function listOpenOutages(sql: Sql, site = DEFAULT_SITE): Promise<OpenOutage[]> {
  return sql<OpenOutage[]>`
    select id, target_id, started_at, lost_rounds from outages where ended_at is null and site = ${site}`
}

/** The probe's cause ("timeout", "unreachable (reported by 10.0.0.1)") as the event says it. */
export function causeInWords(cause: string): string {
  if (cause === 'timeout') return 'no reply before the timeout'
  const m = /^unreachable \(reported by (.+)\)$/.exec(cause)
  return m ? `unreachable, reported by ${m[1]}` : cause
}

/** Opens an outage and records the event, in one transaction (the caller's, if given one); returns the outage id. */
export async function openOutage(
  sql: Queryable,
  o: { targetId: number; startedAt: Date; lostRounds: number; cause: string; site?: string },
): Promise<number> {
  const site = o.site ?? DEFAULT_SITE
  return inTransaction(sql, async (tx) => {
    // The partial unique index allows one open outage per target and site: reuse it if a retry made it.
    const [row] = await tx<{ id: number }[]>`
      insert into outages (target_id, site, started_at, lost_rounds, cause)
      select ${o.targetId}, ${site}, ${o.startedAt}, ${o.lostRounds}, ${o.cause}
      where exists (select 1 from targets where id = ${o.targetId})
      on conflict (target_id, site) where ended_at is null do update set lost_rounds = excluded.lost_rounds
      returning id`
    if (!row) return 0 // the target was deleted meanwhile
    await recordEvent(tx, {
      targetId: o.targetId,
      type: 'outage_open',
      message: `Outage${site === DEFAULT_SITE ? '' : ` seen from ${site}`}: ${o.lostRounds} consecutive rounds lost, ${causeInWords(o.cause)}`,
      actor: 'scheduler',
      data: { outage_id: row.id, started_at: o.startedAt.toISOString(), cause: o.cause, site },
    })
    return row.id
  })
}

/** Closes the target's open outage (if any) and records the event. */
export async function closeOutage(sql: Queryable, o: { targetId: number; endedAt: Date; lostRounds: number; site?: string }): Promise<void> {
  const site = o.site ?? DEFAULT_SITE
  await inTransaction(sql, async (tx) => {
    const [row] = await tx<{ id: number; startedAt: Date }[]>`
      update outages set ended_at = greatest(${o.endedAt}, started_at), lost_rounds = ${o.lostRounds}
      where target_id = ${o.targetId} and site = ${site} and ended_at is null
      returning id, started_at`
    if (!row) return
    const seconds = Math.max(0, Math.round((o.endedAt.getTime() - row.startedAt.getTime()) / 1000))
    await recordEvent(tx, {
      targetId: o.targetId,
      type: 'outage_close',
      message: `Outage${site === DEFAULT_SITE ? '' : ` seen from ${site}`} over after ${seconds} s (${o.lostRounds} rounds lost)`,
      actor: 'scheduler',
      data: { outage_id: row.id, duration_s: seconds, lost_rounds: o.lostRounds, site },
    })
  })
}

export interface OutageRow {
  id: string // bigserial: int8 comes back as text
  targetId: number
  startedAt: Date
  endedAt: Date | null
  lostRounds: number
  cause: string | null
  site: string
}

/**
 * Outages overlapping [start, end), seen from `site` (null: from any site): how many, the downtime
 * inside the window (an open one counts up to now; outages of several sites that overlap count once),
 * and the newest `limit` of them.
 */
export async function outagesInWindow(
  sql: Queryable,
  r: { targetId: number; start: Date; end: Date; now: Date; limit: number; site?: string | null },
): Promise<{ count: number; downtimeS: number; items: OutageRow[] }> {
  const site = r.site ? sql`and site = ${r.site}` : sql``
  const [agg] = await sql<{ total: number; downtimeS: number }[]>`
    with o as (
      select tstzrange(greatest(started_at, ${r.start}::timestamptz), least(coalesce(ended_at, ${r.now}), ${r.end}::timestamptz)) as span
      from outages
      where target_id = ${r.targetId} ${site} and started_at < ${r.end} and (ended_at is null or ended_at > ${r.start})
    )
    select (select count(*)::int from o) as total,
      coalesce((select sum(extract(epoch from upper(u) - lower(u))) from unnest((select range_agg(span) from o where not isempty(span))) u), 0)::float8 as downtime_s`
  if (!agg || agg.total === 0) return { count: 0, downtimeS: 0, items: [] }
  const items = await sql<OutageRow[]>`
    select id, target_id, started_at, ended_at, lost_rounds, cause, site
    from outages
    where target_id = ${r.targetId} ${site} and started_at < ${r.end} and (ended_at is null or ended_at > ${r.start})
    order by started_at desc
    limit ${r.limit}`
  return { count: agg.total, downtimeS: agg.downtimeS, items }
}

/** A target's outages (from one site, or any), newest first. */
export async function listOutages(sql: Queryable, targetId: number, limit: number, site: string | null = null): Promise<OutageRow[]> {
  return sql<OutageRow[]>`
    select id, target_id, started_at, ended_at, lost_rounds, cause, site
    from outages where target_id = ${targetId} ${site ? sql`and site = ${site}` : sql``}
    order by started_at desc, id desc
    limit ${limit}`
}
