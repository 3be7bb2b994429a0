import type { Queryable } from '../db/open.js'
import { AppError, notFound } from '../errors.js'
import { isoOrNull } from '../lib/format.js'
import type { AlertCondition, IncidentListQuery, IncidentOut } from './alerts.schema.js'
import {
  type IncidentRow,
  MAX_NOTES,
  acknowledgeIncident,
  appendIncidentNote,
  findIncident,
  incidentNotifications,
  listIncidents,
} from './incidents.repo.js'
import { UNITS } from './notify.js'

// Incidents for the API: the open ones and the history, acknowledgements and notes. Incidents are made
// and closed by the evaluator alone; people only acknowledge and annotate them.

export function incidentJson(r: IncidentRow, now: Date): IncidentOut {
  const end = r.endedAt ?? now
  return {
    id: r.id,
    rule_id: r.ruleId,
    rule_name: r.ruleName,
    condition: r.condition,
    severity: r.severity,
    threshold: r.threshold,
    unit: UNITS[r.condition as AlertCondition] ?? '',
    target_id: r.targetId,
    target_address: r.targetAddress,
    target_name: r.targetName,
    started_at: r.startedAt.toISOString(),
    fired_at: r.firedAt.toISOString(),
    ended_at: isoOrNull(r.endedAt),
    ongoing: r.endedAt === null,
    duration_s: Math.max(0, Math.round((end.getTime() - r.startedAt.getTime()) / 1000)),
    end_reason: r.endReason,
    peak: r.peak,
    notified: r.notified,
    acknowledged_by: r.acknowledgedBy,
    acknowledged_at: isoOrNull(r.acknowledgedAt),
    notes: r.notes,
  }
}

export async function listIncidentsJson(sql: Queryable, q: IncidentListQuery, now: Date): Promise<{ items: IncidentOut[]; total: number }> {
  const { rows, total } = await listIncidents(sql, q)
  return { items: rows.map((r) => incidentJson(r, now)), total }
}

async function requireIncident(sql: Queryable, id: number): Promise<IncidentRow> {
  const r = await findIncident(sql, id)
  if (!r) throw notFound('Incident')
  return r
}

/** An incident with its notifications (per channel: attempts, delivery, last error). */
export async function getIncidentDetail(sql: Queryable, id: number, now: Date) {
  const r = await requireIncident(sql, id)
  const notifications = (await incidentNotifications(sql, id)).map((n) => ({
    id: Number(n.id),
    channel_id: n.channelId,
    transition: n.transition,
    attempts: n.attempts,
    created_at: n.createdAt.toISOString(),
    next_attempt_at: n.nextAttemptAt.toISOString(),
    delivered_at: isoOrNull(n.deliveredAt),
    failed_at: isoOrNull(n.failedAt),
    last_error: n.lastError,
  }))
  return { ...incidentJson(r, now), notifications }
}

/** The first acknowledgement is kept: acknowledging again answers the incident unchanged. */
export async function acknowledge(sql: Queryable, id: number, by: string, now: Date): Promise<IncidentOut> {
  if (!(await acknowledgeIncident(sql, id, by, now))) throw notFound('Incident')
  return incidentJson(await requireIncident(sql, id), now)
}

export async function addNote(sql: Queryable, id: number, by: string, text: string, now: Date): Promise<IncidentOut> {
  const result = await appendIncidentNote(sql, id, { at: now.toISOString(), by, text })
  if (result === 'missing') throw notFound('Incident')
  if (result === 'full') throw new AppError(409, `An incident keeps at most ${MAX_NOTES} notes`)
  return incidentJson(await requireIncident(sql, id), now)
}
