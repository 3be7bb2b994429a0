import type { Queryable } from '../db/open.js'
import type { IncidentListQuery } from './alerts.schema.js'

export interface IncidentNote {
  at: string
  by: string | null
  text: string
}

export interface IncidentRow {
  id: number
  ruleId: number | null
  ruleName: string
  condition: string
  severity: string
  threshold: number | null
  targetId: number
  targetAddress: string
  targetName: string | null
  startedAt: Date
  firedAt: Date
  endedAt: Date | null
  endReason: string | null
  peak: number | null
  notified: boolean
  acknowledgedBy: string | null
  acknowledgedAt: Date | null
  notes: IncidentNote[]
}

export type EndReason = 'recovered' | 'out_of_scope' | 'rule_deleted'

/** At most this many notes per incident: a runaway script cannot grow one row without bound. */
export const MAX_NOTES = 200

export async function listIncidents(sql: Queryable, q: IncidentListQuery): Promise<{ rows: IncidentRow[]; total: number }> {
  const where = [
    q.state === 'open' ? sql`ended_at is null` : q.state === 'closed' ? sql`ended_at is not null` : sql`true`,
    q.rule_id === undefined ? sql`true` : sql`rule_id = ${q.rule_id}`,
    q.target_id === undefined ? sql`true` : sql`target_id = ${q.target_id}`,
    q.severity === undefined ? sql`true` : sql`severity = ${q.severity}`,
    q.acknowledged === undefined ? sql`true` : q.acknowledged === 'true' ? sql`acknowledged_at is not null` : sql`acknowledged_at is null`,
    q.from === undefined ? sql`true` : sql`(ended_at is null or ended_at >= ${q.from})`,
    q.to === undefined ? sql`true` : sql`started_at < ${q.to}`,
  ]
  const rows = await sql<(IncidentRow & { total: number })[]>`
    select *, count(*) over ()::int as total from incidents
    where ${where.reduce((a, b) => sql`${a} and ${b}`)}
    order by started_at desc, id desc
    limit ${q.limit} offset ${q.offset}`
  return { rows, total: rows[0]?.total ?? 0 }
}

export async function findIncident(sql: Queryable, id: number): Promise<IncidentRow | null> {
  const [row] = await sql<IncidentRow[]>`select * from incidents where id = ${id}`
  return row ?? null
}

export interface NotificationRow {
  id: string // bigserial: int8 comes back as text
  channelId: number
  transition: 'fire' | 'resolve'
  attempts: number
  createdAt: Date
  nextAttemptAt: Date
  deliveredAt: Date | null
  failedAt: Date | null
  lastError: string | null
}

export async function incidentNotifications(sql: Queryable, incidentId: number): Promise<NotificationRow[]> {
  return sql<NotificationRow[]>`
    select id, channel_id, transition, attempts, created_at, next_attempt_at, delivered_at, failed_at, last_error
    from notification_outbox where incident_id = ${incidentId}
    order by id`
}

/** Records the first acknowledgement (a second one changes nothing); false when there is no such incident. */
export async function acknowledgeIncident(sql: Queryable, id: number, by: string, at: Date): Promise<boolean> {
  const res = await sql`
    update incidents set acknowledged_by = coalesce(acknowledged_by, ${by}), acknowledged_at = coalesce(acknowledged_at, ${at})
    where id = ${id}`
  return res.count > 0
}

/** Appends a note; 'full' at MAX_NOTES, 'missing' when there is no such incident. */
export async function appendIncidentNote(sql: Queryable, id: number, note: IncidentNote): Promise<'ok' | 'full' | 'missing'> {
  const [row] = await sql<{ appended: boolean }[]>`
    with target as (select id, jsonb_array_length(notes) < ${MAX_NOTES} as room from incidents where id = ${id}),
    done as (
      update incidents i set notes = i.notes || jsonb_build_array(${sql.json(note as never)}::jsonb)
      from target where i.id = target.id and target.room
      returning i.id
    )
    select exists (select 1 from done) as appended from target`
  return !row ? 'missing' : row.appended ? 'ok' : 'full'
}

/** Opens an incident; null when the rule × target already has an open one (another evaluator's). */
export async function insertIncident(
  sql: Queryable,
  i: Pick<IncidentRow, 'ruleId' | 'ruleName' | 'condition' | 'severity' | 'threshold' | 'targetId' | 'targetAddress' | 'targetName' | 'startedAt' | 'firedAt' | 'peak' | 'notified'>,
): Promise<number | null> {
  const [row] = await sql<{ id: number }[]>`
    insert into incidents (rule_id, rule_name, condition, severity, threshold, target_id, target_address, target_name, started_at, fired_at, peak, notified)
    values (${i.ruleId}, ${i.ruleName}, ${i.condition}, ${i.severity}, ${i.threshold}, ${i.targetId}, ${i.targetAddress},
      ${i.targetName}, ${i.startedAt}, ${i.firedAt}, ${i.peak}, ${i.notified})
    on conflict (rule_id, target_id) where ended_at is null do nothing
    returning id`
  return row?.id ?? null
}

/** Closes an open incident; returns it, or null when it was not open. */
export async function closeIncident(
  sql: Queryable,
  id: number,
  c: { endedAt: Date; peak: number | null; reason: EndReason },
): Promise<IncidentRow | null> {
  const [row] = await sql<IncidentRow[]>`
    update incidents set ended_at = greatest(${c.endedAt}, started_at), end_reason = ${c.reason},
      peak = case when ${c.peak}::float8 is null then peak else greatest(coalesce(peak, ${c.peak}), ${c.peak}) end
    where id = ${id} and ended_at is null
    returning *`
  return row ?? null
}

export async function updateIncidentPeak(sql: Queryable, id: number, peak: number): Promise<void> {
  await sql`update incidents set peak = greatest(coalesce(peak, ${peak}), ${peak}) where id = ${id} and ended_at is null`
}

/** Marks the fire notification as queued; false when another evaluator did it first. */
export async function markIncidentNotified(sql: Queryable, id: number): Promise<boolean> {
  const res = await sql`update incidents set notified = true where id = ${id} and not notified and ended_at is null`
  return res.count > 0
}

/** Open incidents whose fire notification was held (silence, mute), of rules that still exist. */
export async function heldIncidents(sql: Queryable): Promise<IncidentRow[]> {
  return sql<IncidentRow[]>`
    select i.* from incidents i join alert_rules r on r.id = i.rule_id
    where i.ended_at is null and not i.notified and not r.muted
    order by i.id`
}

/** Closes the open incidents whose rule is gone (deleted outside the API, or with its target). */
export async function closeOrphanIncidents(sql: Queryable, at: Date): Promise<number> {
  const res = await sql`
    update incidents set ended_at = greatest(${at}, started_at), end_reason = 'rule_deleted'
    where ended_at is null and rule_id is null`
  return res.count
}

/** The open incidents of a rule (closed with it when it is deleted). */
export async function openIncidentsOfRule(sql: Queryable, ruleId: number): Promise<IncidentRow[]> {
  return sql<IncidentRow[]>`select * from incidents where rule_id = ${ruleId} and ended_at is null order by id`
}
