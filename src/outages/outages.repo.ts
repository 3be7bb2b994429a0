import type { Queryable, Sql } from '../db/open.js'
import { recordEvent } from '../events/events.repo.js'

export interface OpenOutage {
  id: number
  targetId: number
  startedAt: Date
  lostRounds: number
}

export async function listOpenOutages(sql: Sql): Promise<OpenOutage[]> {
  return sql<OpenOutage[]>`
    select id, target_id, started_at, lost_rounds from outages where ended_at is null`
}

/** The probe's cause ("timeout", "unreachable (reported by 10.0.0.1)") as the event says it. */
export function causeInWords(cause: string): string {
  if (cause === 'timeout') return 'no reply before the timeout'
  const m = /^unreachable \(reported by (.+)\)$/.exec(cause)
  return m ? `unreachable, reported by ${m[1]}` : cause
}

/** Opens an outage and records the event, in one transaction; returns the outage id. */
export async function openOutage(
  sql: Sql,
  o: { targetId: number; startedAt: Date; lostRounds: number; cause: string },
): Promise<number> {
  return sql.begin(async (tx) => {
    // The partial unique index allows one open outage per target: reuse it if a retry already made it.
    const [row] = await tx<{ id: number }[]>`
      insert into outages (target_id, started_at, lost_rounds, cause)
      select ${o.targetId}, ${o.startedAt}, ${o.lostRounds}, ${o.cause}
      where exists (select 1 from targets where id = ${o.targetId})
      on conflict (target_id) where ended_at is null do update set lost_rounds = excluded.lost_rounds
      returning id`
    if (!row) return 0 // the target was deleted meanwhile
    await recordEvent(tx, {
      targetId: o.targetId,
      type: 'outage_open',
      message: `Outage: ${o.lostRounds} consecutive rounds lost, ${causeInWords(o.cause)}`,
      actor: 'scheduler',
      data: { outage_id: row.id, started_at: o.startedAt.toISOString(), cause: o.cause },
    })
    return row.id
  })
}

/** Closes the target's open outage (if any) and records the event. */
export async function closeOutage(sql: Sql, o: { targetId: number; endedAt: Date; lostRounds: number }): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ id: number; startedAt: Date }[]>`
      update outages set ended_at = greatest(${o.endedAt}, started_at), lost_rounds = ${o.lostRounds}
      where target_id = ${o.targetId} and ended_at is null
      returning id, started_at`
    if (!row) return
    const seconds = Math.max(0, Math.round((o.endedAt.getTime() - row.startedAt.getTime()) / 1000))
    await recordEvent(tx, {
      targetId: o.targetId,
      type: 'outage_close',
      message: `Outage over after ${seconds} s (${o.lostRounds} rounds lost)`,
      actor: 'scheduler',
      data: { outage_id: row.id, duration_s: seconds, lost_rounds: o.lostRounds },
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
}

/**
 * Outages overlapping [start, end): how many, the downtime inside the window (an open one counts up to
 * now), and the newest `limit` of them.
 */
export async function outagesInWindow(
  sql: Queryable,
  r: { targetId: number; start: Date; end: Date; now: Date; limit: number },
): Promise<{ count: number; downtimeS: number; items: OutageRow[] }> {
  const rows = await sql<(OutageRow & { total: number; downtimeS: number })[]>`
    select id, target_id, started_at, ended_at, lost_rounds, cause,
      count(*) over ()::int as total,
      sum(greatest(0, extract(epoch from
        least(coalesce(ended_at, ${r.now}), ${r.end}::timestamptz) - greatest(started_at, ${r.start}::timestamptz)
      ))) over ()::float8 as downtime_s
    from outages
    where target_id = ${r.targetId} and started_at < ${r.end} and (ended_at is null or ended_at > ${r.start})
    order by started_at desc
    limit ${r.limit}`
  return { count: rows[0]?.total ?? 0, downtimeS: rows[0]?.downtimeS ?? 0, items: rows }
}

/** A target's outages, newest first. */
export async function listOutages(sql: Queryable, targetId: number, limit: number): Promise<OutageRow[]> {
  return sql<OutageRow[]>`
    select id, target_id, started_at, ended_at, lost_rounds, cause
    from outages where target_id = ${targetId}
    order by started_at desc, id desc
    limit ${limit}`
}
