import type { Queryable, Sql } from '../db/open.js'
import { AppError, type FieldProblem, notFound } from '../errors.js'
import { findTarget } from '../targets/targets.repo.js'
import { type RuleCreate, type RuleOut, type RuleUpdate, STATE_CONDITIONS } from './alerts.schema.js'
import { enabledChannels } from './channels.repo.js'
import { openIncidentsOfRule } from './incidents.repo.js'
import { type RuleRow, type RuleValues, deleteRuleRow, findRule, insertRule, listRules, unknownChannelIds, updateRule } from './rules.repo.js'
import { resolve } from './transitions.js'

// Rules for the API (and, next, the CLI): the checks that span fields, run on the merged values of a
// create or a PATCH alike, and deletion, which closes the rule's open incidents in its transaction.

export function ruleJson(r: RuleRow): RuleOut {
  return {
    id: r.id,
    name: r.name,
    scope: r.scope,
    target_id: r.targetId,
    tag: r.tag,
    condition: r.condition,
    threshold: r.threshold,
    window_s: r.windowS,
    for_s: r.forS,
    recover_s: r.recoverS,
    severity: r.severity,
    muted: r.muted,
    channel_ids: r.channelIds,
    created_by: r.createdBy,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
  }
}

const problem = (field: string, msg: string): FieldProblem => ({ loc: ['body', field], msg })

/** Every cross-field problem of a rule's values, as 422 field problems. */
async function checkRule(sql: Queryable, v: RuleValues): Promise<void> {
  const problems: FieldProblem[] = []
  if (v.scope === 'target') {
    if (v.target_id === null) problems.push(problem('target_id', 'is required when scope is target'))
    else if (!(await findTarget(sql, v.target_id))) problems.push(problem('target_id', `no target has id ${v.target_id}`))
  } else if (v.target_id !== null) problems.push(problem('target_id', 'is only for scope target'))
  if (v.scope === 'tag' && v.tag === null) problems.push(problem('tag', 'is required when scope is tag'))
  if (v.scope !== 'tag' && v.tag !== null) problems.push(problem('tag', 'is only for scope tag'))
  if (v.condition === 'outage') {
    if (v.threshold !== null) problems.push(problem('threshold', 'must be null for an outage rule (it holds while the target has an open outage)'))
  } else if (v.condition === 'probe_missing') {
    if (v.threshold !== null) problems.push(problem('threshold', 'must be null for a probe_missing rule (it holds while no live probe holds the target)'))
  } else if (v.threshold === null) problems.push(problem('threshold', `is required for a ${v.condition} rule`))
  else if (v.condition === 'loss' && v.threshold > 100) problems.push(problem('threshold', 'is a percentage: at most 100'))
  else if (v.condition === 'path_change' && !(Number.isInteger(v.threshold) && v.threshold >= 1)) problems.push(problem('threshold', 'is a number of path changes: a whole number >= 1'))
  if (new Set(v.channel_ids).size !== v.channel_ids.length) problems.push(problem('channel_ids', 'must not repeat a channel'))
  const unknown = await unknownChannelIds(sql, v.channel_ids)
  if (unknown.length) problems.push(problem('channel_ids', `no channel has id ${unknown.join(', ')}`))
  if (problems.length) throw new AppError(422, problems)
}

/** A race lost after the checks passed: the name taken (23505) or the target deleted (23503) meanwhile. */
function constraintError(err: unknown, v: RuleValues): unknown {
  const code = (err as { code?: string }).code
  if (code === '23505') return new AppError(409, `Rule ${v.name} already exists`)
  if (code === '23503') return new AppError(422, [problem('target_id', `no target has id ${v.target_id}`)])
  return err
}

export async function listRulesJson(sql: Queryable): Promise<RuleOut[]> {
  return (await listRules(sql)).map(ruleJson)
}

export async function getRule(sql: Queryable, id: number): Promise<RuleRow> {
  const r = await findRule(sql, id)
  if (!r) throw notFound('Rule')
  return r
}

export async function createRule(sql: Queryable, b: RuleCreate, actor: string): Promise<RuleOut> {
  const v: RuleValues = {
    name: b.name,
    scope: b.scope,
    target_id: b.target_id ?? null,
    tag: b.tag ?? null,
    condition: b.condition,
    threshold: b.threshold ?? (b.condition === 'path_change' ? 1 : null),
    window_s: b.window_s,
    for_s: b.for_s,
    recover_s: b.recover_s,
    severity: b.severity,
    muted: b.muted,
    channel_ids: b.channel_ids,
  }
  await checkRule(sql, v)
  const row = await insertRule(sql, v, actor).catch((err: unknown) => {
    throw constraintError(err, v)
  })
  if (!row) throw constraintError({ code: '23505' }, v)
  return ruleJson(row)
}

/**
 * Applies a PATCH. Changing the scope drops a target_id or tag that no longer applies (unless given),
 * and changing the condition to outage or probe_missing drops the threshold (to path_change: 1 if there
 * was none), so that one field is enough to change.
 */
export async function changeRule(sql: Queryable, id: number, p: RuleUpdate): Promise<RuleOut> {
  const r = await getRule(sql, id)
  const scope = p.scope ?? r.scope
  const condition = p.condition ?? r.condition
  const v: RuleValues = {
    name: p.name ?? r.name,
    scope,
    target_id: p.target_id !== undefined ? p.target_id : scope === 'target' ? r.targetId : null,
    tag: p.tag !== undefined ? p.tag : scope === 'tag' ? r.tag : null,
    condition,
    threshold: p.threshold !== undefined ? p.threshold : STATE_CONDITIONS.includes(condition) ? null : condition === 'path_change' && r.threshold === null ? 1 : r.threshold,
    window_s: p.window_s ?? r.windowS,
    for_s: p.for_s ?? r.forS,
    recover_s: p.recover_s ?? r.recoverS,
    severity: p.severity ?? r.severity,
    muted: p.muted ?? r.muted,
    channel_ids: p.channel_ids ?? r.channelIds,
  }
  await checkRule(sql, v)
  const row = await updateRule(sql, id, v).catch((err: unknown) => {
    throw constraintError(err, v)
  })
  if (!row) throw notFound('Rule')
  return ruleJson(row)
}

/**
 * Deletes a rule. Its open incidents close with it ('rule_deleted'), and those whose fire was notified
 * get their resolve queued, in the same transaction: no receiver is left with a page that never ends.
 */
export async function deleteRule(sql: Sql, id: number, opts: { groupWaitMs: number; now: Date }): Promise<void> {
  await sql.begin(async (tx) => {
    const rule = await getRule(tx, id)
    const channels = await enabledChannels(tx, rule.channelIds)
    for (const inc of await openIncidentsOfRule(tx, id)) {
      const target = { id: inc.targetId, address: inc.targetAddress, name: inc.targetName, tags: [] }
      await resolve(tx, { rule, target, channels, groupWaitMs: opts.groupWaitMs }, 0, inc.id, { endedAt: opts.now, peak: null, reason: 'rule_deleted', at: opts.now })
    }
    await deleteRuleRow(tx, id)
  })
}
