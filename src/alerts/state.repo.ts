import type { Queryable } from '../db/open.js'
import type { AlertPhase } from './hysteresis.js'

// alert_state: the hysteresis state of each rule × target that is not 'ok' (no row = ok). Every write
// names the version it read: 0 rows touched means another evaluator moved the state first, and the
// caller's transaction must roll back (StateConflict).

export interface StoredState {
  ruleId: number
  targetId: number
  phase: Exclude<AlertPhase, 'ok'>
  since: Date
  startedAt: Date | null
  peak: number | null
  incidentId: number | null
  version: number
}

export class StateConflict extends Error {
  constructor(ruleId: number, targetId: number) {
    super(`alert state of rule ${ruleId} × target ${targetId} changed meanwhile`)
    this.name = 'StateConflict'
  }
}

export async function listStates(sql: Queryable): Promise<StoredState[]> {
  return sql<StoredState[]>`select * from alert_state`
}

export type StateWrite = Omit<StoredState, 'version'>

/**
 * Moves a rule × target from the state it had at `version` (0: no row, i.e. ok) to `next` (null: ok,
 * the row goes). Throws StateConflict when the row is not what the caller read.
 */
export async function writeState(sql: Queryable, ruleId: number, targetId: number, version: number, next: StateWrite | null): Promise<void> {
  let count: number
  if (next === null) {
    count = version === 0 ? 1 : (await sql`delete from alert_state where rule_id = ${ruleId} and target_id = ${targetId} and version = ${version}`).count
  } else if (version === 0) {
    count = (
      await sql`
        insert into alert_state (rule_id, target_id, phase, since, started_at, peak, incident_id)
        values (${ruleId}, ${targetId}, ${next.phase}, ${next.since}, ${next.startedAt}, ${next.peak}, ${next.incidentId})
        on conflict (rule_id, target_id) do nothing`
    ).count
  } else {
    count = (
      await sql`
        update alert_state set phase = ${next.phase}, since = ${next.since}, started_at = ${next.startedAt}, peak = ${next.peak},
          incident_id = ${next.incidentId}, version = version + 1
        where rule_id = ${ruleId} and target_id = ${targetId} and version = ${version}`
    ).count
  }
  if (count !== 1) throw new StateConflict(ruleId, targetId)
}
