import { intArrayLiteral } from '../db/arrays.js'
import type { Queryable } from '../db/open.js'
import type { AlertCondition, Severity } from './alerts.schema.js'

export interface RuleRow {
  id: number
  name: string
  scope: 'target' | 'tag' | 'all'
  targetId: number | null
  tag: string | null
  condition: AlertCondition
  threshold: number | null
  windowS: number
  forS: number
  recoverS: number
  severity: Severity
  muted: boolean
  channelIds: number[]
  createdBy: string | null
  createdAt: Date
  updatedAt: Date
}

/** The columns a create or PATCH writes, keyed by column name. */
export interface RuleValues {
  name: string
  scope: RuleRow['scope']
  target_id: number | null
  tag: string | null
  condition: AlertCondition
  threshold: number | null
  window_s: number
  for_s: number
  recover_s: number
  severity: Severity
  muted: boolean
  channel_ids: number[]
}

export async function listRules(sql: Queryable): Promise<RuleRow[]> {
  return sql<RuleRow[]>`select * from alert_rules order by id`
}

export async function findRule(sql: Queryable, id: number): Promise<RuleRow | null> {
  const [row] = await sql<RuleRow[]>`select * from alert_rules where id = ${id}`
  return row ?? null
}

/** Inserts a rule; null when the name is taken. */
export async function insertRule(sql: Queryable, v: RuleValues, createdBy: string | null): Promise<RuleRow | null> {
  const [row] = await sql<RuleRow[]>`
    insert into alert_rules (name, scope, target_id, tag, condition, threshold, window_s, for_s, recover_s, severity, muted, channel_ids, created_by)
    values (${v.name}, ${v.scope}, ${v.target_id}, ${v.tag}, ${v.condition}, ${v.threshold}, ${v.window_s}, ${v.for_s},
      ${v.recover_s}, ${v.severity}, ${v.muted}, ${intArrayLiteral(v.channel_ids)}::int[], ${createdBy})
    on conflict (name) do nothing
    returning *`
  return row ?? null
}

/** Replaces the rule's values; null when it does not exist. A taken name fails with 23505. */
export async function updateRule(sql: Queryable, id: number, v: RuleValues): Promise<RuleRow | null> {
  const [row] = await sql<RuleRow[]>`
    update alert_rules set name = ${v.name}, scope = ${v.scope}, target_id = ${v.target_id}, tag = ${v.tag},
      condition = ${v.condition}, threshold = ${v.threshold}, window_s = ${v.window_s}, for_s = ${v.for_s},
      recover_s = ${v.recover_s}, severity = ${v.severity}, muted = ${v.muted},
      channel_ids = ${intArrayLiteral(v.channel_ids)}::int[], updated_at = now()
    where id = ${id}
    returning *`
  return row ?? null
}

export async function deleteRuleRow(sql: Queryable, id: number): Promise<boolean> {
  const res = await sql`delete from alert_rules where id = ${id}`
  return res.count > 0
}

/** The ids among `ids` that name no channel. */
export async function unknownChannelIds(sql: Queryable, ids: number[]): Promise<number[]> {
  if (ids.length === 0) return []
  const rows = await sql<{ id: number }[]>`
    select x as id from unnest(${intArrayLiteral(ids)}::int[]) as x
    where not exists (select 1 from alert_channels c where c.id = x)`
  return rows.map((r) => r.id)
}
