import type { Queryable } from '../db/open.js'
import { notFound } from '../errors.js'
import { type TargetState } from '../targets/target-state.js'
import type { LossWindowSource } from '../targets/targets.repo.js'
import { listTargets } from '../targets/targets.service.js'
import {
  type StatusPageListed,
  dailyUptime,
  deleteStatusPage,
  findStatusPage,
  listStatusPages,
  recentIncidents,
  upsertStatusPage,
} from './status-page.repo.js'
import {
  MAX_STATUS_INCIDENTS,
  MAX_STATUS_TARGETS,
  STATUS_DAYS,
  type PublicStatusOut,
  type StatusPageInput,
  type StatusPageOut,
  type UptimeBarOut,
} from './status-page.schema.js'

// A public status page per tag: the admin side (list, publish, unpublish) and the public answer, which
// shows the API's state of each target (src/targets/target-state.ts), its daily uptime over 90 days and
// the incidents of those targets, and nothing else about them (no address when named, no notes).

const DAY_MS = 86_400_000
/** The worst first: the page's overall state is that of its worst target. */
const WORST_FIRST: TargetState[] = ['down', 'degraded', 'unknown', 'up', 'paused']

const pct = (received: number, sent: number): number | null => (sent > 0 ? Math.round((100_000 * received) / sent) / 1000 : null)

export const statusPageUrl = (tag: string) => `/status/${encodeURIComponent(tag)}`

export function statusPageJson(p: StatusPageListed): StatusPageOut {
  return {
    tag: p.tag,
    title: p.title,
    description: p.description,
    targets: p.targets,
    url: statusPageUrl(p.tag),
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  }
}

export async function listStatusPagesJson(sql: Queryable): Promise<StatusPageOut[]> {
  return (await listStatusPages(sql)).map(statusPageJson)
}

/** Publishes (or changes) the page of `tag`; `created` is true when it had none. */
export async function putStatusPage(sql: Queryable, tag: string, input: StatusPageInput): Promise<{ created: boolean; page: StatusPageOut }> {
  const row = await upsertStatusPage(sql, { tag, title: input.title, description: input.description ?? null })
  return { created: row.created, page: statusPageJson(row) }
}

export async function removeStatusPage(sql: Queryable, tag: string): Promise<void> {
  if (!(await deleteStatusPage(sql, tag))) throw notFound('Status page')
}

/**
 * The public page of `tag`, or a 404 "Status page not found" when it is not published, whether or not
 * any target carries the tag (the answer says nothing about tags without a page).
 */
export async function publicStatus(sql: Queryable, tag: string, lossWindow?: LossWindowSource): Promise<PublicStatusOut> {
  const page = await findStatusPage(sql, tag)
  if (!page) throw notFound('Status page')
  const { rows: targets, total } = await listTargets(sql, { tag, limit: MAX_STATUS_TARGETS, offset: 0, sort: 'name' }, lossWindow)
  const ids = targets.map((t) => t.id)
  const [uptime, incidents] = await Promise.all([dailyUptime(sql, ids, STATUS_DAYS), recentIncidents(sql, ids, STATUS_DAYS, MAX_STATUS_INCIDENTS)])

  const days = Array.from({ length: STATUS_DAYS }, (_, i) => new Date(uptime.start.getTime() + i * DAY_MS).toISOString().slice(0, 10))
  const byTarget = new Map<number, Map<string, { sent: number; received: number }>>()
  for (const r of uptime.rows) {
    let m = byTarget.get(r.targetId)
    if (!m) byTarget.set(r.targetId, (m = new Map()))
    m.set(r.day, r)
  }
  const counts = { up: 0, degraded: 0, down: 0, paused: 0, unknown: 0 } satisfies Record<TargetState, number>
  for (const t of targets) counts[t.state]++
  const names = new Map(targets.map((t) => [t.id, t.name ?? t.address]))

  return {
    tag: page.tag,
    title: page.title,
    description: page.description,
    generated_at: new Date().toISOString(),
    state: WORST_FIRST.find((s) => counts[s] > 0) ?? 'unknown',
    counts,
    total_targets: total,
    truncated: total > targets.length,
    targets: targets.map((t) => {
      const m = byTarget.get(t.id)
      const bars: UptimeBarOut[] = days.map((day) => {
        const d = m?.get(day)
        return { day, sent: d?.sent ?? 0, received: d?.received ?? 0, uptime_pct: d ? pct(d.received, d.sent) : null }
      })
      const sent = bars.reduce((a, b) => a + b.sent, 0)
      const received = bars.reduce((a, b) => a + b.received, 0)
      return { id: t.id, name: t.name ?? t.address, state: t.state, state_since: t.stateSince.toISOString(), uptime_pct: pct(received, sent), bars }
    }),
    incidents: incidents.map((i) => ({
      id: i.id,
      rule_name: i.ruleName,
      target_id: i.targetId,
      target_name: names.get(i.targetId) ?? '',
      started_at: i.startedAt.toISOString(),
      ended_at: i.endedAt ? i.endedAt.toISOString() : null,
      state: i.endedAt ? 'resolved' : 'open',
    })),
  }
}
