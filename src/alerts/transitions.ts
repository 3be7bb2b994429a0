import { type Queryable, type Sql, inTransaction } from '../db/open.js'
import { recordEvent } from '../events/events.repo.js'
import type { ChannelRow } from './channels.repo.js'
import type { AlertState, Transition } from './hysteresis.js'
import { type EndReason, closeIncident, insertIncident, markIncidentNotified } from './incidents.repo.js'
import { type NotificationItem, UNITS, describeItem } from './notify.js'
import { enqueueNotification } from './outbox.repo.js'
import type { RuleRow } from './rules.repo.js'
import { StateConflict, writeState } from './state.repo.js'

// A state change and everything it implies, in ONE transaction: the alert_state row, the incident
// opened or closed, and one outbox row per channel. Either all of it happens or none (a conflict with
// another evaluator, a crash): an incident is never announced without being recorded, nor recorded
// without its notifications queued. Notifications are queued only when `notify` (neither the rule's
// mute nor a silence holds them); a held fire is queued later by queueHeldFire, and a resolve is
// queued exactly when its fire was.

export interface Subject {
  rule: RuleRow
  target: { id: number; address: string; name: string | null; tags: string[] }
  /** The rule's enabled channels. */
  channels: ChannelRow[]
  groupWaitMs: number
}

function item(
  s: Subject,
  channelId: number,
  x: { transition: 'fire' | 'resolve'; incidentId: number; startedAt: Date; endedAt: Date | null; value: number | null; peak: number | null; at: Date },
): NotificationItem {
  const { rule, target } = s
  const base: Omit<NotificationItem, 'text'> = {
    dedupe_key: `incident:${x.incidentId}:${x.transition}:channel:${channelId}`,
    transition: x.transition,
    incident_id: x.incidentId,
    severity: rule.severity,
    rule: { id: rule.id, name: rule.name, condition: rule.condition, threshold: rule.threshold, window_s: rule.windowS, unit: UNITS[rule.condition] },
    target: { id: target.id, address: target.address, name: target.name, tags: target.tags },
    started_at: x.startedAt.toISOString(),
    ended_at: x.endedAt?.toISOString() ?? null,
    value: x.value,
    peak: x.peak,
    at: x.at.toISOString(),
  }
  return { ...base, text: describeItem(base) }
}

/** The incident's fire or resolve in the target's events (and the global timeline), worded as its notification. */
async function incidentEvent(tx: Queryable, s: Subject, x: Parameters<typeof item>[2], reason?: EndReason): Promise<void> {
  const { text } = item(s, 0, x)
  await recordEvent(tx, {
    targetId: s.target.id,
    type: x.transition === 'fire' ? 'incident_open' : 'incident_resolved',
    message: text,
    actor: 'alerting',
    data: { incident_id: x.incidentId, rule_id: s.rule.id, rule: s.rule.name, condition: s.rule.condition, severity: s.rule.severity, value: x.value, peak: x.peak, ...(reason ? { end_reason: reason } : {}) },
  })
}

async function enqueue(tx: Queryable, s: Subject, x: Parameters<typeof item>[2]): Promise<void> {
  for (const ch of s.channels) {
    const payload = item(s, ch.id, x)
    await enqueueNotification(tx, {
      channelId: ch.id,
      incidentId: x.incidentId,
      transition: x.transition,
      dedupeKey: payload.dedupe_key,
      payload,
      createdAt: x.at,
      nextAttemptAt: new Date(x.at.getTime() + s.groupWaitMs),
    })
  }
}

/** pending → firing: opens the incident; returns its id. */
export async function fire(sql: Sql, s: Subject, version: number, next: AlertState, t: Extract<Transition, { kind: 'fire' }>, notify: boolean): Promise<number> {
  return sql.begin(async (tx) => {
    const startedAt = new Date(t.startedAt)
    const at = new Date(t.at)
    const id = await insertIncident(tx, {
      ruleId: s.rule.id,
      ruleName: s.rule.name,
      condition: s.rule.condition,
      severity: s.rule.severity,
      threshold: s.rule.threshold,
      targetId: s.target.id,
      targetAddress: s.target.address,
      targetName: s.target.name,
      startedAt,
      firedAt: at,
      peak: next.peak,
      notified: notify,
    })
    if (id === null) throw new StateConflict(s.rule.id, s.target.id)
    await writeState(tx, s.rule.id, s.target.id, version, { ruleId: s.rule.id, targetId: s.target.id, phase: 'firing', since: new Date(next.since), startedAt, peak: next.peak, incidentId: id })
    const fired = { transition: 'fire', incidentId: id, startedAt, endedAt: null, value: t.value, peak: next.peak, at } as const
    await incidentEvent(tx, s, fired)
    if (notify) await enqueue(tx, s, fired)
    return id
  })
}

/**
 * Closes the incident (if any) and drops the state row (the rule × target is ok again, or left the
 * rule's scope); queues the resolve when the fire was notified.
 */
export async function resolve(
  sql: Queryable,
  s: Subject,
  version: number,
  incidentId: number | null,
  r: { endedAt: Date; peak: number | null; reason: EndReason; at: Date },
): Promise<void> {
  const work = async (tx: Queryable) => {
    const inc = incidentId === null ? null : await closeIncident(tx, incidentId, { endedAt: r.endedAt, peak: r.peak, reason: r.reason })
    if (version > 0) await writeState(tx, s.rule.id, s.target.id, version, null)
    if (inc) {
      // Named as the incident knows the target: it may be gone (deleted) or renamed since the fire.
      const target = { id: inc.targetId, address: inc.targetAddress, name: inc.targetName, tags: s.target.tags }
      const resolved = { transition: 'resolve', incidentId: inc.id, startedAt: inc.startedAt, endedAt: inc.endedAt, value: null, peak: inc.peak, at: r.at } as const
      await incidentEvent(tx, { ...s, target }, resolved, r.reason)
      if (inc.notified) await enqueue(tx, { ...s, target }, resolved)
    }
  }
  // Inside a caller's transaction (a rule's deletion) or a transaction of its own.
  await inTransaction(sql, work)
}

/** Queues the fire notification an open incident was held from (its silence ended, its rule unmuted). */
export async function queueHeldFire(sql: Sql, s: Subject, incident: { id: number; startedAt: Date; peak: number | null }, at: Date): Promise<boolean> {
  return sql.begin(async (tx) => {
    if (!(await markIncidentNotified(tx, incident.id))) return false
    await enqueue(tx, s, { transition: 'fire', incidentId: incident.id, startedAt: incident.startedAt, endedAt: null, value: incident.peak, peak: incident.peak, at })
    return true
  })
}
