import type { Queryable } from '../db/open.js'
import type { SilenceListQuery } from './alerts.schema.js'

export interface SilenceRow {
  id: number
  targetId: number | null
  tag: string | null
  startsAt: Date
  endsAt: Date
  reason: string
  createdBy: string | null
  createdAt: Date
}

export async function listSilences(sql: Queryable, q: SilenceListQuery, now: Date): Promise<{ rows: SilenceRow[]; total: number }> {
  const state =
    q.state === 'active' ? sql`starts_at <= ${now} and ends_at > ${now}`
      : q.state === 'upcoming' ? sql`starts_at > ${now}`
        : q.state === 'expired' ? sql`ends_at <= ${now}`
          : sql`true`
  const rows = await sql<(SilenceRow & { total: number })[]>`
    select *, count(*) over ()::int as total from silences
    where ${state}
      and ${q.target_id === undefined ? sql`true` : sql`target_id = ${q.target_id}`}
      and ${q.tag === undefined ? sql`true` : sql`tag = ${q.tag}`}
    order by starts_at desc, id desc
    limit ${q.limit} offset ${q.offset}`
  return { rows, total: rows[0]?.total ?? 0 }
}

export async function findSilence(sql: Queryable, id: number): Promise<SilenceRow | null> {
  const [row] = await sql<SilenceRow[]>`select * from silences where id = ${id}`
  return row ?? null
}

/** Inserts a silence; null when its target does not exist. */
export async function insertSilence(
  sql: Queryable,
  s: { targetId: number | null; tag: string | null; startsAt: Date; endsAt: Date; reason: string; createdBy: string | null },
): Promise<number | null> {
  const [row] = await sql<{ id: number }[]>`
    insert into silences (target_id, tag, starts_at, ends_at, reason, created_by)
    select ${s.targetId}, ${s.tag}, ${s.startsAt}, ${s.endsAt}, ${s.reason}, ${s.createdBy}
    where ${s.targetId}::int is null or exists (select 1 from targets where id = ${s.targetId})
    returning id`
  return row?.id ?? null
}

export async function updateSilenceRow(sql: Queryable, id: number, s: { startsAt: Date; endsAt: Date; reason: string }): Promise<void> {
  await sql`update silences set starts_at = ${s.startsAt}, ends_at = ${s.endsAt}, reason = ${s.reason} where id = ${id}`
}

export async function deleteSilenceRow(sql: Queryable, id: number): Promise<boolean> {
  const res = await sql`delete from silences where id = ${id}`
  return res.count > 0
}

/** The silences in force at `at`: what the evaluator matches each target against. */
export async function activeSilences(sql: Queryable, at: Date): Promise<Pick<SilenceRow, 'id' | 'targetId' | 'tag'>[]> {
  return sql<Pick<SilenceRow, 'id' | 'targetId' | 'tag'>[]>`
    select id, target_id, tag from silences where starts_at <= ${at} and ends_at > ${at}`
}
